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

import hashlib
import hmac
import os
import sys

import pandas as pd

from ccinsight.config import MIN_CELL_SIZE

OTHER = "other"


def pool_small(labels: pd.Series, min_cell_size: int = MIN_CELL_SIZE, other: str = OTHER
               ) -> tuple[pd.Series, list[str]]:
    """Relabel groups smaller than ``min_cell_size`` as ``other`` so nobody can be singled out.

    Complementary pooling: while ``other`` is not empty but still smaller than the size, the
    next smallest group joins it, so ``other`` is never a small group that subtracting every
    shown group from the total would reveal. Returns the new labels and the pooled group
    names. Only when all groups together are under the size does ``other`` stay small
    (:func:`suppress_small` then removes it, and the total is too small to show anyway).
    """
    if min_cell_size < 1:
        raise ValueError(f"min_cell_size must be positive, got {min_cell_size}")
    text = labels.astype(str)
    counts = text[labels.notna()].value_counts()
    small = {g for g in counts[counts < min_cell_size].index if g != other}
    pooled_n = int(counts[list(small)].sum()) + int(counts.get(other, 0))
    rest = counts.drop(list(small) + [other], errors="ignore").sort_values(kind="stable")
    for group, n in rest.items():
        if pooled_n == 0 or pooled_n >= min_cell_size:
            break
        small.add(group)
        pooled_n += int(n)
    small = sorted(small)
    return labels.where(~text.isin(small), other), small


def suppress_small(frame: pd.DataFrame, count: str = "n", min_cell_size: int = MIN_CELL_SIZE
                   ) -> tuple[pd.DataFrame, int]:
    """Rows of ``frame`` whose ``count`` is at least ``min_cell_size``, and the units dropped."""
    small = frame[count] < min_cell_size
    return frame[~small].reset_index(drop=True), int(frame.loc[small, count].sum())


# --------------------------------------------------------------------------- pseudonyms
#: Environment variable holding the secret key of pseudonyms.
KEY_ENV = "CCINSIGHT_PSEUDONYM_KEY"
_DEFAULT_KEY = "ccinsight-default-pseudonym-key"


DEFAULT_KEY_WARNING = (f"Warning: {KEY_ENV} is not set, so pseudonyms use the built-in default key and anyone "
                       "with ccinsight can link them back to agent IDs. Set it to a secret before sharing reports.")


def pseudonym_key_source() -> str:
    """Where pseudonyms' key comes from, for run records (never the key itself)."""
    return f"${KEY_ENV}" if os.environ.get(KEY_ENV) else "the built-in default key (not secret)"


def pseudonym_key() -> bytes:
    """The pseudonym key from the environment; the built-in default with a warning on
    stderr (shown in the notebook and its rendered page)."""
    key = os.environ.get(KEY_ENV)
    if not key:
        print(DEFAULT_KEY_WARNING, file=sys.stderr)
        key = _DEFAULT_KEY
    return key.encode("utf-8")


def pseudonymise(ids: pd.Series, key: bytes | None = None, prefix: str = "agent") -> pd.Series:
    """Stable pseudonyms for identifiers: ``agent-`` and 8 hex digits of HMAC-SHA256(key, id).

    The same ID and key always give the same pseudonym (so a reviewer can follow a person
    across reports) and without the key it cannot be reversed. The analyst who holds the
    key finds a person by pseudonymising the ID list.
    """
    key = key if key is not None else pseudonym_key()
    codes = {v: f"{prefix}-{hmac.new(key, str(v).encode('utf-8'), hashlib.sha256).hexdigest()[:8]}"
             for v in pd.unique(ids.dropna())}
    return ids.map(codes)
