"""Script duration vs acceptance: aggregation checked against pandas, Wilson against
statsmodels, the GLM on counts against the GLM on raw calls, planted truth recovered."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit

from ccinsight.analyses import scripts
from ccinsight.errors import DataError, ParameterError
from conftest import wilson_by_hand


def _calls(n=4000, seed=11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    talk = np.clip(np.rint(rng.gamma(5, 40, n)), 5, 900)
    accepted = rng.random(n) < expit(1.2 - 0.8 * (talk - 180) / 60)
    version = np.where(rng.random(n) < 0.5, "keyword", "verbatim")
    start = pd.Timestamp("2026-09-01") + pd.to_timedelta(rng.integers(0, 61 * 86400, n), unit="s")
    return pd.DataFrame({"call_id": np.arange(n), "agent_id": "A1", "campaign": "c", "script_version": version,
                         "started_at": start, "talk_time_s": talk, "accepted": accepted,
                         "converted": accepted & (rng.random(n) < 0.5),
                         "refusal_reason": np.where(accepted, None, "not_interested")})


@pytest.fixture
def calls_dir(tmp_path):
    df = _calls()
    df.to_parquet(tmp_path / "outbound_calls.parquet", index=False)
    return tmp_path, df


def test_duckdb_aggregate_matches_pandas(calls_dir):
    folder, df = calls_dir
    calls = scripts.Calls(label="calls", path=folder / "outbound_calls.parquet")
    agg = scripts.aggregate_calls(calls, pd.Period("2026-10"), pd.Period("2026-10"))
    oct_ = df[df["started_at"].dt.to_period("M") == pd.Period("2026-10")]
    assert agg["n"].sum() == len(oct_)
    by = oct_.groupby("script_version")[["accepted", "converted"]].sum()
    mine = agg.groupby("script_version")[["accepted", "converted"]].sum()
    pd.testing.assert_frame_equal(mine.astype(int), by.astype(int), check_names=False, check_index_type=False)


def test_bins_and_wilson_match_statsmodels(calls_dir):
    _, df = calls_dir
    by_second = df.groupby(df["talk_time_s"].astype(int).rename("talk_s"))["accepted"].agg(
        n="size", accepted="sum").reset_index()
    bins = scripts.binned_acceptance(by_second, bin_s=30, cap_s=600)
    plain = df.assign(b=(np.minimum(df["talk_time_s"], 600) // 30) * 30).groupby("b")["accepted"].agg(["size", "sum"])
    np.testing.assert_array_equal(bins["n"], plain["size"])
    np.testing.assert_allclose(bins["rate"], plain["sum"] / plain["size"])
    low, high = wilson_by_hand(plain["sum"], plain["size"])
    np.testing.assert_allclose(bins["low"], low, atol=1e-12)
    np.testing.assert_allclose(bins["high"], high, atol=1e-12)


def test_glm_on_counts_equals_glm_on_raw_calls(calls_dir):
    _, df = calls_dir
    df = df[df["talk_time_s"] <= 600]
    by_second = df.groupby(df["talk_time_s"].astype(int).rename("talk_s"))["accepted"].agg(
        n="size", accepted="sum").reset_index()
    on_counts = scripts.fit_curve(by_second, cap_s=600)
    X = scripts.spline_design(df["talk_time_s"], 600)
    raw = sm.GLM(df["accepted"].astype(float).to_numpy(), X, family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(on_counts.params.to_numpy(), raw.params.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(on_counts.bse.to_numpy(), raw.bse.to_numpy(), atol=1e-6)


def test_weighted_stats_match_the_expanded_sample():
    values = np.array([30.0, 60.0, 90.0, 400.0])
    weights = np.array([3, 1, 4, 2])
    expanded = np.repeat(values, weights)
    w = scripts.weighted_stats(values, weights)
    assert w["mean"] == pytest.approx(expanded.mean())
    assert w["sd"] == pytest.approx(expanded.std(ddof=1))
    assert w["median"] == pytest.approx(np.median(expanded))
    assert w["log_sd"] == pytest.approx(np.log(expanded).std(ddof=1))


def test_longest_within_target_reads_the_curve():
    curve = pd.DataFrame({"talk_s": [100, 101, 102, 103], "rate": [0.8, 0.75, 0.69, 0.6],
                          "low": [0.75, 0.69, 0.6, 0.5], "high": [0.85, 0.8, 0.72, 0.65]})
    assert scripts.longest_within_target(curve, 0.7) == {"seconds": 101, "low": 100, "high": 102}


def test_a_rising_curve_is_not_turned_into_a_script_length(tmp_path):
    # durations that follow interest: the longer the call, the likelier the yes
    df = _calls()
    rng = np.random.default_rng(3)
    df["accepted"] = rng.random(len(df)) < expit(-2.5 + 0.8 * (df["talk_time_s"] - 180) / 60)
    df.to_parquet(tmp_path / "outbound_calls.parquet", index=False)
    result = scripts.analyse(tmp_path, month="2026-09", acceptance_target=0.3)
    assert result.rising and result.findings().longest_script_s is None
    ax = result.plot()
    assert not any("longest within target" in t.get_text() for t in ax.get_legend().get_texts())
    assert "rises" in ax.get_title() and "cannot set a script length" in result.findings().narrative()


def test_month_without_calls_is_one_sentence(calls_dir):
    folder, _ = calls_dir
    with pytest.raises(DataError, match="no calls in 2025-01"):
        scripts.analyse(folder, month="2025-01")


@pytest.mark.parametrize("bad", [-12.0, 0.0, np.nan])
def test_bad_durations_are_explained(tmp_path, bad):
    df = _calls()
    df.loc[df["started_at"] >= "2026-10-01", "talk_time_s"] = df["talk_time_s"].where(df.index % 50 != 0, bad)
    df.to_parquet(tmp_path / "outbound_calls.parquet", index=False)
    with pytest.raises(DataError, match="talk_time_s") as err:
        scripts.analyse(tmp_path, month="2026-10")
    assert "outbound_calls" in str(err.value) and "\n" not in str(err.value)


def test_unknown_baseline_lists_versions(calls_dir):
    folder, _ = calls_dir
    with pytest.raises(ParameterError, match="script versions found: keyword, verbatim"):
        scripts.analyse(folder, month="2026-10", baseline_version="v0")



def _confounded_calls(seed=5, n=20000) -> pd.DataFrame:
    """The keyword script runs mostly in the evening campaign, where everyone converts more;
    within each week, campaign and hour the two versions convert alike (odds ratio 1)."""
    rng = np.random.default_rng(seed)
    evening = rng.random(n) < 0.5
    keyword = rng.random(n) < np.where(evening, 0.8, 0.2)
    hour = np.where(evening, rng.integers(18, 21, n), rng.integers(9, 12, n))
    day = rng.integers(0, 30, n)
    start = pd.Timestamp("2026-09-01") + pd.to_timedelta(day * 86400 + hour * 3600, unit="s")
    converted = rng.random(n) < np.where(evening, 0.45, 0.25)
    return pd.DataFrame({"call_id": np.arange(n), "agent_id": "A1", "campaign": np.where(evening, "eve", "day"),
                         "script_version": np.where(keyword, "keyword", "verbatim"), "started_at": start,
                         "talk_time_s": np.clip(np.rint(rng.gamma(5, 40, n)), 5, 900), "accepted": converted | True,
                         "converted": converted, "refusal_reason": None})


def test_versions_compared_like_for_like_remove_a_confounded_difference(tmp_path):
    df = _confounded_calls()
    df.to_parquet(tmp_path / "outbound_calls.parquet", index=False)
    f = scripts.analyse(tmp_path, month="2026-09", baseline_version="verbatim").findings()
    assert f.conversion_diff.value > 0.08 and f.conversion_diff_p < 0.001  # the crude comparison misleads
    within = f.conversion_odds_ratio_within
    assert within.low < 1 < within.high and f.conversion_within_p > 0.01
    assert within.n == len(df)  # every stratum ran both versions
    assert "not assigned at random" in " ".join(f.headlines())
    # Mantel-Haenszel by hand: sum(a d / N) / sum(b c / N) over week x campaign x hour
    df["week"] = df["started_at"].dt.to_period("W-SUN")
    num = den = 0.0
    for _, g in df.groupby(["week", "campaign", df["started_at"].dt.hour]):
        k, v = g[g["script_version"] == "keyword"], g[g["script_version"] == "verbatim"]
        if len(k) and len(v):
            a, b = k["converted"].sum(), (~k["converted"]).sum()
            c, d = v["converted"].sum(), (~v["converted"]).sum()
            num, den = num + a * d / len(g), den + b * c / len(g)
    assert within.value == pytest.approx(num / den, rel=1e-9)


def test_a_script_length_is_worded_as_what_the_calls_show(calls_dir):
    folder, _ = calls_dir
    f = scripts.analyse(folder, month="2026-09", acceptance_target=0.6).findings()
    assert f.longest_script_s.value > 0
    line = next(h for h in f.headlines() if "talk time" in h and "acceptance stays" in h)
    assert "not a tested script length" in line and "keep the script" not in line.lower()
