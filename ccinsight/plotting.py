"""One look for every figure: palette, fonts and context, set once per notebook."""
from __future__ import annotations

import matplotlib
import numpy as np

#: Categorical palette shared by every notebook and the deck (colour-blind safe).
PALETTE = "colorblind"


def set_theme(context: str = "notebook") -> None:
    """Apply the ccinsight look (seaborn theme) for ``context``: notebook, paper or talk."""
    import seaborn as sns

    sns.set_theme(context=context, style="whitegrid", palette=PALETTE,
                  rc={"figure.figsize": (8, 4), "figure.dpi": 100, "axes.titlesize": "medium",
                      "axes.titleweight": "bold", "savefig.bbox": "tight"})
    matplotlib.rcParams["axes.spines.right"] = False
    matplotlib.rcParams["axes.spines.top"] = False


def new_axes(ax=None, **subplot_kw):
    """Return ``ax`` or a fresh Axes (seaborn's axes-level contract)."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    _, ax = plt.subplots(**subplot_kw)
    return ax


def error_extent(value, low, high) -> np.ndarray:
    """Matplotlib's ``xerr`` / ``yerr`` (2 x n distances below and above ``value``) for an
    interval ``low``-``high``. Rounding can put an exact interval's end a hair inside its
    estimate (a Wilson upper bound of 1 - 1e-16 for 9 of 9); matplotlib refuses negative
    distances, so they are clipped at 0. Missing bounds stay missing (no bar)."""
    value, low, high = (np.asarray(x, float) for x in (value, low, high))
    return np.clip(np.vstack([np.atleast_1d(value - low), np.atleast_1d(high - value)]), 0, None)


def percent_axis(axis) -> None:
    """Show a 0-1 share axis (``ax.xaxis`` or ``ax.yaxis``) as percentages, as the text does."""
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))


def plain_log_ticks(axis) -> None:
    """Ticks of a log axis as plain numbers (0.5, 1, 2) instead of powers of ten."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    low, high = sorted(axis.get_view_interval())
    nice = [v for v in (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10, 20, 50) if low <= v <= high]
    if len(nice) < 2:
        nice = sorted({round(low, 2), 1.0, round(high, 2)} - {0.0})
    axis.set_major_locator(FixedLocator(nice))
    axis.set_minor_locator(NullLocator())
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
