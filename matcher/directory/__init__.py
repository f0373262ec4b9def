"""Partner search for SMEs before they apply: the directory of every firm, its index, lookup.

The service functions (session and plain values in, plain dicts out) are in :mod:`.service` and
re-exported here; the web views and ``matcher recommend`` call only these. Below them:
:mod:`.index` (the search index as arrays, pure), :mod:`.store` (storing it in the database),
:mod:`.lookup` (forgiving name and 사업자등록번호 keys), :mod:`.explain_empty` (why a search is empty).
"""

from .service import (NOTE_MAX, Lookup, find_firms, get_firm, list_rounds,
                      round_named,
                      own_application, pair_detail, recommend, recommend_described, region_names,
                      resolve_round, round_applications, rules_and_day, stored_firm, why_not)
from .store import build_and_save, current_index, data_version, store_current, stored_info

__all__ = ["list_rounds", "round_named", "NOTE_MAX", "Lookup", "find_firms", "get_firm",
           "own_application", "pair_detail", "recommend", "recommend_described", "region_names", "resolve_round",
           "round_applications", "rules_and_day", "stored_firm", "why_not", "build_and_save", "current_index", "store_current", "data_version",
           "stored_info"]
