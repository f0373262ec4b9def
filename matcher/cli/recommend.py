"""``matcher recommend BRN``: partners for a lead (or leads for a partner), with reasons.

The engine (scikit-learn and friends) is imported when a command runs, so that every
other ``matcher`` command starts fast.
"""

import json
import unicodedata

import click

from .. import db


@click.command("recommend")
@click.argument("brn")
@click.option("--track", "-t", default=None, help="Track key (innovation, materials, convergence, construction, value).")
@click.option("-k", default=10, show_default=True, type=click.IntRange(min=1), help="How many to recommend.")
@click.option("--as", "role", type=click.Choice(["lead", "partner"]), default=None,
              help="Recommend partners for BRN as lead, or leads for BRN as partner "
                   "(default: as the firm applied in the round; lead unless it applied only as partner).")
@click.option("--round", "round_name", default=None,
              help="Round name or id (default: the latest round in which BRN applied, else the latest).")
@click.option("--region", multiple=True, help="Only firms in this 시도: 서울, 서울특별시, Seoul or 11 (repeatable).")
@click.option("--size", "size_class", multiple=True,
              help="Only firms of this size class: 소기업 or small firm, … (repeatable).")
@click.option("--certificate", multiple=True,
              help="Only firms holding this certificate: patent, 특허, 직접생산확인, … (repeatable).")
@click.option("--applicants-only", is_flag=True,
              help="Only firms that applied in the round (default: the whole directory of the track).")
@click.option("--product", default="", help="The product (10 or 16 digits) a lead means to apply for.")
@click.option("--lang", type=click.Choice(["ko", "en"]), default="ko", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--database-url", envvar="DATABASE_URL")
def recommend_command(brn, track, k, role, round_name, region, size_class, certificate, applicants_only, product,
                      lang, as_json, database_url):
    """Recommend partners for the firm BRN (사업자등록번호) from every firm that could partner in the
    track, or with --as partner the SMEs it should invite; round applicants are marked."""
    from .. import directory
    filters = {"region": list(region), "size_class": list(size_class), "certificate": list(certificate)}
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        result = directory.recommend(session, brn, track=track, k=k,
                                     as_partner=None if role is None else role == "partner", filters=filters,
                                     round_name=round_name, applicants_only=applicants_only, product=product)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        click.echo(render_table(result, lang))


def render_table(result, lang="ko"):
    """The result of :func:`matcher.directory.recommend` as a readable text table."""
    firm = result["firm"]
    role = {"lead": ("주관기업", "lead"), "partner": ("협력기업", "partner")}[result["role"]]
    lines = [f"{firm['name']} ({firm['brn']}, {firm['size_class']}, {firm['region']}) "
             f"as {role[0] if lang == 'ko' else role[1]} — {result['track_name']}"
             f" — round {result['round'] or '-'} ({result['on']}), pool {result['pool_size']}"
             f" ({result['applicants']} applied)"]
    for reason in result["reasons"]:
        lines.append(f"  not eligible: {reason[lang]}")
    note = result.get(f"note_{lang}")
    if note:
        lines.append(f"  {note}")
    if not result["recommendations"]:
        empty = result.get("empty_reason")
        lines.append("  (no eligible firm found)" if lang == "en" else "  (조건에 맞는 기업 없음)")
        if empty:
            lines.append(f"  {empty[lang]}")
            for item in empty.get("widen", []):
                lines.append(f"    → {item[lang]}")
        return "\n".join(lines)
    applied = "applied" if lang == "en" else "신청"
    lines.append(f"{'#':>3}  {_cell('name', 24)} {_cell('size', 8)} {_cell('region', 6)} {'score':>6}  "
                 f"{_cell(applied, 6)} reasons")
    for rec in result["recommendations"]:
        reasons = "; ".join(rec["explanation"][f"reasons_{lang}"])
        mark = "✓" if rec.get("applied") else ""
        lines.append(f"{rec['rank']:>3}  {_cell(rec['name'], 24)} {_cell(rec['size_class'], 8)} "
                     f"{_cell(rec['region'], 6)} {rec['score']:>6.3f}  {_cell(mark, 6)} {reasons}")
    return "\n".join(lines)


def _cell(text, width):
    """``text`` cut and padded to ``width`` terminal columns (Hangul takes two)."""
    out, used = "", 0
    for ch in str(text):
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width:
            break
        out, used = out + ch, used + w
    return out + " " * (width - used)


@click.command("evaluate")
@click.option("-k", default=10, show_default=True)
@click.option("--pairs", type=click.Path(exists=True, dir_okay=False), default=None,
              help="known_pairs.csv (lead_brn, partner_brn, track, split); default: the demo round's.")
@click.option("--round", "round_name", default=None, help="Round name or id (default: the latest).")
@click.option("--model", "model", default=None,
              help="A learned scoring model's version: hand weights against it on held-out rounds or folds.")
@click.option("--rounds", "rounds", multiple=True, help="With --model: the rounds to judge on (repeat).")
@click.option("--use", "use_it", is_flag=True, help="With --model: switch the runs to it if it is better beyond noise.")
@click.option("--database-url", envvar="DATABASE_URL")
def evaluate_command(k, pairs, round_name, model, rounds, use_it, database_url):
    """Precision/recall/NDCG@k of the rankings on the held-out known pairs (char vs kiwi text), or with
    --model, hand weights against a learned model on staff decisions (P@1, NDCG@1, AUC with 95 % intervals)."""
    if model:
        from .learning import evaluate_model_command
        return evaluate_model_command(model, rounds, use_it, database_url)
    from ..demo import DEMO_DIR
    from ..evaluation import compare_text_methods, format_rows, read_known_pairs
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        rows = compare_text_methods(session, read_known_pairs(pairs or DEMO_DIR / "known_pairs.csv"), k, round_name)
    click.echo(format_rows(rows, k))


@click.group("index")
def index_group():
    """The directory's search index (fitted text model and every firm's vectors, stored in the database)."""


@index_group.command("build")
@click.option("--database-url", envvar="DATABASE_URL")
def index_build(database_url):
    """Fit the text model on every firm and application and store the index (replaces the old one)."""
    from .. import directory
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        index, seconds = directory.build_and_save(session)
    click.echo(f"index built: {index.n_firms} firms, {len(index.app_id)} applications, "
               f"{index.firm_docs.x.shape[1]} terms ({index.method}), {seconds:.1f} s; version {index.version}")


@index_group.command("status")
@click.option("--database-url", envvar="DATABASE_URL")
def index_status(database_url):
    """Whether the stored index is in step with the data (it is brought up to date on the next search)."""
    from .. import directory
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        info, version = directory.stored_info(session), directory.data_version(session)
    if info is None:
        click.echo("no index stored (built on the first search, or with: matcher index build)")
        return
    state = "up to date" if info.version == version else "stale (updated on the next search)"
    click.echo(f"index {info.id}: {info.firms} firms, {info.applications} applications, {info.size_bytes:,} bytes, "
               f"built {info.built_at:%Y-%m-%d %H:%M} ({info.fitted}, {info.seconds:.1f} s) — {state}")


COMMANDS = [recommend_command, evaluate_command, index_group]
