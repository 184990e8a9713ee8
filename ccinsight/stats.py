"""Small statistical helpers shared by several analyses (thin wrappers over statsmodels)."""
from __future__ import annotations

import numpy as np


def wilson(successes, n, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of proportions (statsmodels ``proportion_confint``)."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(np.asarray(successes), np.asarray(n), alpha=alpha, method="wilson")
    return np.asarray(low), np.asarray(high)
