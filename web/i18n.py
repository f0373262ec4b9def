"""Korean by default, English by a switch on every page (``?lang=en``, kept in the session).

A plain dictionary of messages, no extra dependency: ``t("search")`` gives the text in the current
language; an unknown key is shown as itself so a missing message is visible, not fatal.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from flask import request, session

from matcher import codes
from matcher.firms import CERTIFICATE_KINDS, SIZE_CLASSES, SIZE_NAMES_EN
from matcher.tracks import load_rules

LANGS = ("ko", "en")

MESSAGES = {
    # layout
    "app_title": ("공공조달 상생협력 파트너 찾기", "Public procurement win-win partner matching"),
    "nav_search": ("파트너 찾기", "Find partners"),
    "nav_describe": ("미등록 기업", "Unregistered firm"),
    "nav_staff": ("심사 업무", "Staff workbench"),
    "nav_rounds": ("회차", "Rounds"),
    "nav_interests": ("매칭 희망", "Interest requests"),
    "nav_audit": ("감사 기록", "Audit log"),
    "login": ("로그인", "Log in"),
    "logout": ("로그아웃", "Log out"),
    "username": ("아이디", "Username"),
    "password": ("비밀번호", "Password"),
    "login_failed": ("아이디 또는 비밀번호가 맞지 않습니다.", "Unknown username or wrong password."),
    "login_required": ("로그인이 필요합니다.", "Please log in."),
    "logged_in_as": ("로그인:", "Logged in as"),
    # SME search
    "search_title": ("내 기업 찾기", "Find my firm"),
    "search_hint": ("사업자등록번호 또는 기업명", "사업자등록번호 (business registration number) or firm name"),
    "search": ("검색", "Search"),
    "no_firms": ("찾는 기업이 없습니다.", "No firm found."),
    "brn": ("사업자등록번호", "Business reg. no."),
    "name": ("기업명", "Firm name"),
    "size": ("기업 규모", "Size class"),
    "region": ("지역", "Region"),
    "founded": ("설립일", "Founded"),
    "ksic": ("KSIC 업종", "KSIC industry"),
    "g2b": ("G2B 물품분류", "G2B product codes"),
    "description": ("제품·기술 설명", "Products and technology"),
    "certificates": ("인증", "Certificates"),
    "licences": ("건설업 면허", "Construction licences"),
    "valid_to": ("유효기간", "Valid until"),
    "track": ("과제", "Track"),
    "round": ("회차", "Round"),
    "any": ("전체", "Any"),
    "certificate": ("인증", "Certificate"),
    "apply_filters": ("적용", "Apply"),
    "recommend": ("추천 파트너 보기", "Show recommended partners"),
    "partners_for": ("추천 협력기업", "Recommended partners"),
    "leads_for": ("추천 주관기업", "Recommended leads"),
    "legend": ("막대 색:", "Bar colours:"),
    "as_partner": ("협력기업으로서 주관기업 찾기", "Find leads (I am a partner)"),
    "rank": ("순위", "Rank"),
    "score": ("점수", "Score"),
    "reasons": ("추천 이유", "Why"),
    "self_not_eligible": ("이 기업은 이 과제에 이 역할로 참여할 수 없습니다:",
                          "This firm may not take this role in this track:"),
    "no_recommendations": ("조건에 맞는 파트너가 없습니다.", "No eligible partner matches."),
    "details": ("상세", "Details"),
    "why_not": ("이 기업은 왜 안 되나요?", "Why not this firm?"),
    "why_not_title": ("참여 가능 여부", "Eligibility check"),
    "other_brn": ("상대 기업 사업자등록번호 또는 기업명", "Other firm's business reg. no. or name"),
    "check": ("확인", "Check"),
    "eligible": ("이 짝은 참여 조건을 모두 충족합니다.", "This pair meets every eligibility rule."),
    "not_eligible": ("참여할 수 없는 이유", "Why this pair is not eligible"),
    "interest": ("매칭 희망 보내기", "Express interest"),
    "interest_sent": ("매칭 희망을 보냈습니다. 담당자가 확인합니다.",
                      "Interest sent; program staff will see it."),
    "note": ("메모", "Note"),
    "interest_refused": ("매칭 희망을 보내지 않았습니다", "Interest not sent"),
    "describe_title": ("미등록 기업으로 찾기", "Describe a firm that is not registered"),
    "describe_hint": ("입력한 정보는 저장되지 않고 추천에만 쓰입니다.",
                      "What you enter is only used to score partners; nothing is stored."),
    "form_has_errors": ("입력에 고칠 곳이 있습니다. 아래 표시를 확인하세요.",
                        "Some fields need fixing; see the notes below."),
    "codes_hint": ("쉼표로 구분", "comma-separated"),
    "product": ("신청 물품 (세부품명번호 10자리 또는 물품목록번호 16자리)",
                "Product applied for (10-digit 세부품명번호 or 16-digit 물품목록번호)"),
    "partner_detail": ("협력기업 정보", "Partner details"),
    "lead_detail": ("주관기업 정보", "Lead details"),
    "not_in_pool": ("이 기업은 이 회차·과제의 신청 기업이 아니어서 점수를 매기지 않았습니다.",
                    "This firm did not apply in this round and track, so it is not scored."),
    "components": ("점수 구성", "Score components"),
    "weight": ("가중치", "Weight"),
    "value": ("값", "Value"),
    "contribution": ("기여", "Contribution"),
    # staff
    "rounds": ("회차 목록", "Rounds"),
    "create_round": ("회차 만들기", "Create a round"),
    "reference_date": ("기준일", "Reference date"),
    "open_tracks": ("열린 과제", "Open tracks"),
    "applications": ("신청", "Applications"),
    "leads": ("주관기업", "Leads"),
    "partners": ("협력기업", "Partners"),
    "save": ("저장", "Save"),
    "create": ("만들기", "Create"),
    "round_created": ("회차를 만들었습니다.", "Round created."),
    "round_exists": ("같은 이름의 회차가 이미 있습니다.", "A round with this name already exists."),
    "tracks_saved": ("과제 설정을 저장했습니다.", "Track settings saved."),
    "upload_firms": ("기업 정보 올리기 (CSV/XLSX)", "Upload firms (CSV/XLSX)"),
    "upload_applications": ("신청서 올리기 (CSV/XLSX)", "Upload applications (CSV/XLSX)"),
    "upload": ("올리기", "Upload"),
    "upload_ok": ("가져왔습니다", "Imported"),
    "repaired": ("자동 수정", "Repaired"),
    "upload_refused": ("파일에 문제가 있어 아무것도 저장하지 않았습니다.",
                       "The file has problems; nothing was stored."),
    "no_file": ("파일을 고르세요.", "Choose a file."),
    "row": ("행", "Row"),
    "column": ("열", "Column"),
    "problem": ("문제", "Problem"),
    "run_matching": ("일괄 매칭 실행", "Run batch matching"),
    "mode": ("방식", "Mode"),
    "mode_optimal": ("최적화", "Optimal"),
    "mode_stable": ("안정 매칭 (지연 수락)", "Stable (deferred acceptance)"),
    "time_limit": ("시간 제한(초)", "Time limit (s)"),
    "all_tracks": ("모든 열린 과제", "All open tracks"),
    "progress": ("진행 상황", "Progress"),
    "runs": ("실행 기록", "Runs"),
    "status": ("상태", "Status"),
    "objective": ("목적값", "Objective"),
    "bound": ("상한", "Bound"),
    "gap": ("격차", "Gap"),
    "seconds": ("시간(초)", "Time (s)"),
    "created": ("생성", "Created"),
    "by": ("실행자", "By"),
    "proposals": ("제안된 짝", "Proposed pairs"),
    "lead": ("주관기업", "Lead"),
    "partner": ("협력기업", "Partner"),
    "decision": ("결정", "Decision"),
    "decide": ("결정하기", "Decide"),
    "approve": ("승인", "Approve"),
    "reject": ("반려", "Reject"),
    "lock": ("고정", "Lock"),
    "forbid": ("금지", "Forbid"),
    "decided": ("결정을 저장했습니다. 다시 풀어도 유지됩니다.", "Decision saved; it is kept when re-solving."),
    "resolve": ("결정을 유지하고 다시 풀기", "Re-solve keeping decisions"),
    "filter": ("필터", "Filter"),
    "status_proposed": ("제안", "proposed"),
    "status_approved": ("승인됨", "approved"),
    "status_rejected": ("반려됨", "rejected"),
    "diagnostics": ("진단", "Diagnostics"),
    "unused_partners": ("쓰이지 않은 대·중견 협력기업", "Unused large partners"),
    "blocking_pairs": ("불안정 쌍", "Blocking pairs"),
    "blocking_pairs_hint": ("서로 지금 짝보다 상대를 더 원하는 주관·협력기업 쌍의 수 (0이면 안정 매칭)",
                            "lead–partner pairs who would both rather have each other than their match (0 = stable)"),
    "unmatched_leads": ("짝을 못 찾은 주관기업", "Unmatched leads"),
    "pictures": ("그림", "Pictures"),
    "graph": ("짝 그래프", "Pairing graph"),
    "graph_legend": ("왼쪽: 협력기업, 오른쪽: 주관기업. 빨간 테두리: 최소 짝 수 미달 대·중견 협력기업.",
                     "Left: partners, right: their SMEs. Red outline: large partner below its minimum."),
    "load_chart": ("협력기업별 짝 수", "Leads per partner"),
    "histogram": ("점수 분포", "Score distribution"),
    "export": ("내보내기", "Export"),
    "interests": ("매칭 희망 목록", "Interest requests"),
    "no_interests": ("아직 매칭 희망이 없습니다.", "No interest requests yet."),
    "audit": ("감사 기록", "Audit log"),
    "when": ("시각", "When"),
    "who": ("누가", "Who"),
    "action": ("작업", "Action"),
    "detail": ("내용", "Detail"),
    "none": ("없음", "None"),
    "open": ("열림", "open"),
    "closed": ("닫힘", "closed"),
    "view": ("보기", "View"),
    "job_running": ("실행 중…", "Running…"),
    "job_done": ("완료", "Done"),
    "job_failed": ("실패", "Failed"),
    "open_run": ("결과 보기", "Open the result"),
    # errors
    "error_400": ("잘못된 요청입니다.", "Bad request."),
    "error_401": ("로그인이 필요합니다.", "Login required."),
    "error_403": ("권한이 없습니다.", "You are not allowed to do this."),
    "error_404": ("찾을 수 없습니다.", "Not found."),
    "error_413": ("파일이 너무 큽니다 (최대 10 MB).", "The file is too large (10 MB at most)."),
    "error_500": ("서버 오류가 났습니다. 다시 시도해 주세요.", "Server error; please try again."),
    "home": ("처음으로", "Home"),
    # track rules
    "nav_tracks": ("과제별 조건", "Track rules"),
    "track_rules": ("과제별 참여 조건", "Who may take part in each track"),
    "track_rules_hint": ("회차별로 담당자가 조건을 바꿀 수 있습니다. 인증은 회차 기준일에 유효해야 합니다.",
                         "Staff may change these per round; certificates must be valid on the round's reference date."),
    "lead_cond_startup": ("창업기업(7년 미만)", "a startup (under 7 years)"),
    "lead_cond_small": ("소기업·소상공인", "a small or micro firm"),
    "lead_cond_sme": ("중소기업", "an SME"),
    "or": ("또는", "or"),
    "needs_licence": ("종합·전문 건설업 면허 필요", "needs a general or specialty construction licence"),
    "partner_must_hold": ("협력기업 필요 인증", "Partner must hold"),
    "covers_product": ("신청 물품에 해당하는 것", "covering the product applied for"),
    "structure": ("짝 구조", "Pairing structure"),
    "leads_per_partner": ("곳의 주관기업과 협약", "leads per partner"),
}


def current_lang():
    """``ko`` or ``en``: the language kept in the session (Korean by default)."""
    return session.get("lang", "ko")


def t(key, default=None):
    """The message ``key`` in the current language (``default``, else the key itself, when unknown)."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key if default is None else default
    return pair[0] if current_lang() == "ko" else pair[1]


def bilingual(ko, en):
    """Pick ``ko`` or ``en`` for the current language."""
    return ko if current_lang() == "ko" else en


def track_name(key):
    """A track's name in the current language, with the other language beside it."""
    rule = _rules().get(key)
    if rule is None:
        return key or ""
    return f"{rule.name_ko} ({rule.name_en})" if current_lang() == "en" else rule.name_ko


def size_name(size):
    """A size class: Korean, or English with the Korean term beside it."""
    return size if current_lang() == "ko" else f"{SIZE_NAMES_EN.get(size, size)} ({size})"


def region_name(short):
    """A 시도 by its short name: Korean, or English with the Korean beside it."""
    region = _regions().get(short)
    if region is None or current_lang() == "ko":
        return short or ""
    return f"{region.name_en} ({short})"


@lru_cache(maxsize=1)
def _regions():
    return codes.regions()


def ordered_sizes(sizes):
    """``sizes`` smallest first (as :data:`matcher.firms.SIZE_CLASSES`)."""
    return [s for s in SIZE_CLASSES if s in sizes]


def certificate_name(kind):
    """A certificate kind in the current language."""
    ko, en = CERTIFICATE_KINDS.get(kind, (kind, kind))
    return ko if current_lang() == "ko" else en


def reason_text(reason):
    """A :class:`~matcher.tracks.Reason` or a ``{"ko", "en"}`` dict, in the current language."""
    if isinstance(reason, dict):
        return reason.get(current_lang()) or reason.get("en") or reason.get("ko") or ""
    if isinstance(reason, str):
        return reason
    return reason.text(current_lang())


def lang_url(code):
    """The current URL with ``lang=code``."""
    args = request.args.to_dict()
    args["lang"] = code
    return request.path + "?" + "&".join(f"{k}={_quote(v)}" for k, v in args.items())


def _quote(value):
    return quote(str(value), safe="")


_RULES = {}


def _rules():
    if not _RULES:
        _RULES.update(load_rules())
    return _RULES


def _switch_language():
    code = request.args.get("lang")
    if code in LANGS:
        session["lang"] = code


def _context():
    return dict(_=t, lang=current_lang(), track_name=track_name, size_name=size_name,
                certificate_name=certificate_name, reason_text=reason_text, lang_url=lang_url,
                bilingual=bilingual, ordered_sizes=ordered_sizes, region_name=region_name)


def init_app(app):
    """Language switch before each request; helpers for templates."""
    app.before_request(_switch_language)
    app.context_processor(_context)
