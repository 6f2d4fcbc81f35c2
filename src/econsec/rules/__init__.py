"""Control rules as dated data: periods in force, citations, and the loaders of
the rule files in ``rules/data/`` (ownership rules today; the control rules
engine of the next issue reuses :mod:`econsec.rules.dated`)."""

from econsec.rules.dated import DatedError, Period, PeriodStatus, Timeline

__all__ = ["DatedError", "Period", "PeriodStatus", "Timeline"]
