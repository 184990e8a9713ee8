"""Effective seats: the projection against closed-form answers (binomial counts of a
memoryless roster, a known pass rate), the plan keeping its promise, bad parameters."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ccinsight.analyses import seats
from ccinsight.data import Dataset
from ccinsight.errors import ParameterError

AS_OF = pd.Timestamp("2026-06-30")
RATE = 1 / 400  # exits per day: memoryless, so every agent stays w weeks with exp(-RATE * 7 w)


def _agents(n=3000, seed=1, pass_rate=None, exam_day=60, rate=RATE) -> pd.DataFrame:
    """Hires over two years with exponential tenure; certified a day after hire unless a
    pass rate is given (then examined on ``exam_day`` with that chance of passing)."""
    rng = np.random.default_rng(seed)
    hire = AS_OF - pd.to_timedelta(rng.integers(2, 730, n), unit="D")
    tenure = np.ceil(rng.exponential(1 / rate, n)) if rate else np.full(n, 10_000.0)
    exit_date = hire + pd.to_timedelta(tenure, unit="D")
    day = 1 if pass_rate is None else exam_day
    cert_date = hire + pd.Timedelta(days=day)
    examined = (cert_date <= AS_OF) & (cert_date < exit_date)
    passed = np.ones(n, bool) if pass_rate is None else rng.random(n) < pass_rate
    return pd.DataFrame({
        "agent_id": [f"a{i}" for i in range(n)], "site": "x", "team": "t", "hire_date": hire,
        "exit_date": exit_date.where(exit_date <= AS_OF), "exit_type": "voluntary", "hiring_channel": "referral",
        "cohort_id": "k", "school": None, "onboarding_program": False,
        "certified": pd.array(np.where(examined, passed, pd.NA), dtype="boolean"),
        "certification_date": cert_date.where(examined)})


def _ds(agents):
    return Dataset(root=None, tables={"agents": agents}, month=AS_OF.to_period("M"))


def test_a_memoryless_roster_keeps_a_binomial_count():
    agents = _agents()
    result = seats.analyse(_ds(agents), seats_needed=0, draws=40, backtest_draws=20)
    n = len(result.roster)
    assert (result.roster["status"] == "certified").all()
    for week in (4, 13, 26):
        p = np.exp(-RATE * 7 * week)
        row = result.projection.set_index("week").loc[week]
        assert row["median"] == pytest.approx(n * p, rel=0.02)
        # the interval adds the curves' uncertainty to chance in who leaves: at least the binomial's width
        assert row["low"] <= stats.binom.ppf(0.05, n, p) + 3 and row["high"] >= stats.binom.ppf(0.95, n, p) - 3


def test_awaiting_agents_certify_at_the_pass_rate():
    agents = _agents(pass_rate=0.7, rate=0)  # nobody leaves; examined on day 60
    result = seats.analyse(_ds(agents), seats_needed=0, horizon_weeks=12, draws=40, backtest_draws=20)
    roster = result.roster
    waiting = int((roster["status"] == "awaiting").sum())
    certified = int((roster["status"] == "certified").sum())
    assert waiting > 100
    end = result.projection.iloc[-1]  # by week 12 everyone awaiting has sat the exam
    assert end["median"] == pytest.approx(certified + 0.7 * waiting, abs=3 * np.sqrt(waiting * 0.21) + 2)


def test_the_plan_keeps_its_lower_bound_and_the_naive_plan_does_not():
    agents = _agents(n=2000, seed=4)
    ds = _ds(agents)
    today = int(seats.roster(agents, AS_OF)["status"].eq("certified").sum())
    target = today + 40
    result = seats.analyse(ds, seats_needed=target, class_size=20, lead_weeks=1, draws=40, backtest_draws=20)
    found = result.findings()
    assert found.plan, "a target above today's seats needs classes"
    reachable = [r for r in found.plan_projection if r["week"] >= 1 + 9 + 1]  # lead + about 60 days to certify
    assert reachable and all(r["low"] >= target for r in reachable)
    assert found.naive_at_horizon is not None and found.naive_at_horizon.value < target


def test_bad_parameters_are_named():
    ds = _ds(_agents(n=300))
    with pytest.raises(ParameterError, match="confidence"):
        seats.analyse(ds, confidence=1.5)
    with pytest.raises(ParameterError, match="by 'department'"):
        seats.analyse(ds, by="department")


def _performance(agents, months, drop_in=None, drop=0.0, seed=2):
    rng = np.random.default_rng(seed)
    rows = []
    for m in months:
        for a in agents["agent_id"].head(200):
            rows.append({"agent_id": a, "month": m.start_time, "conversion_rate": 0.30 - (drop if m == drop_in else 0)
                         + rng.normal(0, 0.03), "qa_score": 80 + rng.normal(0, 5)})
    return pd.DataFrame(rows)


def test_the_spiral_check_names_a_month_of_exits_and_falling_conversion_only():
    agents = _agents(n=1200, seed=3)
    freeze = agents["hire_date"].dt.to_period("M").between(pd.Period("2026-02"), pd.Period("2026-04"))
    agents = agents[~freeze].reset_index(drop=True)  # a hiring freeze: exits outrun hires
    months = pd.period_range("2025-07", "2026-06", freq="M")
    exits = agents["exit_date"].dt.to_period("M").value_counts()
    hires = agents["hire_date"].dt.to_period("M").value_counts()
    outran = [m for m in months if exits.get(m, 0) > hires.get(m, 0)]
    calm = [m for m in months if m not in outran and m - 1 in months]
    assert outran and calm, "the fixture needs both kinds of month"
    for month, expect in ((outran[-1], True), (calm[-1], False)):
        flagged, tests = seats.spiral_months(agents, _performance(agents, months, month, drop=0.05), AS_OF)
        assert tests >= 2 * len(outran) - 2
        assert (month.strftime("%Y-%m") in set(flagged["month"])) is expect
        assert set(flagged["metric"]) <= {"conversion"}  # QA did not fall
    none, _ = seats.spiral_months(agents, _performance(agents, months), AS_OF)
    assert none.empty


def test_the_spiral_check_hears_occupancy_rising_in_a_month_of_exits():
    """With queue_intervals, a month whose exits outran hires and whose days ran 8 points
    busier than the month before is flagged on occupancy; a calm month's rise is not."""
    agents = _agents(n=1200, seed=3)
    freeze = agents["hire_date"].dt.to_period("M").between(pd.Period("2026-02"), pd.Period("2026-04"))
    agents = agents[~freeze].reset_index(drop=True)
    months = pd.period_range("2025-07", "2026-06", freq="M")
    exits = agents["exit_date"].dt.to_period("M").value_counts()
    hires = agents["hire_date"].dt.to_period("M").value_counts()
    outran = [m for m in months if exits.get(m, 0) > hires.get(m, 0)]
    calm = [m for m in months if m not in outran and m - 1 in months]
    rng = np.random.default_rng(8)
    for month, expect in ((outran[-1], True), (calm[-1], False)):
        starts = pd.date_range("2025-06-01", "2026-06-30 23:30", freq="30min")
        starts = starts[(starts.hour >= 9) & (starts.hour < 21)]
        busy = 0.70 + 0.08 * (starts.to_period("M") == month) + rng.normal(0, 0.05, len(starts))
        queue = pd.DataFrame({"interval_start": starts, "agents_staffed": 10.0,
                              "agents_on_calls": np.clip(busy, 0, 1) * 10})
        flagged, tests = seats.spiral_months(agents, None, AS_OF, queue=queue)
        assert tests == len(outran)  # one occupancy test per month whose exits outran hires
        assert (month.strftime("%Y-%m") in set(flagged["month"])) is expect
        assert set(flagged["metric"]) <= {"occupancy"}


def test_without_certification_results_every_employed_agent_is_a_seat():
    """Exports without an exam (the public HR data set) are not projected to zero seats."""
    agents = _agents(n=1500, seed=6).assign(certified=pd.array([pd.NA] * 1500, dtype="boolean"),
                                            certification_date=pd.NaT)
    found = seats.analyse(_ds(agents), seats_needed=0, draws=20, backtest_draws=10).findings()
    assert not found.certification_tracked
    assert found.effective_now.value == found.employed
    assert "no certification results" in found.headlines()[0]
    assert found.seats_at_horizon.value == pytest.approx(found.employed * np.exp(-RATE * 7 * 26), rel=0.05)


def test_each_site_gets_its_own_plan_and_unknown_sites_are_named():
    agents = _agents(n=2000, seed=8).assign(site=lambda t: np.where(np.arange(len(t)) % 2, "north", "south"))
    ds = _ds(agents)
    found = seats.analyse(ds, seats_needed=0, seats_by_site={"north": 10, "south": 5000}, draws=20,
                          backtest_draws=10).findings()
    site = {s["site"]: s for s in found.sites}
    assert site["north"]["classes"] == 0 and site["south"]["classes"] > 0
    assert site["north"]["effective_now"] + site["south"]["effective_now"] == found.effective_now.value
    with pytest.raises(ParameterError, match="no agent employed at site.*east.*sites: north, south"):
        seats.analyse(ds, seats_by_site={"east": 10}, draws=20)


def test_the_backtest_reads_each_agent_s_real_fate_whatever_the_row_order():
    """The as-of cut renumbers rows; the real seats are matched by agent_id, not by position."""
    agents = _agents(n=1500, seed=9)
    ordered = seats.backtest(agents.sort_values("hire_date", kind="stable").reset_index(drop=True), AS_OF, 24, 26,
                             10, 0.9, 0)
    shuffled = seats.backtest(agents.sample(frac=1, random_state=1).reset_index(drop=True), AS_OF, 24, 26, 10, 0.9, 0)
    assert len(ordered) >= 3 and ordered["actual"].tolist() == shuffled["actual"].tolist()
    p = np.exp(-RATE * 7 * 26)  # memoryless: each agent of the roster is still here with p
    assert all(abs(a - n * p) < 4 * np.sqrt(n * p * (1 - p)) for a, n in zip(ordered["actual"], ordered["roster"]))


@pytest.mark.parametrize("case", ["ties and day-0 exits", "all censored", "all left", "small resample"])
def test_the_survival_steps_are_lifelines_kaplan_meier(case):
    """The projection's curves come from scipy's ecdf (refitted hundreds of times); they must
    be the steps of a lifelines Kaplan-Meier fit, time 0 included."""
    from lifelines import KaplanMeierFitter

    from ccinsight.survival import km_steps

    rng = np.random.default_rng(3)
    n = {"small resample": 12}.get(case, 400)
    durations = np.floor(rng.exponential(150, n))
    left = {"all censored": np.zeros(n, bool), "all left": np.ones(n, bool)}.get(case, rng.random(n) < 0.6)
    if case == "ties and day-0 exits":
        durations[:5], left[:5] = 0, True
    times, surv = km_steps(durations, left)
    sf = KaplanMeierFitter().fit(durations, left.astype(int)).survival_function_.iloc[:, 0]
    assert times.tolist() == sf.index.to_numpy(float).tolist()
    assert surv == pytest.approx(sf.to_numpy(), abs=1e-12)


def test_a_backfill_projects_each_backtest_origin_once_and_again_when_its_data_change(monkeypatch):
    """An origin's projection depends on the agents known then, not on the month analysed:
    the next month's backtest reuses it (the kernel a deck keeps runs the months in turn),
    and an agent changed before the origin makes it projected again."""
    agents = _agents(n=1500, seed=4)
    seats._PROJECTIONS.clear()
    april, may = pd.Timestamp("2026-04-30"), pd.Timestamp("2026-05-31")
    before = seats.backtest(agents, april, 24, 26, 10, 0.9, 0)
    calls = []
    real = seats.simulate
    monkeypatch.setattr(seats, "simulate", lambda *a, **k: calls.append(1) or real(*a, **k))
    after = seats.backtest(agents, may, 24, 26, 10, 0.9, 0)
    assert len(after) > len(before) and len(calls) == len(after) - len(before)  # only new origins projected
    pd.testing.assert_frame_equal(after.iloc[:len(before)], before)
    seats._PROJECTIONS.clear()
    calls.clear()
    pd.testing.assert_frame_equal(seats.backtest(agents, may, 24, 26, 10, 0.9, 0), after)  # as made anew
    assert len(calls) == len(after)
    calls.clear()
    changed = agents.copy()
    first = changed["hire_date"].idxmin()
    changed.loc[first, "exit_date"] = changed.loc[first, "hire_date"] + pd.Timedelta(days=3)
    seats.backtest(changed, may, 24, 26, 10, 0.9, 0)
    assert len(calls) == len(after)  # every origin knows that agent: all projected again
