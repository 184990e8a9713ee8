"""One small-cell rule for every analysis (ccinsight/privacy.py), checked by hand."""
from __future__ import annotations

import pandas as pd

from ccinsight.privacy import OTHER, pool_small, suppress_small


def test_pool_small_relabels_groups_under_the_size():
    labels = pd.Series(["a"] * 6 + ["b"] * 4 + ["c"] + [OTHER] * 2)
    pooled, names = pool_small(labels, 5)
    assert names == ["b", "c"]  # "other" is the pool, not a pooled group
    assert pooled.value_counts().to_dict() == {"a": 6, OTHER: 7}


def test_suppress_small_drops_rows_and_counts_what_it_dropped():
    frame = pd.DataFrame({"group": ["a", "b", "c"], "n": [12, 4, 5]})
    shown, hidden = suppress_small(frame, "n", 5)
    assert shown["group"].tolist() == ["a", "c"] and hidden == 4


def test_the_script_analysis_never_shows_a_bin_under_the_size(small_data):
    from ccinsight.analyses import scripts

    result = scripts.analyse(small_data, month="2026-06", min_cell_size=40)
    calls = pd.read_parquet(small_data / "outbound_calls.parquet")
    june = calls[calls["started_at"].dt.to_period("M") == pd.Period("2026-06")]
    counts = (june["talk_time_s"].clip(upper=600) // 30 * 30).value_counts()
    assert set(result.bins["bin_start_s"]) == set(counts[counts >= 40].index)
    assert (result.hours["n"] >= 40).all()
