"""Errors meant for people.

Anything raised as a :class:`CCInsightError` is printed by the CLI as its message
alone (exit code 2, no traceback unless ``--debug``). The message names the file,
table, column, how many rows and a few example values.
"""
from __future__ import annotations


class CCInsightError(Exception):
    """A problem the user can fix: bad data, bad parameters, a missing file."""

    exit_code = 2


class DataError(CCInsightError):
    """Input data that breaks the data contract or cannot be read."""


class ParameterError(CCInsightError):
    """A parameter or params file that is unknown, mistyped or out of range."""


class OutputError(CCInsightError):
    """Outputs could not be written (disk full, no permission); nothing half-written is left."""


class NotebookFailed(Exception):
    """A notebook cell raised; the executed notebook keeps the error visible."""

    exit_code = 1


def excerpt(value, limit: int = 60) -> str:
    """A value for a message: its repr, cut to ``limit`` characters (a params value can be huge)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def examples(values, limit: int = 5) -> str:
    """Format up to ``limit`` distinct example values for an error message."""
    seen: list[str] = []
    for v in values:
        s = repr(v) if isinstance(v, str) else str(v)
        if s not in seen:
            seen.append(s)
        if len(seen) == limit:
            break
    return ", ".join(seen)
