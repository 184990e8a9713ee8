"""KPI scorecard: Erlang C against a hand computation, the day-clustered ratio intervals
against statsmodels, the control charts and target judgement on data with a known truth."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ccinsight import queueing
from ccinsight.analyses import kpi
from ccinsight.errors import ParameterError


def _erlang_c_by_hand(n: int, a: float) -> float:
    top = a ** n / math.factorial(n) * n / (n - a)
    return top / (sum(a ** k / math.factorial(k) for k in range(n)) + top)


def test_erlang_c_matches_a_hand_computed_case():
    """100 calls in half an hour at 3 minutes each is 10 Erlangs; 80% answered in 20 s
    needs the smallest n with 1 - C(n, A) exp(-(n - A) t / AHT) >= 0.8."""
    a, t, aht = 10.0, 20.0, 180.0
    service = {n: 1 - _erlang_c_by_hand(n, a) * math.exp(-(n - a) * t / aht) for n in range(11, 20)}
    need = min(n for n, sl in service.items() if sl >= 0.8)
    # the textbook case: with 13 agents 28.5% of callers wait and 79.6% are answered in 20 s
    assert _erlang_c_by_hand(13, a) == pytest.approx(0.2853, abs=1e-4) and service[13] == pytest.approx(0.7956, abs=1e-4)
    assert need == 14
    assert queueing.erlang_c(13, a) == pytest.approx(_erlang_c_by_hand(13, a), rel=1e-9)
    assert queueing.required_agents([100, 0, 100], [aht, aht, np.nan], 0.8, t).tolist() == [need, 0, 0]


def test_required_agents_match_pyworkforce_from_one_agent_to_thousands():
    """The same requirement as pyworkforce's Erlang C (an independent, loop-by-agent
    implementation) for small queues and for a large centre's half hours."""
    from pyworkforce.queuing import ErlangC

    rng = np.random.default_rng(5)
    offered = np.concatenate([[1, 2, 5, 17], rng.integers(20, 3_000, 40), [40_000]])
    aht = np.concatenate([[60, 240, 300, 185], rng.uniform(120, 600, 40), [200]])
    for target, threshold in ((0.8, 20.0), (0.9, 30.0), (0.6, 60.0)):
        ours = queueing.required_agents(offered, aht, target, threshold)
        theirs = [ErlangC(transactions=o, aht=h / 60, asa=threshold / 60, interval=30)
                  .required_positions(service_level=target)["raw_positions"] for o, h in zip(offered, aht)]
        assert ours.tolist() == theirs, target


def test_ratio_interval_matches_a_cluster_robust_glm():
    """The days' variation: the ratio's standard error equals statsmodels' binomial GLM with
    standard errors clustered by day (delta method back from the logit scale)."""
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    days = np.repeat(np.arange(30), 24)
    p_day = np.clip(0.9 + rng.normal(0, 0.03, 30), 0, 1)[days]  # days differ more than binomially
    offered = rng.poisson(80, len(days)) + 1
    answered = rng.binomial(offered, p_day)
    daily = pd.DataFrame({"scope": "c", "month": "m", "day": days, "answered": answered, "offered": offered})
    daily = daily.groupby(["scope", "month", "day"], as_index=False).sum()
    ours = kpi._ratio_by(daily, ["scope", "month"], "answered", "offered").iloc[0]
    fit = sm.GLM(np.column_stack([answered, offered - answered]), np.ones((len(days), 1)),
                 family=sm.families.Binomial()).fit(cov_type="cluster", cov_kwds={"groups": days, "use_correction": False})
    p = 1 / (1 + np.exp(-fit.params[0]))
    assert ours["value"] == pytest.approx(p, rel=1e-9)
    assert ours["se"] == pytest.approx(p * (1 - p) * fit.bse[0], rel=0.05)
    naive = math.sqrt(p * (1 - p) / offered.sum())
    assert ours["se"] > 2 * naive  # the binomial interval would be far too narrow here


def _months(values, n):
    idx = pd.period_range("2025-01", periods=len(values), freq="M")
    return pd.DataFrame({"month": idx, "value": np.asarray(values, float) / np.asarray(n, float),
                         "num": np.asarray(values, float), "n": np.asarray(n, float)})


def test_laney_chart_does_not_flag_ordinary_months_of_overdispersed_shares():
    """Months of 50,000 calls whose true share wanders by half a point: a p-chart flags
    most months, the p'-chart about as often as 3-sigma limits should."""
    rng = np.random.default_rng(11)
    flagged_p, flagged_laney = 0, 0
    for _ in range(300):
        n = np.full(12, 50_000)
        hits = rng.binomial(n, np.clip(0.93 + rng.normal(0, 0.005, 12), 0, 1))
        series = _months(hits, n)
        chart = kpi.control(series, "p")
        flagged_laney += bool(chart["signal"].iloc[-1])
        p = hits[:-1].sum() / n[:-1].sum()
        flagged_p += abs(hits[-1] / n[-1] - p) > 3 * math.sqrt(p * (1 - p) / n[-1])
    assert flagged_p > 100 and flagged_laney < 15


def test_laney_chart_flags_a_real_drop_and_xmr_limits_follow_the_moving_range():
    n = np.full(12, 40_000)
    rng = np.random.default_rng(5)
    shares = np.r_[0.95 + rng.normal(0, 0.003, 11), 0.90]
    chart = kpi.control(_months(np.round(shares * n), n), "p")
    assert chart["signal"].iloc[-1] and not chart["signal"].iloc[:-1].any()
    x = np.array([300, 310, 305, 295, 300, 308, 302, 298, 301, 304, 299, 330.0])
    chart = kpi.control(_months(x, np.ones(12)), "xmr")
    mr = np.abs(np.diff(x[:-1])).mean()
    assert chart["ucl"].iloc[0] == pytest.approx(x[:-1].mean() + 2.66 * mr)
    assert chart["signal"].iloc[-1]


def test_a_target_is_missed_only_beyond_noise_after_holm():
    """Twenty teams exactly at target (noise only) and one 5 points under: only that one is
    missed; the others on the wrong side are within noise."""
    rng = np.random.default_rng(2)
    value = 0.9 + rng.normal(0, 0.01, 21)
    value[0] = 0.85
    current = pd.DataFrame({"level": "team", "scope": [f"t{i}" for i in range(21)], "metric": "answer_rate",
                            "value": value, "se": 0.01})
    judged = kpi.judge(current, {"answer_rate": 0.9})
    assert judged.loc[judged["status"] == "missed", "scope"].tolist() == ["t0"]
    assert (judged["status"] == "within noise").sum() == (value[1:] < 0.9).sum()
    assert kpi.run_of_misses(_months([0.8, 0.95, 0.85, 0.88], [1] * 4), 0.9, True) == 2


def test_targets_are_checked():
    with pytest.raises(ParameterError, match="unknown KPI"):
        kpi._targets({"answer_rat": 0.9})
    with pytest.raises(ParameterError, match="between 0 and 1"):
        kpi._targets({"answer_rate": 90})
    assert kpi._targets({"aht": 300, "occupancy": None}) == {"aht": 300.0}


def test_overloaded_team_exits_are_counted_by_agent_month():
    months = pd.period_range("2026-01", "2026-06", freq="M")
    occ = pd.DataFrame({"scope": "T1", "month": months, "value": [0.7, 0.9, 0.9, 0.9, 0.7, 0.7]})
    hire = pd.Timestamp("2025-01-01")
    agents = pd.DataFrame({
        "team": ["T1"] * 10 + ["T2"] * 40, "site": "s", "hire_date": hire,
        "exit_date": [pd.Timestamp("2026-05-10")] * 4 + [pd.NaT] * 6 + [pd.Timestamp("2026-06-03")] + [pd.NaT] * 39})
    out, tests = kpi.overload_then_exits(occ, agents, months, 0.85, 3)
    row = out.iloc[0]
    assert tests == 1 and (row["first"], row["last"], row["months"]) == ("2026-02", "2026-04", 3)
    # May: 10 here, 4 leave; June: 6 here. The rest: 40 in May, 40 in June (one leaves in June)
    assert (row["exits"], row["agent_months"]) == (4, 16)
    assert row["others_rate"] == pytest.approx(1 / 80)
    assert row["exits_rose"]


def test_staffing_counts_half_hours_short_of_erlang_c_and_seats_without_exam_data():
    """Two half hours of 100 calls at 3 minutes: 12 agents staffed is short of the 14 that
    80% in 20 s needs, 15 is not. Without certification results every employed agent is a seat."""
    starts = pd.to_datetime(["2026-10-05 10:00", "2026-10-05 10:30"])
    q = pd.DataFrame({"interval_start": starts, "site": "s", "offered": 100, "answered": 100,
                      "handle_time_s": 100 * 180.0, "agents_staffed": [12.0, 15.0]})
    agents = pd.DataFrame({"site": "s", "hire_date": pd.Timestamp("2026-01-01"),
                           "exit_date": [pd.NaT, pd.NaT, pd.Timestamp("2026-09-01")],
                           "certified": pd.array([pd.NA] * 3, dtype="boolean"),
                           "certification_date": pd.NaT})
    out = kpi.staffing(q, agents, pd.period_range("2026-10", periods=1, freq="M"), 0.8, 20.0).iloc[0]
    assert (out["intervals"], out["short"], out["mean_gap"]) == (2, 1, 2.0)
    assert out["effective_seats"] == 2


def test_without_queue_data_the_scorecard_keeps_the_agents_kpis_and_says_why(small_data):
    from ccinsight import data

    ds = data.load(small_data, ["agents"])
    found = kpi.analyse(ds).findings()
    assert "no queue_intervals table" in found.queue_note and found.queue_note in found.headlines()
    assert {r["metric"] for r in found.series} <= {"pass_rate", "new_hire_attrition"}
    assert found.staffing == [] and found.overload == [] and found.centre_answer_rate.value is None


def test_every_series_is_charted_as_it_would_be_alone():
    """control_all (one pass over arrays) against control on each series: series too short
    for limits, all-hit shares, missing values, empty months and unsorted rows included."""
    rng = np.random.default_rng(4)
    frames = []
    for scope, length in [("a", 12), ("b", 5), ("c", 9), ("d", 12)]:
        for metric in ["answer_rate", "occupancy", "pass_rate"]:
            n = rng.integers(0, 60, length).astype(float)
            num = rng.binomial(n.astype(int), 0.8).astype(float)
            if scope == "d" and metric == "pass_rate":
                num = n.copy()  # every exam passed: no binomial spread
            value = np.where(n > 0, num / np.where(n > 0, n, 1), np.nan)
            value[rng.random(length) < 0.1] = np.nan
            with np.errstate(invalid="ignore"):
                series = _months(num, n)
            frames.append(series.assign(value=value, level="team", scope=scope, metric=metric))
    measures = pd.concat(frames, ignore_index=True).sample(frac=1, random_state=1)
    alone = pd.concat([kpi.control(s, kpi.METRICS[metric].chart)
                       for (_, _, metric), s in measures.groupby(["level", "scope", "metric"])], ignore_index=True)
    together = kpi.control_all(measures)
    pd.testing.assert_frame_equal(together, alone)
    assert together["lcl"].notna().any() and together["lcl"].isna().any() and together["signal"].any()
