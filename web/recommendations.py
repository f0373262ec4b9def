"""Kept for the workbench's import of :func:`round_rules_and_day`; the SME side lives in :mod:`matcher.directory`."""

from matcher.directory import rules_and_day as round_rules_and_day

__all__ = ["round_rules_and_day"]
