"""Attrition survival: KM and log-rank against statsmodels, censoring rules, planted truth."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from ccinsight import survival
from ccinsight.analyses import attrition
from ccinsight.data import Dataset
from ccinsight.errors import DataError, ParameterError

AS_OF = pd.Timestamp("2026-06-30")


def _agents(n=300, seed=5, hazard_ratio=0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    program = rng.random(n) < 0.5
    hire = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D")
    tenure = rng.exponential(200 * np.where(program, 1 / hazard_ratio, 1.0)).round() + 1
    exit_date = hire + pd.to_timedelta(tenure, unit="D")
    return pd.DataFrame({
        "agent_id": [f"a{i}" for i in range(n)], "site": rng.choice(["x", "y"], n), "team": "t",
        "hire_date": hire, "exit_date": exit_date.where(exit_date <= pd.Timestamp("2026-12-31")),
        "exit_type": "voluntary", "hiring_channel": rng.choice(["referral", "job_board", "campus"], n),
        "cohort_id": "k", "school": None, "onboarding_program": program,
        "certified": pd.array(rng.random(n) < 0.9, dtype="boolean"), "certification_date": pd.NaT})


def _ds(agents: pd.DataFrame) -> Dataset:
    return Dataset(root=None, tables={"agents": agents}, month=AS_OF.to_period("M"))


def test_km_matches_statsmodels():
    table = survival.survival_table(_agents(), AS_OF, None)
    kmf = survival.fit_km(table["duration_days"], table["event"], "all")
    sm = SurvfuncRight(table["duration_days"], table["event"])
    ours = kmf.survival_function_.iloc[:, 0]
    for t, s in zip(sm.surv_times, sm.surv_prob):
        assert ours.loc[:t].iloc[-1] == pytest.approx(s, abs=1e-6)
    # Greenwood variance: statsmodels reports its standard error
    for t, se in list(zip(sm.surv_times, sm.surv_prob_se))[5:40:7]:
        assert np.sqrt(survival.greenwood_var(kmf, t)) == pytest.approx(se, abs=1e-6)


def test_logrank_matches_statsmodels():
    table = survival.survival_table(_agents(), AS_OF, None)
    _, p, _, _ = attrition.compare_groups(table, "onboarding_program", 0.05)
    _, p_sm = survdiff(table["duration_days"], table["event"], table["onboarding_program"].astype(int))
    assert p == pytest.approx(p_sm, abs=1e-6)
    _, p3, pairwise, _ = attrition.compare_groups(table, "hiring_channel", 0.05)
    _, p3_sm = survdiff(table["duration_days"], table["event"], table["hiring_channel"])
    assert p3 == pytest.approx(p3_sm, abs=1e-6)
    assert len(pairwise) == 3 and (pairwise["p_adj"] >= pairwise["p"]).all()


def test_late_hires_are_censored_and_future_exits_not_counted():
    agents = pd.DataFrame({
        "agent_id": ["late", "future_exit", "left", "after"],
        "hire_date": pd.to_datetime(["2026-06-25", "2026-01-01", "2026-01-01", "2026-07-05"]),
        "exit_date": pd.to_datetime([None, "2026-08-01", "2026-02-01", None])})
    table = survival.survival_table(agents, AS_OF, None).set_index("agent_id")
    assert "after" not in table.index  # hired after as_of: not in the population
    assert table.loc["late", "duration_days"] == 5 and table.loc["late", "event"] == 0
    assert table.loc["future_exit", "event"] == 0
    assert table.loc["future_exit", "duration_days"] == (AS_OF - pd.Timestamp("2026-01-01")).days
    assert table.loc["left", "event"] == 1 and table.loc["left", "duration_days"] == 31


def test_tenure_and_flag_exports_give_the_same_curve():
    table = survival.survival_table(_agents(), AS_OF, None)
    export = pd.DataFrame({"tenure": table["duration_days"], "left": table["event"].astype(bool)})
    hire, exit_ = survival.dates_from_tenure(export["tenure"], export["left"], AS_OF)
    derived = pd.DataFrame({"agent_id": table["agent_id"].to_numpy(), "hire_date": hire, "exit_date": exit_})
    again = survival.survival_table(derived, AS_OF, None)
    np.testing.assert_array_equal(again["duration_days"].to_numpy(), table["duration_days"].to_numpy())
    np.testing.assert_array_equal(again["event"].to_numpy(), table["event"].to_numpy())


def test_no_exits_shows_curves_and_skips_cox():
    agents = _agents().assign(exit_date=pd.NaT)
    result = attrition.analyse(_ds(agents), window_months=None, exclude_bursts=False)
    assert result.cox is None
    assert any("nobody has left" in n for n in result.cox_notes)
    assert result.findings().attrition_90d.value == 0
    result.plot()


def test_unknown_group_by_lists_valid_ones():
    with pytest.raises(ParameterError, match="valid choices: onboarding_program, hiring_channel, site"):
        attrition.analyse(_ds(_agents()), group_by="department")


def test_exit_before_hire_names_the_rows():
    agents = _agents()
    agents.loc[3, "exit_date"] = agents.loc[3, "hire_date"] - pd.Timedelta(days=2)
    with pytest.raises(DataError, match="exit date before the hire date .*a3"):
        attrition.analyse(_ds(agents))


def test_constant_covariate_is_dropped_with_a_note():
    agents = _agents().assign(site="only")
    result = attrition.analyse(_ds(agents), window_months=None,
                               covariates=["onboarding_program", "site"], exclude_bursts=False)
    assert "site left out: the same value for every hire." in result.cox_notes
    assert result.cox["covariate"].tolist() == ["onboarding program (yes vs no)"]
    assert result.cox["hazard_ratio"].iloc[0] == pytest.approx(0.5, abs=0.2)


def test_seats_plan_arithmetic():
    table = survival.survival_table(_agents(), AS_OF, None)
    kmf = survival.fit_km(table["duration_days"], table["event"], "all")
    plan = attrition.seats_plan(kmf, table, 50, 0.05)
    q = plan["survival_90d"] * plan["pass_rate"]
    assert plan["hires"] == int(np.ceil(50 / q))
    assert plan["low"] <= plan["hires"] <= plan["high"] <= plan["hires_90pct_sure"] + 5
    assert plan["pass_rate"] == pytest.approx(table["certified"].astype(float).mean())


def test_bursts_are_found_and_regular_hiring_is_not(tables, truth):
    from ccinsight.bursts import find_bursts

    bursts = find_bursts(tables["agents"])
    assert len(bursts) == 1
    b = bursts[0]
    assert b.channel == truth["bulk_drive_channel"]
    drive = set(tables["agents"].loc[tables["agents"]["cohort_id"].isin(truth["bulk_drive_cohorts"]), "agent_id"])
    assert drive <= set(b.agent_ids) and len(b.agent_ids) < 1.2 * len(drive)






def _survival_with_loglog_interval(sf: SurvfuncRight, t: float, z: float) -> tuple[float, float, float]:
    """S(t) and its exponential-Greenwood (log-log) interval, by hand from statsmodels' SE."""
    i = np.searchsorted(sf.surv_times, t, side="right") - 1
    s, se = sf.surv_prob[i], sf.surv_prob_se[i]
    w = z * se / (s * abs(np.log(s)))
    return s, s ** np.exp(w), s ** np.exp(-w)


def test_survival_difference_combines_the_groups_own_intervals():
    from scipy.stats import beta, norm

    rng = np.random.default_rng(8)
    z = norm.ppf(0.975)
    # group a: 40 hires followed 200 days, nobody left; group b: exponential exits
    a = survival.fit_km(pd.Series(np.full(40, 200)), pd.Series(np.zeros(40, int)), "a")
    days_b = np.minimum(rng.exponential(400, 120).round() + 1, 365)
    event_b = (days_b < 365).astype(int)
    b = survival.fit_km(pd.Series(days_b), pd.Series(event_b), "b")
    s_b, lo_b, hi_b = _survival_with_loglog_interval(SurvfuncRight(days_b, event_b), 90, z)
    lo_a = 1 - beta.ppf(0.975, 1, 40)  # exact interval for 0 exits among 40
    d = 1 - s_b
    got = survival.survival_difference(a, b, 90)
    assert got["difference"] == pytest.approx(d, abs=1e-9)
    assert got["low"] == pytest.approx(d - np.hypot(1 - lo_a, hi_b - s_b), abs=1e-6)
    assert got["high"] == pytest.approx(d + np.hypot(0, s_b - lo_b), abs=1e-6)
    # the old Wald interval would have been no wider than group b's alone
    assert got["high"] - got["low"] > hi_b - lo_b


def test_survival_difference_covers_the_true_difference():
    rng = np.random.default_rng(21)
    scale_a, scale_b, n = 600.0, 300.0, 80
    truth = np.exp(-90 / scale_a) - np.exp(-90 / scale_b)
    hits = 0
    reps = 300
    for _ in range(reps):
        fits = []
        for scale in (scale_a, scale_b):
            tenure = rng.exponential(scale, n)
            follow = rng.uniform(30, 400, n)  # staggered hiring: censored at the analysis date
            days, left = np.minimum(tenure, follow), (tenure <= follow).astype(int)
            fits.append(survival.fit_km(pd.Series(days), pd.Series(left), "g"))
        got = survival.survival_difference(*fits, 90)
        hits += got["low"] <= truth <= got["high"]
    # nominal 95%: 300 replications put the observed coverage within about +-2.5 points
    assert 0.92 <= hits / reps <= 0.98


def test_horizons_parameter_reports_attrition_at_each_horizon():
    agents = _agents(n=400, seed=9)
    result = attrition.analyse(_ds(agents), window_months=None, horizons=[45, 180, 365], seats_needed=0,
                               covariates=[])
    f = result.findings()
    table = survival.survival_table(agents, AS_OF, None)
    sm = SurvfuncRight(table["duration_days"], table["event"])
    for h in f.horizons:
        before = sm.surv_times <= h["day"]
        assert h["attrition"] == pytest.approx(1 - sm.surv_prob[before][-1], abs=1e-9)
    assert [h["day"] for h in f.horizons] == [45, 180, 365]
    assert [h["day"] for h in f.groups[0]["horizons"]] == [45, 180, 365]
    assert "within 45 days" in f.headlines()[0] and "within 365 days" in f.headlines()[0]
    assert f.survival_curve[-1]["day"] == 365 and f.attrition_90d.value is not None
    with pytest.raises(ParameterError, match="horizons"):
        attrition.analyse(_ds(agents), horizons=[0, 90])


def test_close_pairs_are_counted_as_listing_every_pair_would():
    """The count by sorting equals the count over every pair i < j (the square the
    clustering check used to build), with and without same-school labels."""
    rng = np.random.default_rng(11)
    day = rng.integers(0, 400, 700)
    school = rng.integers(0, 6, 700)
    i, j = np.triu_indices(len(day), k=1)
    close = np.abs(day[i] - day[j]) <= 3
    assert attrition.close_pairs(day, 3) == close.sum()
    assert attrition.close_pairs(day, 3, school) == (close & (school[i] == school[j])).sum()
    assert attrition.close_pairs(day[:1], 3) == 0 and attrition.close_pairs(np.array([5, 5]), 0) == 1
