"""Nothing personal in reviewer-facing outputs: one home for small-cell rules.

Every analysis that shows groups (channels, sites, script versions, talk-time bins,
hours) passes them through these helpers, so the rule is the same everywhere:

- :func:`pool_small` relabels groups with fewer than ``min_cell_size`` members as
  ``other`` before anything is estimated (used where the small groups still belong in
  the analysis, e.g. hiring channels);
- :func:`suppress_small` drops rows of an aggregate whose count is under the size, and
  says how many units it dropped (used for tables and figures of counts).

The default size is :data:`ccinsight.config.MIN_CELL_SIZE` (5); notebooks take it as the
``min_cell_size`` parameter and the deck passes one value to all of them.
"""
from __future__ import annotations

import pandas as pd

from ccinsight.config import MIN_CELL_SIZE

OTHER = "other"


def pool_small(labels: pd.Series, min_cell_size: int = MIN_CELL_SIZE, other: str = OTHER
               ) -> tuple[pd.Series, list[str]]:
    """Relabel groups smaller than ``min_cell_size`` as ``other`` so nobody can be singled out.

    Returns the new labels and the pooled group names. ``other`` itself can stay smaller
    than the size; :func:`suppress_small` then removes it from what is shown.
    """
    counts = labels.value_counts()
    small = sorted(str(g) for g in counts[counts < min_cell_size].index if str(g) != other)
    return labels.where(~labels.astype(str).isin(small), other), small


def suppress_small(frame: pd.DataFrame, count: str = "n", min_cell_size: int = MIN_CELL_SIZE
                   ) -> tuple[pd.DataFrame, int]:
    """Rows of ``frame`` whose ``count`` is at least ``min_cell_size``, and the units dropped."""
    small = frame[count] < min_cell_size
    return frame[~small].reset_index(drop=True), int(frame.loc[small, count].sum())
