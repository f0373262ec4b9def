"""The constrained assignment solver: leads, partners with minimums and maximums, scored pairs.

``solve`` is the engine entry point (plain ids and scores in, :class:`Solution` out);
``read_instance`` reads and validates the plain-file interface of ``matcher solve``.
"""

from .check import check_feasible
from .files import Instance, read_instance, write_pairs
from .instance import Solution, solve

__all__ = ["Instance", "Solution", "check_feasible", "read_instance", "solve", "write_pairs"]
