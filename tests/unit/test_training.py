"""Training score vs performance: per-cohort statistics checked against scipy, planted truth
recovered by the notebook, and clear messages for bad input."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ccinsight.analyses import training
from ccinsight.errors import DataError, ParameterError


def _joined(seed=1, sizes=(30, 25, 5, 40), rhos=(0.1, 0.6, 0.5, 0.7)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for i, (n, rho) in enumerate(zip(sizes, rhos)):
        z = rng.standard_normal(n)
        y = rho * z + np.sqrt(1 - rho ** 2) * rng.standard_normal(n)
        parts.append(pd.DataFrame({
            "agent_id": [f"c{i}-{k}" for k in range(n)], "cohort_id": f"class-{i + 1:03d}",
            "training_score": 70 + 10 * z, "training_end_date": pd.Timestamp("2025-01-01") + pd.DateOffset(months=i),
            "performance": 0.3 + 0.05 * y + 0.02 * i, "months": 2}))
    return pd.concat(parts, ignore_index=True)


def test_cohort_r_interval_and_rho_match_scipy():
    joined = _joined()
    out = training.cohort_correlations(joined, min_size=8).set_index("cohort_id")
    for cohort, g in joined.groupby("cohort_id"):
        if len(g) < 8:
            continue
        res = stats.pearsonr(g["training_score"], g["performance"])
        ci = res.confidence_interval(0.95)  # scipy's own Fisher-z interval
        row = out.loc[cohort]
        assert row["r"] == pytest.approx(res.statistic, abs=1e-12)
        assert row["p"] == pytest.approx(res.pvalue, rel=1e-9)
        assert (row["r_low"], row["r_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)
        assert row["rho"] == pytest.approx(stats.spearmanr(g["training_score"], g["performance"]).statistic)


def test_too_small_cohorts_are_listed_not_estimated():
    out = training.cohort_correlations(_joined(), min_size=8).set_index("cohort_id")
    small = out.loc["class-003"]
    assert small["n"] == 5 and not small["estimated"] and not small["flagged"]
    assert np.isnan(small["r"]) and np.isnan(small["p_adj"])
    assert out["estimated"].sum() == 3


def test_holm_adjustment_by_hand():
    out = training.cohort_correlations(_joined(), min_size=8)
    est = out.dropna(subset=["p"]).sort_values("p")
    m = len(est)
    by_hand = np.minimum(1, np.maximum.accumulate((m - np.arange(m)) * est["p"].to_numpy()))
    assert est["p_adj"].to_numpy() == pytest.approx(by_hand)


def test_labels_weak_cohorts_and_too_few_to_tell():
    out = training.cohort_correlations(_joined(seed=4, sizes=(200, 200, 12), rhos=(0.0, 0.8, 0.6)), min_size=8,
                                       r_threshold=0.3).set_index("cohort_id")
    assert out.loc["class-001", "label"] == training.WEAK and out.loc["class-001", "flagged"]
    assert out.loc["class-002", "label"] == training.HOLDS
    assert out.loc["class-003", "label"] == training.TOO_FEW and not out.loc["class-003", "flagged"]
    # the weak test by hand: one-sided Fisher z against the threshold, then Holm over the three
    z = (np.arctanh(out["r"]) - np.arctanh(0.3)) * np.sqrt(out["n"] - 3)
    p = pd.Series(stats.norm.cdf(z), index=out.index).sort_values()
    holm = np.minimum(1, np.maximum.accumulate((3 - np.arange(3)) * p.to_numpy()))
    assert out.loc[p.index, "p_weak_adj"].to_numpy() == pytest.approx(holm, rel=1e-9)


def test_pooled_r_is_dersimonian_laird_by_hand():
    r = pd.Series([0.1, 0.5, 0.6, 0.2, np.nan])
    n = pd.Series([30, 40, 50, 25, 4])
    pooled = training.pool_fisher(r, n)
    z, w = np.arctanh(r[:4].to_numpy()), n[:4].to_numpy() - 3.0
    fixed = np.sum(w * z) / w.sum()
    q = np.sum(w * (z - fixed) ** 2)
    tau2 = max(0.0, (q - 3) / (w.sum() - np.sum(w ** 2) / w.sum()))
    w_re = 1 / (1 / w + tau2)
    mean, se = np.sum(w_re * z) / w_re.sum(), 1 / np.sqrt(w_re.sum())
    assert pooled["tau2"] == pytest.approx(tau2, rel=1e-9) and pooled["i2"] == pytest.approx((q - 3) / q, rel=1e-9)
    assert pooled["q_p"] == pytest.approx(stats.chi2.sf(q, 3), rel=1e-9)
    assert pooled["r"] == pytest.approx(np.tanh(mean), rel=1e-9)
    assert (pooled["low"], pooled["high"]) == pytest.approx((np.tanh(mean - 1.959964 * se),
                                                             np.tanh(mean + 1.959964 * se)), abs=1e-6)
    # wider than the fixed-effect interval when the classes differ
    assert pooled["high"] - pooled["low"] > np.tanh(fixed + 1.96 / np.sqrt(w.sum())) - np.tanh(fixed - 1.96 / np.sqrt(w.sum()))


def test_mixed_slope_recovers_a_planted_slope():
    rng = np.random.default_rng(3)
    rows = []
    for c in range(12):
        score = rng.normal(70, 10, 40)
        perf = 0.1 + 0.003 * score + rng.normal(0, 0.03) + rng.normal(0, 0.02, 40)
        rows.append(pd.DataFrame({"cohort_id": f"k{c}", "training_score": score, "performance": perf}))
    slope = training.mixed_slope(pd.concat(rows))
    assert slope["low"] < 0.03 < slope["high"]
    assert slope["slope"] == pytest.approx(0.03, abs=0.005)


def test_aht_sign_is_flipped_so_positive_means_better():
    joined = _joined(sizes=(80,), rhos=(-0.6,))
    plain = training.cohort_correlations(joined, direction=1)["r"].iloc[0]
    flipped = training.cohort_correlations(joined, direction=-1)["r"].iloc[0]
    assert flipped == pytest.approx(-plain) and flipped > 0


def test_window_counts_months_after_training_end():
    tr = pd.DataFrame({"agent_id": ["a"], "cohort_id": ["k"], "training_score": [80.0],
                       "training_end_date": [pd.Timestamp("2025-01-20")]})
    perf = pd.DataFrame({"agent_id": ["a"] * 4, "month": pd.to_datetime(["2025-02-01", "2025-03-01", "2025-04-01",
                                                                          "2025-05-01"]),
                         "conversion_rate": [0.1, 0.2, 0.4, 0.9]})
    out = training.window_performance(tr, perf, "conversion_rate", (2, 3))
    assert out["performance"].iloc[0] == pytest.approx(0.3) and out["months"].iloc[0] == 2


def test_unknown_metric_lists_valid_ones():
    with pytest.raises(ParameterError, match="conversion_rate, qa_score, aht_s"):
        training.check_metric("sales")


def test_no_training_rows_is_one_sentence():
    empty = pd.DataFrame(columns=["agent_id", "cohort_id", "training_score", "training_end_date"])
    with pytest.raises(DataError, match="training table has no rows"):
        training.window_performance(empty, pd.DataFrame(columns=["agent_id", "month", "qa_score"]), "qa_score")


def test_no_performance_in_window_is_one_sentence(small_data):
    from ccinsight import data

    ds = data.load(small_data, ["agents", "training", "performance"])
    with pytest.raises(DataError, match="No qa_score values fall in months 40-41"):
        training.analyse(ds, metric="qa_score", window=(40, 41))


def test_change_date_outside_the_data_is_explained(small_data):
    from ccinsight import data

    ds = data.load(small_data, ["agents", "training", "performance"])
    with pytest.raises(DataError, match="ended before the process change date"):
        training.analyse(ds, process_change_date="2000-01-01", min_size=3)





def test_the_score_charts_are_the_same_on_every_rerun(small_data):
    # seaborn bootstraps the fitted line's band; a deck run again must show the same picture
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ccinsight import data

    result = training.analyse(data.load(small_data, ["agents", "training", "performance"]), min_size=3)
    images = []
    for _ in range(2):
        axes = result.plot_periods()
        buffer = io.BytesIO()
        axes[0].figure.savefig(buffer, format="png")
        plt.close(axes[0].figure)
        images.append(buffer.getvalue())
    assert images[0] == images[1]
