"""Small statistical helpers shared by several analyses and the deck (thin wrappers over
statsmodels and scipy)."""
from __future__ import annotations

import numpy as np


def wilson(successes, n, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of proportions (statsmodels ``proportion_confint``)."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(np.asarray(successes), np.asarray(n), alpha=alpha, method="wilson")
    return np.asarray(low), np.asarray(high)


def mover_difference(a: float, a_low: float, a_high: float, b: float, b_low: float, b_high: float
                     ) -> tuple[float, float, float]:
    """``a - b`` with a MOVER interval (Zou & Donner 2008; Newcombe's method for two
    proportions) built from each estimate's own (possibly asymmetric) interval.

    Used where two independently estimated quantities are compared: 90-day survival of two
    groups, a metric this month against last month.
    """
    d = a - b
    return d, d - float(np.hypot(a - a_low, b_high - b)), d + float(np.hypot(a_high - a, b - b_low))


def mean_interval(values, alpha: float = 0.05) -> tuple[float, float, float]:
    """Mean with its t interval (scipy); no interval for fewer than two values."""
    import pandas as pd
    from scipy import stats

    v = pd.Series(values).dropna()
    if len(v) < 2:
        return (float(v.mean()) if len(v) else np.nan), np.nan, np.nan
    low, high = stats.t.interval(1 - alpha, len(v) - 1, loc=float(v.mean()), scale=float(stats.sem(v)))
    return float(v.mean()), float(low), float(high)
