"""One notion of the analysis period: months, the latest complete month, ``as_of``,
analysis windows, and what the data showed at a period's end.

Every analysis runs for one calendar month ``M`` and sees the data as it stood at the end
of ``M`` (:func:`as_observed`): hires after it do not exist, exits and certification
results after it have not happened yet, training results, performance months and calls
after it are invisible. A deck for a past month therefore says what could have been said
then, and cutting the data at ``M`` changes none of its numbers.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ccinsight.errors import ParameterError

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def parse_month(value: Any, where: str = "month") -> pd.Period:
    """``YYYY-MM`` text -> a monthly Period; anything else is a ParameterError."""
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    if not isinstance(value, str) or not _MONTH.fullmatch(value):
        raise ParameterError(f"{where}: month {value!r} is not a month; write it as YYYY-MM, e.g. 2026-10.")
    return pd.Period(value, freq="M")


def parse_months(spec: str, where: str = "--months") -> tuple[pd.Period, ...]:
    """``2025-01:2025-12`` (inclusive) or a single ``2025-01``."""
    first, sep, last = spec.partition(":")
    start = parse_month(first, where)
    end = parse_month(last, where) if sep else start
    if end < start:
        raise ParameterError(f"{where}: {spec} ends before it starts.")
    return tuple(pd.period_range(start, end, freq="M"))


def month_end(month: pd.Period) -> pd.Timestamp:
    """The last day of ``month`` (midnight): the ``as_of`` date of an analysis of it."""
    return month.end_time.normalize()


def latest_complete_month(last_day: pd.Timestamp) -> pd.Period:
    """The latest calendar month that ends on or before ``last_day``."""
    return (pd.Timestamp(last_day) + pd.Timedelta(days=1)).to_period("M") - 1


def window_start(as_of: pd.Timestamp, window_months: int) -> pd.Timestamp:
    """First day of the ``window_months`` calendar months ending with ``as_of``'s month."""
    return (pd.Timestamp(as_of).to_period("M") - (window_months - 1)).start_time


def months_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """Whole calendar months from ``earlier``'s month to ``later``'s month."""
    return (later.dt.year - earlier.dt.year) * 12 + (later.dt.month - earlier.dt.month)


# --------------------------------------------------------------------------- the data at a date
def as_observed(tables: Mapping[str, pd.DataFrame], as_of: pd.Timestamp) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The contract tables as they stood at the end of the day ``as_of``.

    - ``agents``: hires after ``as_of`` are removed; an exit after it is not known yet
      (exit date and type blanked); a certification result after it is not known yet
      (certified and certification date blanked);
    - ``training``: results of training that ended after ``as_of`` are removed;
    - ``performance``: months after ``as_of``'s month are removed;
    - ``outbound_calls``: calls started after ``as_of`` are removed;
    - ``queue_intervals``: intervals starting after ``as_of`` are removed;
    - ``channels``: unchanged (costs are not dated).

    Returns the tables (inputs are not modified) and one note per table that lost rows.
    """
    as_of = pd.Timestamp(as_of).normalize()
    next_day = as_of + pd.Timedelta(days=1)
    out: dict[str, pd.DataFrame] = {}
    notes: list[str] = []

    def keep(name: str, df: pd.DataFrame, later: pd.Series, what: str) -> pd.DataFrame:
        later = later.fillna(False).astype(bool)
        if later.any():
            notes.append(f"{name}: {int(later.sum()):,} {what} after {as_of.date()} left out (not known by then).")
            out = df.take(np.flatnonzero(~later.to_numpy()))  # a new frame (copied once, not twice)
            out.index = pd.RangeIndex(len(out))
            return out
        return df

    for name, df in tables.items():
        if name == "agents":
            kept = keep(name, df, df["hire_date"] >= next_day, "hire(s)")
            df = kept.copy() if kept is df else kept  # blanked below: never the caller's frame
            if "exit_date" in df:
                future = (df["exit_date"] >= next_day).fillna(False).to_numpy()
                df.loc[future, "exit_date"] = pd.NaT
                if "exit_type" in df:
                    df.loc[future, "exit_type"] = None
            if "certification_date" in df:
                future = (df["certification_date"] >= next_day).fillna(False).to_numpy()
                df.loc[future, "certification_date"] = pd.NaT
                if "certified" in df:
                    df.loc[future, "certified"] = pd.NA
        elif name == "training":
            df = keep(name, df, df["training_end_date"] >= next_day, "training result(s)")
        elif name == "performance":
            df = keep(name, df, df["month"].dt.to_period("M") > as_of.to_period("M"), "agent-month(s)")
        elif name == "outbound_calls":
            df = keep(name, df, df["started_at"] >= next_day, "call(s)")
        elif name == "queue_intervals":
            df = keep(name, df, df["interval_start"] >= next_day, "queue interval(s)")
        out[name] = df
    return out, notes
