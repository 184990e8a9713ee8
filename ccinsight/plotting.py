"""One look for every figure: palette, fonts and context, set once per notebook."""
from __future__ import annotations

import matplotlib

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
