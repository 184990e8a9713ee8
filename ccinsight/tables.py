"""Result tables as a reviewer reads them: an estimate and its 95% interval in one cell
(the column saying so), shares as percentages, durations as m:ss, money with its currency,
p-values as "< 0.001" or two significant figures, readable column names, no index, empty
cells for what was not estimated.

Cells are formatted by :mod:`ccinsight.wording`, the formatter of the sentences, so a
number reads the same in a table as in the text around it. The analyses keep their
numeric frames (``summary()``, ``findings()``); only what readers see goes through here.
"""
from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ccinsight import wording

#: How a header or a sentence says which interval it shows: "95% CI", "90% interval".
LABELLED = re.compile(r"\d+% (CI|interval)")

#: Units a column may have (:data:`ccinsight.wording.FORMATS`); "number" is the default.
UNITS = tuple(wording.FORMATS)


def cell(x: Any, unit: str = "number", decimals: int = 2, currency: str = "") -> str:
    """One value as text: '' for missing; dates, yes/no and text as they are; numbers by ``unit``."""
    if isinstance(x, str):
        return x
    if x is None or (pd.api.types.is_scalar(x) and pd.isna(x)):
        return ""
    if isinstance(x, pd.Timestamp):
        return f"{x:%Y-%m-%d}" if x == x.normalize() else f"{x:%Y-%m-%d %H:%M}"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, dt.date):
        return x.isoformat()
    if not isinstance(x, (int, float, np.number)):
        return str(x)
    if isinstance(x, (float, np.floating)) and not np.isfinite(x):
        return "∞" if x > 0 else "-∞"
    if unit == "number":
        return wording.count(x) if isinstance(x, (int, np.integer)) else wording.number(x, decimals)
    if unit == "p":
        return wording.p_number(x)
    if unit == "money":
        return wording.money(x, currency)
    if unit == "days":
        return f"{float(x):,.0f}"
    if unit not in wording.FORMATS:
        raise ValueError(f"unknown unit {unit!r}; units: {', '.join(UNITS)}")
    return wording.FORMATS[unit](x)


def interval_text(est: Any, low: Any, high: Any, unit: str = "number", decimals: int = 2, currency: str = "") -> str:
    """'4.9% (3.5% to 6.9%)' for a column headed as a 95% interval; the estimate alone
    where no interval was estimated."""
    text = cell(est, unit, decimals, currency)
    lo, hi = cell(low, unit, decimals, currency), cell(high, unit, decimals, currency)
    return f"{text} ({lo} to {hi})" if text and lo and hi else text


def reviewer_html(frame: pd.DataFrame, *, units: Mapping[str, str] | None = None,
                  intervals: Mapping[str, tuple[str, str]] | None = None, labels: Mapping[str, str] | None = None,
                  decimals: int = 2, currency: str = "") -> str:
    """HTML table: columns formatted by their ``units`` (default "number"); each ``intervals``
    estimate merged with its (low, high) columns, its header saying "(95% CI)"; columns
    renamed by ``labels`` (else underscores read as spaces); columns starting with "_" left out."""
    units, intervals, labels = dict(units or {}), dict(intervals or {}), dict(labels or {})
    bounds = {c for pair in intervals.values() for c in pair}
    out = {}
    for col in frame.columns:
        if col in bounds or str(col).startswith("_"):
            continue
        unit = units.get(col, "number")
        name = labels.get(col, str(col).replace("_", " "))
        if col in intervals:
            low, high = intervals[col]
            values = [interval_text(e, lo, hi, unit, decimals, currency)
                      for e, lo, hi in zip(frame[col], frame[low], frame[high])]
            name = name if LABELLED.search(name) else f"{name} (95% CI)"
        else:
            values = [cell(v, unit, decimals, currency) for v in frame[col].astype(object)]
        out[name] = values
    return pd.DataFrame(out).to_html(index=False)


def shown(frame: pd.DataFrame, caption: str = "", empty: str = "", **kw):
    """:func:`reviewer_html` for a notebook cell (an IPython HTML object), with a caption
    above; ``empty``, when given, is said instead of an empty table."""
    from IPython.display import HTML

    if empty and frame.empty:
        return HTML(f"<p>{html.escape(empty, quote=False)}</p>")
    return HTML((f"<p>{html.escape(caption)}</p>" if caption else "") + reviewer_html(frame, **kw))
