"""The synthetic contact center: deterministic, valid, and its planted effects are in the tables.

Each planted value in truth.json is measured here from the raw Parquet tables with plain
pandas / scipy (no ccinsight analysis code), with tolerances that allow sampling error.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ccinsight import data, synth


def _digest(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_files(small_data, tmp_path):
    again = synth.generate(tmp_path / "again", seed=7, scale=0.05).out
    assert _digest(again) == _digest(small_data)


def test_other_seed_other_data(small_data, tmp_path):
    other = synth.generate(tmp_path / "other", seed=8, scale=0.05).out
    assert _digest(other)["agents.parquet"] != _digest(small_data)["agents.parquet"]


def test_generated_folder_has_the_users_usual_permissions(small_data, tmp_path):
    """Not a private temporary folder (0700): colleagues on a shared server read it as any other."""
    usual = tmp_path / "made-by-hand"
    usual.mkdir()
    assert small_data.stat().st_mode & 0o777 == usual.stat().st_mode & 0o777
    assert not list(small_data.parent.glob(".*.tmp-*"))  # no temporary folder left beside it


def test_is_current_tracks_seed_and_scale(small_data):
    assert synth.is_current(small_data, seed=7, scale=0.05)
    assert not synth.is_current(small_data, seed=8, scale=0.05)
    assert not synth.is_current(small_data.parent / "nowhere")


def test_small_set_passes_the_contract(small_data):
    ds = data.load(small_data)
    assert ds.report.ok, str(ds.report)


def test_default_set_passes_the_contract(synthetic):
    ds = data.load(synthetic, validate=False)
    assert ds.report.ok, str(ds.report)


def test_default_size_matches_the_brief(tables):
    agents = tables["agents"]
    assert 2300 <= len(agents) <= 2700
    assert 55 <= agents["cohort_id"].nunique() <= 65
    assert agents["site"].nunique() == 3
    assert 900_000 <= len(tables["outbound_calls"]) <= 1_100_000
    months = tables["outbound_calls"]["started_at"].dt.to_period("M").nunique()
    assert 34 <= months <= 36


# --------------------------------------------------------------------------- scripts
def _last_month(calls: pd.DataFrame, truth: dict) -> pd.DataFrame:
    return calls[calls["started_at"].dt.to_period("M") == pd.Period(truth["meta"]["last_month"])]


def test_acceptance_near_three_minutes(tables, truth):
    calls = _last_month(tables["outbound_calls"], truth)
    near = calls[calls["talk_time_s"].between(170, 190)]
    assert len(near) > 1000
    assert near["accepted"].mean() == pytest.approx(truth["acceptance_at_3min"], abs=0.03)
    assert truth["acceptance_at_3min"] == pytest.approx(0.77)


def test_acceptance_beyond_five_minutes(tables, truth):
    calls = _last_month(tables["outbound_calls"], truth)
    long = calls[calls["talk_time_s"] > 300]
    assert long["accepted"].mean() == pytest.approx(truth["acceptance_over_5min"], abs=0.03)
    assert truth["acceptance_over_5min"] == pytest.approx(0.50, abs=0.02)


def test_acceptance_declines_smoothly_with_duration(tables):
    calls = tables["outbound_calls"]
    rate = calls.groupby(calls["talk_time_s"] // 60)["accepted"].mean().loc[1:7]
    assert (np.diff(rate.to_numpy()) < 0).all(), rate


def test_long_calls_tolerated_least_in_planted_hours(tables, truth):
    calls = tables["outbound_calls"]
    long = calls[calls["talk_time_s"] > 300]
    by_hour = long.groupby(long["started_at"].dt.hour)["accepted"].mean()
    low = by_hour.loc[truth["low_tolerance_hours"]]
    other = by_hour.drop(truth["low_tolerance_hours"])
    assert low.max() < other.min()


def test_keyword_script_cuts_talk_time_and_lifts_conversion(tables, truth):
    calls = _last_month(tables["outbound_calls"], truth)
    by = calls.groupby("script_version", observed=True)
    mean_talk = by["talk_time_s"].mean()
    cut = 100 * (1 - mean_talk["keyword"] / mean_talk["verbatim"])
    assert cut == pytest.approx(truth["keyword_aht_cut_pct"], abs=2.0)
    assert truth["keyword_aht_cut_pct"] == pytest.approx(25.38, abs=0.5)
    assert mean_talk["keyword"] == pytest.approx(165, abs=5)  # 2:45
    assert by["converted"].mean()["keyword"] == pytest.approx(truth["conversion_keyword"], abs=0.02)
    assert truth["conversion_keyword"] == pytest.approx(0.53, abs=0.01)


def test_both_scripts_run_side_by_side_in_the_last_month(tables, truth):
    calls = _last_month(tables["outbound_calls"], truth)
    share = (calls["script_version"] == truth["keyword_script_version"]).mean()
    assert 0.3 < share < 0.8


def test_verbatim_conversion_in_the_reported_range(tables, truth):
    calls = tables["outbound_calls"]
    before = calls[calls["started_at"] < pd.Timestamp(truth["keyword_start_date"])]
    by_campaign = before.groupby("campaign", observed=True)["converted"].mean()
    assert by_campaign.min() == pytest.approx(0.25, abs=0.03)
    assert by_campaign.max() == pytest.approx(0.42, abs=0.03)


# --------------------------------------------------------------------------- training
def _window_performance(tables, metric="conversion_rate") -> pd.DataFrame:
    training = tables["training"]
    perf = tables["performance"].merge(training, on="agent_id")
    end_month = perf["training_end_date"].dt.to_period("M")
    k = (perf["month"].dt.to_period("M") - end_month).map(lambda d: d.n)
    window = perf[k.between(2, 3)]
    return window.groupby(["agent_id", "training_score", "training_end_date"], as_index=False)[metric].mean()


@pytest.mark.parametrize("side", ["before", "after"])
def test_training_score_correlation_before_and_after_change(tables, truth, side):
    joined = _window_performance(tables)
    change = pd.Timestamp(truth["process_change_date"])
    part = joined[(joined["training_end_date"] < change) if side == "before"
                  else (joined["training_end_date"] >= change)]
    assert len(part) > 300
    r = stats.pearsonr(part["training_score"], part["conversion_rate"]).statistic
    assert r == pytest.approx(truth[f"r_{side}"], abs=0.08)


# --------------------------------------------------------------------------- attrition
def _ninety_day(agents: pd.DataFrame, end: pd.Timestamp) -> pd.Series:
    """Left within 90 days, among hires with 90 days of follow-up (no censoring)."""
    followed = agents[agents["hire_date"] <= end - pd.Timedelta(days=90)]
    tenure = (followed["exit_date"] - followed["hire_date"]).dt.days
    return (tenure <= 90).fillna(False).astype(bool).rename("left_90d").to_frame().join(followed)


def test_mentoring_programme_cuts_90_day_attrition(tables, truth):
    agents = tables["agents"]
    end = pd.Period(truth["meta"]["last_month"]).end_time.normalize()
    regular = agents[~agents["cohort_id"].isin(truth["bulk_drive_cohorts"])]
    regular = regular[regular["hire_date"] >= (pd.Period(truth["meta"]["last_month"]) - 23).start_time]
    left = _ninety_day(regular, end)
    rates = left.groupby("onboarding_program")["left_90d"].mean()
    assert rates[False] == pytest.approx(truth["attrition_90d_before_program"], abs=0.025)
    assert rates[True] == pytest.approx(truth["attrition_90d_program"], abs=0.02)
    assert truth["attrition_90d_before_program"] == pytest.approx(0.11, abs=0.01)
    assert truth["attrition_90d_program"] == pytest.approx(0.05, abs=0.01)


def test_mentoring_programme_lifts_certification(tables, truth):
    agents = tables["agents"]
    regular = agents[~agents["cohort_id"].isin(truth["bulk_drive_cohorts"]) & agents["certified"].notna()]
    rates = regular.groupby("onboarding_program")["certified"].mean()
    assert rates[False] == pytest.approx(truth["cert_pass_before_program"], abs=0.03)
    assert rates[True] == pytest.approx(truth["cert_pass_program"], abs=0.03)


def test_hazard_highest_in_first_weeks(tables):
    agents = tables["agents"]
    tenure = (agents["exit_date"] - agents["hire_date"]).dt.days.dropna()
    weekly = tenure.floordiv(7).value_counts().sort_index()
    assert weekly.loc[0:3].mean() > 2 * weekly.loc[20:30].mean()


def test_interns_from_one_school_leave_together(tables, truth):
    agents = tables["agents"]
    campus = agents[agents["school"].notna() & ~agents["cohort_id"].isin(truth["bulk_drive_cohorts"])
                    & agents["exit_date"].notna()]

    def share_close(df: pd.DataFrame, key: list[str]) -> float:
        close = 0
        for _, g in df.groupby(key):
            d = g["exit_date"].sort_values().to_numpy()
            if len(d) < 2:
                continue
            gaps = np.diff(d).astype("timedelta64[D]").astype(int)
            near = np.zeros(len(d), bool)
            near[1:] |= gaps <= 5
            near[:-1] |= gaps <= 5
            close += near.sum()
        return close / len(df)

    same_school = share_close(campus, ["cohort_id", "school"])
    # chance: the same exits regrouped at random into groups of the same sizes
    rng = np.random.default_rng(0)
    shuffled = campus.assign(school=rng.permutation(campus["school"].to_numpy()),
                             cohort_id=rng.permutation(campus["cohort_id"].to_numpy()))
    assert same_school > 2 * share_close(shuffled, ["cohort_id", "school"])


# --------------------------------------------------------------------------- channels
def test_referrals_stay_best(tables, truth):
    agents = tables["agents"]
    end = pd.Period(truth["meta"]["last_month"]).end_time.normalize()
    regular = agents[~agents["cohort_id"].isin(truth["bulk_drive_cohorts"])]
    left = _ninety_day(regular, end).groupby("hiring_channel")["left_90d"].agg(["mean", "size"])
    # a channel of a few dozen hires can beat anyone by luck; rank the ones with real numbers
    sizable = left[left["size"] >= 150]
    assert (1 - sizable["mean"]).idxmax() == truth["best_channel"] == "referral"


def test_bulk_drive_loses_two_thirds_in_60_days(tables, truth):
    agents = tables["agents"]
    drive = agents[agents["cohort_id"].isin(truth["bulk_drive_cohorts"])]
    assert len(drive) == truth["bulk_drive_hires"] == 300
    assert (drive["hiring_channel"] == truth["bulk_drive_channel"]).all()
    assert drive["hire_date"].max() - drive["hire_date"].min() <= pd.Timedelta(days=50)
    tenure = (drive["exit_date"] - drive["hire_date"]).dt.days
    retained = 1 - (tenure <= 60).mean()
    assert retained == pytest.approx(truth["bulk_drive_retention_60d"], abs=0.06)


def test_names_stay_distinct_beyond_the_pool_of_names():
    """A large centre (synth --scale 8 and up) has more hires than first x middle x last
    names; the generator crashed there. Names stay distinct, so privacy scans stay exact."""
    pool = len(synth.FIRST_NAMES) * len(synth.LAST_NAMES) * 19
    names = synth._names(pool + 1000, np.random.default_rng(0))
    assert len(names) == pool + 1000 == len(set(names))


def _queue_by_month(tables, key):
    q = tables["queue_intervals"]
    q = q.assign(month=q["interval_start"].dt.to_period("M").astype(str))
    return q.groupby([key, "month"])[["offered", "answered", "agents_on_calls", "agents_staffed"]].sum()


def test_the_drive_sites_short_month_is_in_the_queue(tables, truth):
    """Planted: the month the bulk drive was due to certify, its site answers far fewer of
    its calls than in any other site-month."""
    miss = truth["queue"]["answer_rate_miss"]
    g = _queue_by_month(tables, "site")
    rate = g["answered"] / g["offered"]
    assert rate[(miss["site"], miss["month"])] == pytest.approx(miss["answer_rate"], abs=0.01)
    assert rate[(miss["site"], miss["month"])] < 0.88 < rate.drop((miss["site"], miss["month"])).min()


def test_the_overloaded_team_runs_hot_then_loses_agents(tables, truth):
    planted = truth["queue"]["overload"]
    g = _queue_by_month(tables, "team")
    occupancy = (g["agents_on_calls"] / g["agents_staffed"]).unstack("month")
    hot = occupancy.loc[planted["team"], planted["months"]]
    assert (hot > 0.85).all()
    others = occupancy.drop(planted["team"])
    runs = (others > 0.85).T.rolling(3).sum().ge(3).any()
    assert not runs.any(), runs[runs].index.tolist()
    agents = tables["agents"]
    start = pd.Timestamp(planted["exits_rise_from"] + "-01")
    end = start + pd.DateOffset(months=3) - pd.Timedelta(days=1)
    here = (agents["hire_date"] <= start - pd.Timedelta(days=90)) & (agents["exit_date"].isna() | (agents["exit_date"] >= start))
    left = here & agents["exit_date"].between(start, end)
    mine = agents["team"] == planted["team"]
    test = stats.fisher_exact([[left[mine].sum(), (here & mine).sum() - left[mine].sum()],
                               [left[~mine].sum(), (here & ~mine).sum() - left[~mine].sum()]], alternative="greater")
    assert left[mine].sum() / (here & mine).sum() > 2 * left[~mine].sum() / (here & ~mine).sum() and test.pvalue < 0.01


def test_a_larger_centre_hires_within_the_calendar():
    """Scaling adds classes side by side: no class, the bulk drive's included, starts after the
    calendar ends (at scale 100 the drive's classes once ran on, weekly, past it)."""
    for scale in (1, 100):
        plan = synth.Plan().scaled(scale)
        cohorts = synth._cohorts(plan, np.random.default_rng(1))
        assert cohorts["start"].max() <= pd.Timestamp(plan.end)
        drive = cohorts[cohorts["drive"]]
        assert drive["start"].max() < pd.Timestamp(plan.drive_start) + pd.Timedelta(weeks=plan.drive_weeks)
