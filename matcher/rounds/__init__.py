"""The round service: every use case of an intake round that touches the database.

Each function takes a SQLAlchemy session and plain values, checks the program's rules, works in
the caller's transaction and returns plain results or raises a :class:`~matcher.errors.MatcherError`
(with its Korean text). The web views and the CLI both call these, so both refuse the same
things in the same words; the algorithms below (:mod:`matcher.matching`, :mod:`matcher.conflicts`)
never see a session.

- :mod:`.records` — create, rename, open/close tracks, find a round; the name rule
- :mod:`.pools` — a round's applications per track and side, its current decisions
- :mod:`.decisions` — approve/reject/lock/forbid/clear, bulk, history, the pair checks
- :mod:`.runs` — run parameters, conflicts, solve and store a run, read its proposals
- :mod:`.jobs` — background runs in the database: progress, heartbeat, cancel, retry
- :mod:`.overview` — where each track of a round stands
- :mod:`.access` — firms' access codes: issue (application receipts), revoke, sign in
- :mod:`.interest` — interest both ways, the inbox, mutual interest, contacts shown after it
- :mod:`.profiles` — a firm edits its own profile and contact person
- :mod:`.stages` — the selection stages, the quota, 상생협력제품 records
- :mod:`.publication` — publishing results, what a firm sees, the results export, the funnel
"""

from .activity import audit_entries, import_file
from . import access, interest, profiles, publication, stages
from .interest import list_interests
from .decisions import (KINDS, decide, decide_many, decision_history, decisions_by_pair, ineligibility,
                        list_decisions, pair_problem)
from .jobs import cancel_job, get_job, jobs_for_round, retry_job, submit_import, submit_match, work
from .overview import round_overview, round_summary
from .pools import current_decisions, round_input, round_pools
from .records import (check_name, create_round, find_round, get_round, list_rounds, rename_round,
                      set_tracks, application_counts)
from . import decisions, runs
from .runs import (check_run_params, conflicts_of, export_run, firm_sizes, log_export, get_run, list_runs, listing, proposal_count, proposal_rows, run_match,
                   store_run, decisions_since)

__all__ = [
    "access", "interest", "profiles", "publication", "stages", "audit_entries", "decisions", "export_run", "firm_sizes", "log_export", "runs", "import_file", "list_interests",
    "KINDS", "application_counts", "cancel_job", "check_name", "check_run_params", "conflicts_of",
    "create_round", "current_decisions", "decide", "decide_many", "decision_history", "decisions_by_pair",
    "decisions_since", "find_round", "get_job", "get_round", "get_run", "ineligibility", "jobs_for_round",
    "list_decisions", "list_rounds", "list_runs", "listing", "pair_problem", "proposal_count", "proposal_rows", "rename_round",
    "retry_job", "round_input", "round_overview", "round_pools", "round_summary", "run_match", "set_tracks", "store_run",
    "submit_import", "submit_match", "work",
]
