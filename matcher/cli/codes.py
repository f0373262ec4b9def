"""``matcher codes``: the program's code lists (KSIC, 경쟁제품, G2B 물품분류) as versions with dates."""

from datetime import date
from pathlib import Path

import click

from .. import codelists, db
from ..codelists import kind_name, level_name
from ..errors import InvalidValueError
from ..messages import msg
from ..validate import parse_date
from .options import say


def _date_option(value, option):
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise InvalidValueError(msg("codes.bad_date", option=option, value=value)) from None


@click.group("codes")
def codes_group():
    """The code lists: KSIC (ksic), the 중소기업자간 경쟁제품 (products) and the G2B 물품분류 (g2b)."""


@codes_group.command("load")
@click.argument("kind", type=click.Choice(codelists.KINDS))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from", "valid_from", required=True, metavar="YYYY-MM-DD",
              help="The date the list takes effect (a round judged on or after it uses it).")
@click.option("--to", "valid_to", default=None, metavar="YYYY-MM-DD",
              help="The last day it is designated for, when the source says (shown, not enforced).")
@click.option("--revision", default="", help="What the list is, e.g. 'KSIC 11th revision' (shown by codes list).")
@click.option("--database-url", envvar="DATABASE_URL")
def codes_load(kind, path, valid_from, valid_to, revision, database_url):
    """Read PATH (the official file as published: XLSX, CSV or JSON) and store it as the KIND list."""
    start, end = _date_option(valid_from, "--from"), _date_option(valid_to, "--to")
    table, report = codelists.read_list(kind, path)
    for message in report_messages(report):
        say(message)
    db.init_db(database_url)
    with db.transaction(database_url, immediate=True) as session:
        result = codelists.store_version(session, kind, table, start, source=path.name, revision=revision,
                                         valid_to=end, actor="cli", report=report)
    say(store_message(result))


def report_messages(report):
    """The row report of a read file (:meth:`matcher.codelists.RowReport.messages`)."""
    return report.messages()


def store_message(result):
    v = result.version
    params = dict(kind=kind_name(v.kind), date=v.valid_from, count=v.rows)
    if result.status == "unchanged":
        return msg("codes.unchanged", **params)
    if result.status == "replaced":
        return msg("codes.replaced", old=result.replaced_rows, **params)
    return msg("codes.added", **params)


@codes_group.command("list")
@click.option("--on", "on", default=None, metavar="YYYY-MM-DD", help="Mark the lists in force on this day "
              "(default: today), e.g. a round's reference date.")
@click.option("--database-url", envvar="DATABASE_URL")
def codes_list(on, database_url):
    """Every version of every code list, shipped and loaded, with its dates and counts."""
    day = _date_option(on, "--on") or date.today()
    db.init_db(database_url)
    with db.read_only(database_url) as session:
        lines = codelists.summaries(session, on=day)
    say(msg("codes.list_header", date=day))
    for v in lines:
        say(summary_message(v))


def summary_message(v):
    levels = [msg("codes.level_count_short", level=level_name(v.kind, k), count=n) for k, n in v.levels.items()]
    return msg("codes.list_line", mark="*" if v.in_force else " ", kind=kind_name(v.kind),
               start=v.valid_from if v.valid_from > date(1, 1, 1) else msg("codes.undated"),
               end=v.valid_to or "", count=v.rows, levels=levels,
               origin=msg("codes.shipped") if v.shipped else msg("codes.loaded"), source=v.source)


COMMANDS = [codes_group]
