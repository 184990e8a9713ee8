"""Result tables as a reviewer reads them: an estimate and its interval in one cell,
shares as percentages, readable column names, empty cells for what was not estimated.

The analyses keep their numeric frames (``summary()``, ``findings()``); only the HTML
shown in notebooks goes through here.
"""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd


def number(x, percent: bool = False, decimals: int = 3) -> str:
    """One value as text: '' for missing, '12.3%' for a share, else ``decimals`` places."""
    if x is None or (pd.api.types.is_scalar(x) and pd.isna(x)):
        return ""
    if isinstance(x, pd.Timestamp):
        return f"{x:%Y-%m-%d}" if x == x.normalize() else f"{x:%Y-%m-%d %H:%M}"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            return "∞" if x > 0 else "-∞"
        return f"{100 * x:.1f}%" if percent else f"{x:,.{decimals}f}"
    return str(x)


def p_value(p) -> str:
    """'< 0.001' or two significant figures; '' where no test was run."""
    if p is None or pd.isna(p):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def interval_text(est, low, high, percent: bool = False, decimals: int = 3) -> str:
    """'4.9% (3.5% to 6.9%)'; the interval is left out where it was not estimated."""
    text = number(est, percent, decimals)
    if text and number(low, percent, decimals) and number(high, percent, decimals):
        text += f" ({number(low, percent, decimals)} to {number(high, percent, decimals)})"
    return text


def reviewer_html(frame: pd.DataFrame, *, intervals: Mapping[str, tuple[str, str]] | None = None,
                  percent: Iterable[str] = (), pvalues: Iterable[str] = (), labels: Mapping[str, str] | None = None,
                  decimals: int = 3) -> str:
    """HTML table: each ``intervals`` estimate merged with its (low, high) columns, the
    ``percent`` columns as percentages, ``pvalues`` as p-values, columns renamed by ``labels``."""
    intervals, percent, pvalues, labels = dict(intervals or {}), set(percent), set(pvalues), dict(labels or {})
    bounds = {c for pair in intervals.values() for c in pair}
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        if col in bounds or col.startswith("_"):
            continue
        pct = col in percent
        if col in intervals:
            low, high = intervals[col]
            values = [interval_text(e, lo, hi, pct, decimals)
                      for e, lo, hi in zip(frame[col], frame[low], frame[high])]
        elif col in pvalues:
            values = [p_value(v) for v in frame[col]]
        else:
            values = [number(v, pct, decimals) for v in frame[col].astype(object)]
        out[labels.get(col, col.replace("_", " "))] = values
    return out.to_html(index=False)
