"""One formatter for the numbers people read: counts, shares, durations, money, p-values,
correlations and estimates with their intervals.

Headline sentences (the notebook's narrative and the deck page), result tables and
figure labels all format through here, so "76.5%" and "3:51" read the same everywhere.
"""
from __future__ import annotations

import math
from typing import Any


def missing(x: Any) -> bool:
    """None, NaN or NA: nothing to show."""
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN, pd.NA raises in bool() -> handled below
    except TypeError:
        return True


def count(n: Any) -> str:
    """12,345"""
    return "n/a" if missing(n) else f"{round(float(n)):,}"


def share(x: Any, decimals: int = 1) -> str:
    """0.765 -> '76.5%'"""
    return "n/a" if missing(x) else f"{100 * float(x):.{decimals}f}%"


def points(x: Any, decimals: int = 1) -> str:
    """A difference of shares: 0.032 -> '+3.2 points'"""
    return "n/a" if missing(x) else f"{100 * float(x):+.{decimals}f} points"


def percent_change(x: Any, decimals: int = 1) -> str:
    """A change already in percent: -25.46 -> '-25.5%'"""
    return "n/a" if missing(x) else f"{float(x):+.{decimals}f}%"


def duration(seconds: Any) -> str:
    """231 -> '3:51' (minutes and seconds, as contact centers write handle times); 3725 -> '1:02:05'"""
    if missing(seconds) or not math.isfinite(float(seconds)):
        return "n/a"
    s = int(round(float(seconds)))
    sign, s = ("-", -s) if s < 0 else ("", s)
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    return f"{sign}{h}:{m:02d}:{sec:02d}" if h else f"{sign}{m}:{sec:02d}"


def days(x: Any) -> str:
    """63.0 -> '63 days'"""
    return "n/a" if missing(x) else f"{float(x):,.0f} days"


def money(x: Any, currency: str = "") -> str:
    """1565.2 -> '1,565' (with the currency when known)"""
    if missing(x):
        return "n/a"
    return f"{currency} {float(x):,.0f}".strip()


def r(x: Any) -> str:
    """A correlation: 0.6163 -> '0.62'"""
    return "n/a" if missing(x) else f"{float(x):.2f}"


def number(x: Any, decimals: int = 2) -> str:
    """A plain number: 3.14159 -> '3.14'"""
    return "n/a" if missing(x) else f"{float(x):,.{decimals}f}"


def p_number(p: Any) -> str:
    """A p-value alone, as a table cell shows it: '< 0.001', three decimals below 0.01
    ('0.004'), else two significant figures ('0.012', '0.35'): never more than three decimals."""
    if missing(p):
        return "n/a"
    p = float(p)
    return "< 0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2g}"


def p_value(p: Any) -> str:
    """'p < 0.001' or 'p = 0.012' (two significant figures)"""
    if missing(p):
        return "p n/a"
    text = p_number(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


FORMATS = {"count": count, "share": share, "points": points, "percent": percent_change, "seconds": duration,
           "days": days, "money": money, "r": r, "number": number, "p": p_value}


def estimate(value: Any, low: Any, high: Any, unit: str) -> str:
    """'76.5% (95% CI 75.8% to 77.3%)'; the interval is left out where it was not estimated."""
    fmt = FORMATS.get(unit, number)
    text = fmt(value)
    if not (missing(low) or missing(high)) and not missing(value):
        text += f" (95% CI {fmt(low)} to {fmt(high)})"
    return text
