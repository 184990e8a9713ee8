"""The embedded synthetic contact center.

A deterministic (for a given seed) contact center calibrated to the field reports in
``DOMAIN.md``: three sites, 36 months, about 2,500 hires in about 60 training classes and
about a million outbound calls. It plants the effects the notebooks must find again and
writes them to ``truth.json``. Planted values are computed from the generator's own
probabilities (the expected value for the population named beside each), never from
the realised outcomes, so a notebook's estimate differs from them by sampling error only.

Every draw comes from one ``numpy.random.Generator`` seeded by ``seed``; the order of
draws is fixed, so the same seed and scale give the same files.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit

from ccinsight import leftovers, queueing
from ccinsight.config import DEFAULT_SEED, display_path

#: Bump when the generated tables or truth change, so stale data sets are regenerated.
GENERATOR_VERSION = 5

CHANNELS = ("referral", "job_board", "campus", "agency", "walk_in", "social_media", "rehire")


@dataclass(frozen=True)
class ChannelProfile:
    """What a hiring channel brings: share of hires and its planted quality."""

    share: float
    hazard_ratio: float  # multiplies the attrition hazard
    perf_effect_sd: float  # shift of latent performance, in standard deviations
    cert_logit: float  # shift of certification log-odds
    cost_per_hire: float


PROFILES = {
    "referral": ChannelProfile(0.22, 0.55, 0.35, 0.5, 1500.0),
    "job_board": ChannelProfile(0.30, 1.00, 0.00, 0.0, 800.0),
    "campus": ChannelProfile(0.15, 1.35, -0.20, -0.4, 400.0),
    "agency": ChannelProfile(0.12, 1.15, -0.05, -0.2, 2500.0),
    "walk_in": ChannelProfile(0.08, 1.10, -0.10, -0.1, 200.0),
    "social_media": ChannelProfile(0.10, 1.25, -0.10, -0.2, 600.0),
    "rehire": ChannelProfile(0.03, 1.05, 0.10, 0.1, 300.0),  # left once, may leave again
}

CAMPAIGNS = (
    "broadband-upgrade", "credit-card-offer", "insurance-renewal", "mobile-plan-switch",
    "tv-bundle", "loan-preapproval", "energy-tariff", "travel-card", "wealth-review",
    "device-protection",
)

#: Call volume by hour of the calling day (09:00-20:59).
HOUR_WEIGHTS = {9: 6, 10: 10, 11: 10, 12: 7, 13: 7, 14: 10, 15: 10, 16: 10, 17: 9, 18: 8, 19: 7, 20: 6}
#: Why customers refuse an outbound offer.
REFUSAL_REASONS = ("too_long", "not_interested", "busy", "hung_up")
#: Calls drawn at a time: bounds the generator's memory at any scale (a month with more
#: calls comes in chunks).
CALL_CHUNK = 250_000
#: Hours when customers tolerate long calls least: the acceptance slope is steeper.
LOW_TOLERANCE_HOURS = (12, 13, 19, 20)
LOW_TOLERANCE_SLOPE = 1.6


@dataclass(frozen=True)
class Plan:
    """Calendar, size and planted effects of the synthetic contact center."""

    start: date = date(2023, 11, 1)
    months: int = 36
    sites: tuple[str, ...] = ("Dalian", "Hefei", "Chengdu")
    regular_hires: int = 2200
    regular_cohorts: int = 54
    training_days: int = 35  # about 25 working days
    exam_day: int = 60  # certification exam, days after hire
    drive_hires: int = 300
    drive_cohorts: int = 6
    drive_weeks: int = 6  # the drive's classes start over this many weeks, whatever the scale
    drive_start: date = date(2026, 1, 5)
    drive_site: str = "Chengdu"
    drive_schools: int = 3
    drive_retention_60d: float = 1 / 3
    calls: int = 1_000_000
    # training score vs performance
    process_change_date: date = date(2025, 3, 1)
    r_before: float = 0.10
    r_after: float = 0.60
    perf_sd: float = 0.06  # sd of an agent's latent conversion rate
    perf_month_sd: float = 0.02  # month-to-month noise
    # attrition and the mentoring programme, rolled out site by site (Chengdu not yet),
    # so both arms have several hundred hires in the default 24-month window
    program_start: tuple[tuple[str, date], ...] = (("Hefei", date(2025, 1, 1)), ("Dalian", date(2025, 10, 1)))
    attrition_90d_before_program: float = 0.11
    attrition_90d_program: float = 0.05
    weibull_shape: float = 0.7  # < 1: hazard highest in the first weeks
    cert_pass_before_program: float = 0.85
    cert_pass_program: float = 0.94
    cluster_follow_prob: float = 0.7  # a campus leaver pulls classmates out with them
    # outbound scripts
    acceptance_at_3min: float = 0.77
    acceptance_over_5min: float = 0.50
    verbatim_mean_s: float = 221.0
    keyword_mean_s: float = 165.0  # 2:45, a 25.3% cut
    talk_time_shape: float = 6.0
    keyword_start: date = date(2026, 5, 1)
    keyword_share: tuple[float, ...] = (0.15, 0.25, 0.35, 0.45, 0.50, 0.55)
    conversion_keyword: float = 0.53
    verbatim_convert_given_accept: tuple[float, float] = (0.37, 0.60)
    # inbound queue (queue_intervals): the last queue_months of the calendar, 09:00-20:59
    queue_months: int = 24
    aht_s: float = 300.0
    sl_target: float = 0.87  # the centre plans the load its staff could answer 87% within the threshold
    on_shift: float = 0.45  # share of effective seats logged in at an average half hour
    sl_threshold_s: float = 20.0
    patience_s: float = 900.0  # mean time a waiting caller holds on
    # the month the bulk drive's classes were due to certify, the drive site's volume grew
    # by what the drive was hired to answer; its seats had not
    drive_volume_uplift: float = 0.35
    # one team carries more load than planned for three months; then its agents leave
    overload_team: str = "HEF-T02"
    overload_start: date = date(2026, 5, 1)
    overload_months: int = 3
    overload_load: float = 1.05  # offered Erlangs per expected staffed agent
    overload_exit_3m: float = 0.35  # extra share of the team's tenured agents leaving in the next 3 months

    @property
    def end(self) -> date:
        return (pd.Timestamp(self.start) + pd.DateOffset(months=self.months) - pd.Timedelta(days=1)).date()

    def scaled(self, scale: float) -> "Plan":
        """The same contact center with ``scale`` times the hires and calls."""
        from dataclasses import replace

        return replace(
            self,
            regular_hires=max(30, round(self.regular_hires * scale)),
            regular_cohorts=max(3, round(self.regular_cohorts * scale)),
            drive_hires=max(6, round(self.drive_hires * scale)),
            drive_cohorts=max(1, round(self.drive_cohorts * scale)),
            calls=max(2000, round(self.calls * scale)),
        )


# --------------------------------------------------------------------------- calibration
def _mix() -> tuple[np.ndarray, dict[str, ChannelProfile]]:
    return np.array([PROFILES[c].share for c in CHANNELS]), PROFILES


def _calibrate_hazard(plan: Plan) -> tuple[float, float]:
    """Baseline 90-day cumulative hazard and programme hazard ratio hitting the targets
    over the regular channel mix."""
    w, prof = _mix()
    hr = np.array([prof[c].hazard_ratio for c in CHANNELS])

    def attrition(h90: float) -> float:
        return float(np.sum(w * (1 - np.exp(-h90 * hr))))

    base = brentq(lambda h: attrition(h) - plan.attrition_90d_before_program, 1e-6, 5)
    program_hr = brentq(lambda r: attrition(base * r) - plan.attrition_90d_program, 1e-4, 1)
    return base, program_hr


def _calibrate_cert(plan: Plan) -> tuple[float, float]:
    """Certification intercepts (log-odds) hitting the pass-rate targets over the mix."""
    w, prof = _mix()
    off = np.array([prof[c].cert_logit for c in CHANNELS])

    def rate(a: float) -> float:
        return float(np.sum(w * expit(a + off)))

    return (brentq(lambda a: rate(a) - plan.cert_pass_before_program, -10, 10),
            brentq(lambda a: rate(a) - plan.cert_pass_program, -10, 10))


def _acceptance(talk_s: np.ndarray, hour: np.ndarray, slope_per_min: float, plan: Plan) -> np.ndarray:
    steep = np.isin(hour, LOW_TOLERANCE_HOURS)
    slope = slope_per_min * np.where(steep, LOW_TOLERANCE_SLOPE, 1.0)
    return expit(logit(plan.acceptance_at_3min) - slope * (talk_s - 180.0) / 60.0)


def _talk_times(rng: np.random.Generator, mean_s: np.ndarray, plan: Plan) -> np.ndarray:
    draws = rng.gamma(plan.talk_time_shape, mean_s / plan.talk_time_shape)
    return np.clip(np.rint(draws), 10, 1800)


def _calibrate_acceptance(plan: Plan) -> tuple[float, float]:
    """Acceptance slope (per minute beyond 3) giving the target share over 5 minutes, and
    P(convert | accepted) for the keyword script giving its conversion target, both for the
    script mix of the last month. Uses a fixed calibration sample, not the data's draws."""
    rng = np.random.default_rng(12345)
    n = 400_000
    kw_share = plan.keyword_share[-1]
    keyword = rng.random(n) < kw_share
    talk = _talk_times(rng, np.where(keyword, plan.keyword_mean_s, plan.verbatim_mean_s), plan)
    hours = np.array(list(HOUR_WEIGHTS))
    hour = rng.choice(hours, n, p=np.array(list(HOUR_WEIGHTS.values())) / sum(HOUR_WEIGHTS.values()))
    long = talk > 300
    slope = brentq(lambda b: _acceptance(talk[long], hour[long], b, plan).mean() - plan.acceptance_over_5min,
                   0.01, 5)
    kw_accept = _acceptance(talk[keyword], hour[keyword], slope, plan).mean()
    return slope, plan.conversion_keyword / kw_accept


# --------------------------------------------------------------------------- agents
def _cohorts(plan: Plan, rng: np.random.Generator) -> pd.DataFrame:
    """Training classes: regular ones spread over the calendar, plus the bulk drive."""
    last_start = pd.Timestamp(plan.end) - pd.Timedelta(days=20)
    starts = pd.date_range(pd.Timestamp(plan.start), last_start, periods=plan.regular_cohorts).normalize()
    sizes = rng.multinomial(plan.regular_hires, np.full(plan.regular_cohorts, 1 / plan.regular_cohorts))
    regular = pd.DataFrame({
        "start": starts, "size": sizes,
        "site": [plan.sites[i % len(plan.sites)] for i in range(plan.regular_cohorts)],
        "drive": False,
    })
    # a larger drive runs more classes side by side, not for longer: its weeks stay those of the plan
    drive_starts = pd.Timestamp(plan.drive_start) + pd.to_timedelta(7 * (np.arange(plan.drive_cohorts)
                                                                         % plan.drive_weeks), unit="D")
    drive_sizes = np.full(plan.drive_cohorts, plan.drive_hires // plan.drive_cohorts)
    drive_sizes[: plan.drive_hires - drive_sizes.sum()] += 1
    drive = pd.DataFrame({"start": drive_starts, "size": drive_sizes, "site": plan.drive_site, "drive": True})
    cohorts = pd.concat([regular, drive]).sort_values("start", kind="stable").reset_index(drop=True)
    cohorts["cohort_id"] = [f"class-{i + 1:03d}" for i in range(len(cohorts))]
    return cohorts


def _exit_days(h90: np.ndarray, plan: Plan, rng: np.random.Generator) -> np.ndarray:
    """Weibull tenure (days) with cumulative hazard h90 * (t / 90) ** shape."""
    e = rng.exponential(size=len(h90))
    return 90.0 * (e / h90) ** (1 / plan.weibull_shape)


def _cluster_school_exits(agents: pd.DataFrame, t: np.ndarray, plan: Plan,
                          rng: np.random.Generator) -> np.ndarray:
    """Interns from one school in one class leave together: exits within 90 days move to
    within a few days after the first classmate's. Only exits that would happen by day 90
    move, and only earlier, so 90-day attrition is unchanged."""
    t = t.copy()
    follow = rng.random(len(t)) < plan.cluster_follow_prob
    lag = rng.integers(0, 5, len(t))
    campus = agents["school"].notna().to_numpy() & ~agents["drive"].to_numpy()
    early = campus & (t <= 90)
    groups = agents.loc[early].groupby(["cohort_id", "school"]).indices
    idx_early = np.flatnonzero(early)
    for members in groups.values():
        rows = idx_early[members]
        if len(rows) < 2:
            continue
        first = rows[np.argmin(t[rows])]
        movers = rows[(rows != first) & follow[rows]]
        t[movers] = np.minimum(t[movers], t[first] + lag[movers])
    return t


FIRST_NAMES = ("Aiko", "Bongani", "Carmen", "Dmitri", "Esperanza", "Farid", "Greta", "Hamza", "Ines", "Jomo",
               "Kalani", "Ludmila", "Mateus", "Nkechi", "Oskar", "Priya", "Quentin", "Rosalind", "Soren", "Tatiana",
               "Ulrich", "Valentina", "Wendell", "Ximena", "Yusuf", "Zofia")
LAST_NAMES = ("Abernathy", "Bergstrom", "Castellanos", "Dimitriou", "Eberhardt", "Fairweather", "Gallagher",
              "Hakimi", "Ishikawa", "Jablonski", "Kowalczyk", "Lindqvist", "Montgomery", "Nakashima", "Oyelaran",
              "Pemberton", "Quintanilla", "Rasmussen", "Szczepanski", "Thorvaldsen", "Uchenna", "Villanueva",
              "Whitcombe", "Xanthopoulos", "Yamamoto", "Zielinski")


def _names(n: int, rng: np.random.Generator) -> list[str]:
    """Full names for the hires, distinct, so a privacy scan can look for every one."""
    pairs = np.array([f"{f} {m}. {l}" for f in FIRST_NAMES for l in LAST_NAMES for m in "ABCDEFGHJKLMNPRSTVW"])
    if n <= len(pairs):
        return list(rng.choice(pairs, n, replace=False))
    # more hires than names (a large centre): the names again with a number, still distinct
    rounds = -(-n // len(pairs))
    names = [p if k == 0 else f"{p} {k + 1}" for k in range(rounds) for p in rng.permutation(pairs)]
    return names[:n]


def _overload_exits(agents: pd.DataFrame, t: np.ndarray, plan: Plan, rng: np.random.Generator) -> np.ndarray:
    """After its months of overload, the overloaded team's agents hired 90+ days before
    leave faster: an extra exit within three months for ``overload_exit_3m`` of them."""
    rise = pd.Timestamp(plan.overload_start) + pd.DateOffset(months=plan.overload_months)
    since = (rise - agents["hire_date"]).dt.days.to_numpy(float)
    who = (agents["team"] == plan.overload_team).to_numpy() & (since >= 90) & (t > since)
    extra = rng.exponential(92.0 / -np.log(1 - plan.overload_exit_3m), len(t))
    return np.where(who & (extra <= 92), np.minimum(t, since + extra), t)


def _agents(plan: Plan, rng: np.random.Generator, rng_overload: np.random.Generator
            ) -> tuple[pd.DataFrame, dict]:
    cohorts = _cohorts(plan, rng)
    agents = cohorts.loc[cohorts.index.repeat(cohorts["size"])].reset_index(drop=True)
    n = len(agents)
    agents["agent_id"] = [f"A{i + 10001}" for i in range(n)]
    agents["hire_date"] = agents["start"]
    drive = agents["drive"].to_numpy()
    w, prof = _mix()
    channel = rng.choice(np.array(CHANNELS), n, p=w)
    channel[drive] = "campus"
    agents["hiring_channel"] = channel
    # campus hires of a class come from one or two schools
    school_pool = np.array([f"school-{k:02d}" for k in range(1, 13)])
    cohort_schools = {cid: rng.choice(school_pool, 2, replace=False) for cid in cohorts["cohort_id"]}
    pick = rng.integers(0, 2, n)
    agents["school"] = [cohort_schools[c][p] for c, p in zip(agents["cohort_id"], pick)]
    drive_schools = np.array([f"drive-school-{k}" for k in range(1, plan.drive_schools + 1)])
    # each drive class comes from one school (schools send whole classes)
    drive_class = pd.factorize(agents.loc[drive, "cohort_id"])[0]
    agents.loc[drive, "school"] = drive_schools[drive_class % plan.drive_schools]
    agents.loc[agents["hiring_channel"] != "campus", "school"] = None
    prog_start = dict(plan.program_start)
    starts = pd.to_datetime(agents["site"].map(lambda s: pd.Timestamp(prog_start[s]) if s in prog_start else pd.NaT))
    agents["onboarding_program"] = (agents["hire_date"] >= starts).to_numpy() & ~drive
    team_no = rng.integers(1, 13, n)
    agents["team"] = [f"{s[:3].upper()}-T{k:02d}" for s, k in zip(agents["site"], team_no)]

    # attrition
    base_h90, program_hr = _calibrate_hazard(plan)
    hr = agents["hiring_channel"].map({c: PROFILES[c].hazard_ratio for c in CHANNELS}).to_numpy()
    h90 = base_h90 * hr * np.where(agents["onboarding_program"], program_hr, 1.0)
    t = _exit_days(h90, plan, rng)
    t = _cluster_school_exits(agents, t, plan, rng)
    # bulk drive: two thirds leave in school waves before day 60, the rest follow the
    # campus hazard conditional on having stayed 60 days
    early = rng.random(n) < (1 - plan.drive_retention_60d)
    # each school leaves in its own waves: wave days on a 4-day grid, none shared
    slots = rng.permutation(np.arange(7, 55, 4))[: plan.drive_schools * 3].reshape(plan.drive_schools, 3)
    school_idx = agents["school"].str.extract(r"drive-school-(\d+)")[0].fillna(0).astype(int).to_numpy() - 1
    wave = slots[np.clip(school_idx, 0, None), rng.integers(0, 3, n)] + rng.integers(0, 3, n)
    h60 = h90 * (60 / 90) ** plan.weibull_shape
    late = 90.0 * ((h60 + rng.exponential(size=n)) / h90) ** (1 / plan.weibull_shape)
    t = np.where(drive, np.where(early, wave, late), t)
    t = _overload_exits(agents, t, plan, rng_overload)
    # tenures beyond the calendar are censored anyway; cap them to keep dates in range
    tenure_days = np.clip(np.ceil(t), 1, 366 * 20).astype(int)
    exit_date = agents["hire_date"] + pd.to_timedelta(tenure_days, unit="D")
    end = pd.Timestamp(plan.end)
    agents["exit_date"] = exit_date.where(exit_date <= end)
    involuntary = rng.random(n) < 0.25
    agents["exit_type"] = np.where(agents["exit_date"].isna(), None,
                                   np.where(involuntary, "involuntary", "voluntary"))

    # certification exam about two months in, for those still there
    a_before, a_prog = _calibrate_cert(plan)
    off = agents["hiring_channel"].map({c: PROFILES[c].cert_logit for c in CHANNELS}).to_numpy()
    p_cert = expit(np.where(agents["onboarding_program"], a_prog, a_before) + off)
    p_cert = np.where(drive, 0.60, p_cert)
    exam_day = plan.exam_day + rng.integers(0, 7, n)
    exam_date = agents["hire_date"] + pd.to_timedelta(exam_day, unit="D")
    examined = (tenure_days > exam_day) & (exam_date <= end).to_numpy()
    passed = rng.random(n) < p_cert
    agents["certified"] = pd.array(np.where(examined, passed, False), dtype="boolean")
    agents.loc[~examined, "certified"] = pd.NA
    agents["certification_date"] = exam_date.where(examined)
    hidden = pd.DataFrame({"tenure_days": tenure_days, "h90": h90, "p_cert": p_cert, "drive": drive},
                          index=agents.index)
    return agents, {"hidden": hidden, "cohorts": cohorts}


# --------------------------------------------------------------------------- training / performance
def _training_and_performance(agents: pd.DataFrame, hidden: pd.DataFrame, plan: Plan,
                              rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(agents)
    end = pd.Timestamp(plan.end)
    training_end = agents["hire_date"] + pd.Timedelta(days=plan.training_days)
    finished = (hidden["tenure_days"].to_numpy() > plan.training_days) & (training_end <= end).to_numpy()
    z_score = rng.standard_normal(n)
    # latent performance: correlation with the score planted per process period; the
    # month-to-month noise of a two-month average attenuates it, so undo that here
    attenuation = plan.perf_sd / np.sqrt(plan.perf_sd ** 2 + plan.perf_month_sd ** 2 / 2)
    after = (training_end >= pd.Timestamp(plan.process_change_date)).to_numpy()
    rho = np.where(after, plan.r_after, plan.r_before) / attenuation
    w, prof = _mix()
    effect = agents["hiring_channel"].map({c: PROFILES[c].perf_effect_sd for c in CHANNELS}).to_numpy()
    mean_eff = float(np.sum(w * np.array([prof[c].perf_effect_sd for c in CHANNELS])))
    var_eff = float(np.sum(w * (np.array([prof[c].perf_effect_sd for c in CHANNELS]) - mean_eff) ** 2))
    noise = ((effect - mean_eff) + rng.standard_normal(n) * np.sqrt(1 - var_eff))
    z_perf = rho * z_score + np.sqrt(1 - rho ** 2) * noise

    training = pd.DataFrame({
        "agent_id": agents["agent_id"], "cohort_id": agents["cohort_id"],
        "training_score": np.clip(np.round(74 + 9 * z_score, 1), 0, 100),
        "training_end_date": training_end,
    })[finished].reset_index(drop=True)

    # one row per month on the floor: from the month after training ends to the exit month
    first = (training_end.dt.to_period("M") + 1)
    exit_or_end = agents["exit_date"].fillna(end)
    last = exit_or_end.dt.to_period("M")
    n_months = np.where(finished, (last - first).map(lambda d: d.n if pd.notna(d) else -1) + 1, 0)
    n_months = np.clip(n_months, 0, None)
    rows = np.repeat(np.arange(n), n_months)
    k = np.arange(len(rows)) - np.repeat(np.cumsum(n_months) - n_months, n_months)  # 0-based month
    month = (first.iloc[rows].reset_index(drop=True) + k).dt.to_timestamp()
    zp = z_perf[rows]
    ramp = np.where(k == 0, 1.0, 0.0)  # first month on the floor is slower and converts less
    m = len(rows)
    perf = pd.DataFrame({
        "agent_id": agents["agent_id"].to_numpy()[rows],
        "month": month,
        "calls_handled": rng.poisson(900, m) - (ramp * 200).astype(int),
        "aht_s": np.round(np.clip(300 - 25 * zp + 15 * rng.standard_normal(m) + 30 * ramp, 60, 1200), 1),
        "conversion_rate": np.round(np.clip(0.30 + plan.perf_sd * zp
                                            + plan.perf_month_sd * rng.standard_normal(m)
                                            - 0.03 * ramp, 0, 1), 4),
        "qa_score": np.round(np.clip(82 + 5 * zp + 3 * rng.standard_normal(m) - 3 * ramp, 0, 100), 1),
        "schedule_adherence": np.round(np.clip(0.90 + 0.03 * rng.standard_normal(m), 0, 1), 3),
    })
    return training, perf


# --------------------------------------------------------------------------- calls
def _calibrated_calls(plan: Plan) -> dict:
    slope, kw_convert = _calibrate_acceptance(plan)
    return {"slope_per_min": slope, "keyword_convert_given_accept": kw_convert,
            "convert_verbatim": dict(zip(CAMPAIGNS, np.linspace(*plan.verbatim_convert_given_accept,
                                                                len(CAMPAIGNS))))}


def _call_months(agents: pd.DataFrame, training: pd.DataFrame, plan: Plan, calib: dict,
                 rng: np.random.Generator) -> Iterator[pd.DataFrame]:
    """The outbound calls one month at a time, in time order (with the generator's
    probabilities ``_p_accept`` and ``_p_convert``), so any scale fits in memory: a month of
    more than ``CALL_CHUNK`` calls comes in chunks, each in time order."""
    slope, kw_convert, convert_verbatim = (calib["slope_per_min"], calib["keyword_convert_given_accept"],
                                           calib["convert_verbatim"])
    months = pd.period_range(pd.Timestamp(plan.start), pd.Timestamp(plan.end), freq="M")
    live_from = agents["agent_id"].map(training.set_index("agent_id")["training_end_date"]) + pd.Timedelta(days=1)
    live_to = agents["exit_date"].fillna(pd.Timestamp(plan.end))
    headcount = np.array([((live_from <= p.end_time) & (live_to >= p.start_time)).sum() for p in months])
    per_month = rng.multinomial(plan.calls, headcount / headcount.sum())
    kw_start = pd.Period(plan.keyword_start, freq="M")
    hours = np.array(list(HOUR_WEIGHTS))
    hour_p = np.array(list(HOUR_WEIGHTS.values())) / sum(HOUR_WEIGHTS.values())
    reasons = np.array(sorted(REFUSAL_REASONS))

    def draw(n: int, p: pd.Period, live: np.ndarray) -> pd.DataFrame:
        """``n`` calls of month ``p`` by the agents ``live`` that month, in time order."""
        who = live[rng.integers(0, len(live), n)]
        lo = np.maximum(live_from.to_numpy()[who], np.datetime64(p.start_time.normalize()))
        hi = np.minimum(live_to.to_numpy()[who], np.datetime64(p.end_time.normalize()))
        span = ((hi - lo) // np.timedelta64(1, "D")).astype(int) + 1
        day = lo + (rng.random(n) * span).astype(int) * np.timedelta64(1, "D")
        hour = rng.choice(hours, n, p=hour_p)
        second = rng.integers(0, 3600, n)
        started = day + hour * np.timedelta64(1, "h") + second * np.timedelta64(1, "s")
        i = (p - kw_start).n
        share = plan.keyword_share[min(i, len(plan.keyword_share) - 1)] if i >= 0 else 0.0
        keyword = rng.random(n) < share
        talk = _talk_times(rng, np.where(keyword, plan.keyword_mean_s, plan.verbatim_mean_s), plan)
        p_accept = _acceptance(talk, hour, slope, plan)
        campaign = rng.choice(np.array(CAMPAIGNS), n)
        p_convert = np.where(keyword, kw_convert, pd.Series(campaign).map(convert_verbatim).to_numpy())
        accepted = rng.random(n) < p_accept
        converted = accepted & (rng.random(n) < p_convert)
        p_long = np.clip((talk - 120) / 400, 0.05, 0.6)
        u = rng.random(n)
        reason = np.where(u < p_long, "too_long",
                          np.where(u < p_long + (1 - p_long) * 0.5, "not_interested",
                                   np.where(u < p_long + (1 - p_long) * 0.8, "busy", "hung_up")))
        return pd.DataFrame({
            "agent_id": agents["agent_id"].to_numpy()[who],
            "campaign": pd.Categorical(campaign, categories=sorted(CAMPAIGNS)),
            "script_version": pd.Categorical(np.where(keyword, "keyword", "verbatim"),
                                             categories=["keyword", "verbatim"]),
            "started_at": started,
            "talk_time_s": talk,
            "accepted": accepted,
            "converted": converted,
            "refusal_reason": pd.Categorical(np.where(accepted, None, reason), categories=reasons),
            "_p_accept": p_accept, "_p_convert": p_accept * p_convert,
        }).sort_values("started_at", kind="stable", ignore_index=True)

    for p, month_n in zip(months, per_month):
        live = np.flatnonzero(((live_from <= p.end_time) & (live_to >= p.start_time)).to_numpy())
        if month_n == 0 or len(live) == 0:
            continue
        for n in [CALL_CHUNK] * (month_n // CALL_CHUNK) + ([month_n % CALL_CHUNK] if month_n % CALL_CHUNK else []):
            yield draw(n, p, live)


class _CallWriter:
    """Writes the chunks of calls to Parquet row groups as they come (call ids numbered on)
    and sums what ``truth.json`` needs: over the last month's calls, and per campaign over
    verbatim calls before the keyword rollout, the generator's probabilities."""

    CATEGORIES = ("campaign", "script_version", "refusal_reason")

    def __init__(self, path: Path, plan: Plan):
        self.path, self.plan = path, plan
        self.writer = None
        self.rows = 0
        self.last_month: dict[str, list[float]] = {}  # quantity -> [sum, count]
        self.before_kw = pd.DataFrame(columns=["sum", "count"], dtype=float)

    def _add(self, name: str, values: pd.Series) -> None:
        total = self.last_month.setdefault(name, [0.0, 0])
        total[0] += float(values.sum())
        total[1] += len(values)

    def mean(self, name: str) -> float:
        """Mean of a quantity over the last month's calls."""
        total, n = self.last_month[name]
        return total / n

    def write(self, chunk: pd.DataFrame) -> None:
        """Append one chunk of calls."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        chunk.insert(0, "call_id", np.arange(self.rows + 1, self.rows + len(chunk) + 1, dtype=np.int64))
        self.rows += len(chunk)
        before = chunk.loc[chunk["started_at"] < pd.Timestamp(self.plan.keyword_start)]
        if len(before):
            sums = before.groupby("campaign", observed=True)["_p_accept"].agg(["sum", "count"])
            self.before_kw = sums.add(self.before_kw, fill_value=0) if len(self.before_kw) else sums
        last = chunk[chunk["started_at"] >= pd.Timestamp(self.plan.end).replace(day=1)]  # the calendar's last month
        if len(last):
            keyword = last["script_version"] == "keyword"
            self._add("p_accept_long", last.loc[last["talk_time_s"] > 300, "_p_accept"])
            self._add("p_convert_keyword", last.loc[keyword, "_p_convert"])
            self._add("p_convert_verbatim", last.loc[~keyword, "_p_convert"])
        table = pa.Table.from_pandas(chunk.drop(columns=["_p_accept", "_p_convert"]), preserve_index=False)
        for col in self.CATEGORIES:  # one dictionary type in every row group
            table = table.set_column(table.schema.get_field_index(col), col,
                                     table.column(col).cast(pa.dictionary(pa.int32(), pa.string())))
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


# --------------------------------------------------------------------------- inbound queue
def _sl(n: np.ndarray, a: np.ndarray, aht: np.ndarray, plan: Plan) -> np.ndarray:
    """Erlang C service level: share of calls answered within the threshold (no abandonment)."""
    return queueing.service_level(n, a, aht, plan.sl_threshold_s)


def _plannable(expected_staff: np.ndarray, plan: Plan) -> np.ndarray:
    """The load (Erlangs) the centre plans for a given expected staff: the most at which
    Erlang C still meets ``sl_target`` (interpolated between whole agents)."""
    from scipy.optimize import brentq

    top = int(np.ceil(expected_staff.max(initial=0))) + 1
    grid = np.arange(top + 1)
    most = [0.0] + [brentq(lambda a, k=k: _sl(np.array([k]), np.array([a]), np.array([plan.aht_s]), plan)[0]
                           - plan.sl_target, 1e-9, k - 1e-9) for k in grid[1:]]
    return np.interp(expected_staff, grid, most)


def _outcomes(n: np.ndarray, a: np.ndarray, aht: np.ndarray, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """P(abandon) and P(answered within the threshold | answered) at staff ``n`` and offered
    load ``a``: Erlang C waits with callers of mean patience ``patience_s``; those who
    hang up lighten the load, so it is solved as a fixed point (a rough Erlang A)."""
    p_ab = np.zeros(len(a))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(30):
            kept = a * (1 - p_ab)
            stable = n > kept
            wait = queueing.erlang_c(n, kept)
            mean_wait = aht / np.where(stable, n - kept, 1.0)
            new = np.where(stable, wait * mean_wait / (mean_wait + plan.patience_s),
                           1 - 0.98 * n / np.maximum(a, 1e-9))  # overloaded: what the agents cannot take leaves
            p_ab = 0.5 * p_ab + 0.5 * np.clip(new, 0, 1)
        in_sl = np.where(stable, _sl(n, a * (1 - p_ab), aht, plan), 0.1)
    return p_ab, np.clip(in_sl, 0, 1)


def _seats_by_day(agents: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Effective seats (employed and certified) of every team on every day: a day x team frame."""
    cert = agents[agents["certified"].fillna(False).astype(bool)]
    out = {}
    for team, g in cert.groupby("team"):
        came = np.sort(g["certification_date"].to_numpy("datetime64[ns]"))
        went = np.sort(g["exit_date"].dropna().to_numpy("datetime64[ns]"))
        d = days.to_numpy("datetime64[ns]")
        out[team] = np.searchsorted(came, d, side="right") - np.searchsorted(went, d, side="right")
    return pd.DataFrame(out, index=days)


def _queue_intervals(agents: pd.DataFrame, plan: Plan, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Half-hourly inbound traffic of each team's queue over the last ``queue_months``.

    Staffing follows the team's effective seats that day; the centre plans the offered load
    its expected staff can answer at ``sl_target`` (Erlang C); outcomes follow Erlang C with
    impatient callers. Two planted events: the bulk-drive site's
    volume grows in the month the drive was due to certify (its seats did not), and one
    team carries more load than planned for three months (then its agents leave,
    :func:`_overload_exits`)."""
    end = pd.Timestamp(plan.end)
    first = (end.to_period("M") - (plan.queue_months - 1)).to_timestamp()
    days = pd.date_range(first, end, freq="D")
    seats = _seats_by_day(agents, days)
    site_of = agents.drop_duplicates("team").set_index("team")["site"]
    teams = sorted(seats.columns)
    slots = np.array([h * 60 + m for h in HOUR_WEIGHTS for m in (0, 30)])  # minutes after midnight
    weight = np.repeat(np.array(list(HOUR_WEIGHTS.values()), float), 2)
    share = np.minimum(0.95, plan.on_shift * weight / weight.mean())
    n_days, n_slots, n_teams = len(days), len(slots), len(teams)
    shape = (n_days, n_teams, n_slots)
    eff = seats[teams].to_numpy()[:, :, None] * np.ones(shape)
    planned = _plannable(eff * share, plan)  # Erlangs the centre plans for
    day_month = days.to_period("M")
    peak = (pd.Timestamp(plan.drive_start) + pd.DateOffset(months=2)).to_period("M")
    at_site = np.array([site_of[t] == plan.drive_site for t in teams])
    planned[np.ix_(day_month == peak, at_site, np.ones(n_slots, bool))] *= 1 + plan.drive_volume_uplift
    over = pd.period_range(pd.Timestamp(plan.overload_start).to_period("M"), periods=plan.overload_months, freq="M")
    is_team = np.array([t == plan.overload_team for t in teams])
    planned[np.ix_(day_month.isin(over), is_team, np.ones(n_slots, bool))] = \
        plan.overload_load * (eff * share)[np.ix_(day_month.isin(over), is_team, np.ones(n_slots, bool))]
    day_noise = rng.lognormal(0, 0.06, (n_days, n_teams, 1))
    offered = rng.poisson(planned * day_noise * 1800 / plan.aht_s)
    staffed = rng.binomial(eff.astype(int), share)
    aht = plan.aht_s * rng.lognormal(0, 0.03, shape)
    load = offered * aht / 1800
    p_abandon, p_in_sl = _outcomes(staffed.ravel(), load.ravel(), aht.ravel(), plan)
    abandoned = rng.binomial(offered.ravel(), p_abandon)
    answered = offered.ravel() - abandoned
    in_sl = rng.binomial(answered, p_in_sl)
    handle = answered * aht.ravel() * rng.lognormal(0, 0.02, len(answered))
    on_calls = np.minimum(staffed.ravel(), handle / 1800)
    idx_day, idx_team, idx_slot = np.unravel_index(np.arange(offered.size), shape)
    team_site = site_of[teams].to_numpy()
    frame = pd.DataFrame({
        "interval_start": days.to_numpy()[idx_day] + pd.to_timedelta(slots[idx_slot], unit="min").to_numpy(),
        "site": team_site[idx_team], "team": np.array(teams)[idx_team],
        "offered": offered.ravel().astype(np.int64), "answered": answered.astype(np.int64),
        "abandoned": abandoned.astype(np.int64), "answered_in_sl": in_sl.astype(np.int64),
        "handle_time_s": np.round(handle, 1), "agents_staffed": staffed.ravel().astype(float),
        "agents_on_calls": np.round(on_calls, 2)})
    frame.insert(1, "queue", "inbound-" + frame["site"].str.lower())
    frame = frame[frame["offered"] > 0].reset_index(drop=True)
    # the planted truths, as expectations under the generator's probabilities
    expected = pd.DataFrame({"month": day_month[idx_day], "site": team_site[idx_team],
                             "team": np.array(teams)[idx_team], "offered": offered.ravel(),
                             "answer": offered.ravel() * (1 - p_abandon), "busy": handle / 1800,
                             "staffed": staffed.ravel()})
    site_month = expected.groupby(["site", "month"])[["offered", "answer"]].sum()
    rate = site_month["answer"] / site_month["offered"]
    team_month = expected[expected["team"] == plan.overload_team].groupby("month")[["busy", "staffed"]].sum()
    return frame, {
        "answer_rate_miss": {"site": plan.drive_site, "month": str(peak),
                             "answer_rate": float(rate[(plan.drive_site, peak)]),
                             "answer_rate_other_months_min": float(rate.drop((plan.drive_site, peak)).min())},
        "overload": {"team": plan.overload_team, "site": str(site_of[plan.overload_team]),
                     "months": [str(m) for m in over],
                     "occupancy": [float(team_month.loc[m, "busy"] / team_month.loc[m, "staffed"]) for m in over],
                     "exits_rise_from": str(over[-1] + 1),
                     "extra_exit_share_3m": plan.overload_exit_3m},
        "queue_first_month": str(first.to_period("M")),
        "sl_threshold_s": plan.sl_threshold_s,
    }


# --------------------------------------------------------------------------- truth
def _truth(plan: Plan, agents: pd.DataFrame, hidden: pd.DataFrame, calls: "_CallWriter", calib: dict,
           seed: int, scale: float) -> dict:
    end = pd.Timestamp(plan.end)
    last_month = end.to_period("M")
    window_start = (last_month - 23).to_timestamp()
    regular = ~hidden["drive"]
    in_window = agents["hire_date"] >= window_start
    f90 = 1 - np.exp(-hidden["h90"])
    prog = agents["onboarding_program"]
    before = calls.before_kw
    conv_by_campaign = {c: float(v * before.loc[c, "sum"] / before.loc[c, "count"])
                        for c, v in calib["convert_verbatim"].items()}
    drive = agents[hidden["drive"]]
    mean_vb = plan.verbatim_mean_s
    return {
        "meta": {
            "generator_version": GENERATOR_VERSION, "seed": seed, "scale": scale,
            "first_month": str(pd.Timestamp(plan.start).to_period("M")), "last_month": str(last_month),
            "note": "Planted values are expectations under the generator's probabilities for the "
                    "population named in 'populations'; estimates differ by sampling error.",
        },
        "acceptance_at_3min": plan.acceptance_at_3min,
        "acceptance_over_5min": calls.mean("p_accept_long"),
        "acceptance_slope_per_min": calib["slope_per_min"],
        "low_tolerance_hours": list(LOW_TOLERANCE_HOURS),
        "keyword_script_version": "keyword",
        "baseline_script_version": "verbatim",
        "keyword_start_date": plan.keyword_start.isoformat(),
        "keyword_aht_cut_pct": 100 * (1 - plan.keyword_mean_s / mean_vb),
        "verbatim_mean_talk_s": mean_vb,
        "keyword_mean_talk_s": plan.keyword_mean_s,
        "conversion_before_keyword": [min(conv_by_campaign.values()), max(conv_by_campaign.values())],
        "conversion_before_keyword_by_campaign": conv_by_campaign,
        "conversion_keyword": calls.mean("p_convert_keyword"),
        "conversion_verbatim_last_month": calls.mean("p_convert_verbatim"),
        "process_change_date": plan.process_change_date.isoformat(),
        "r_before": plan.r_before,
        "r_after": plan.r_after,
        "program_start_date": min(d for _, d in plan.program_start).isoformat(),
        "program_start_by_site": {s: d.isoformat() for s, d in plan.program_start},
        "attrition_90d_before_program": float(f90[regular & in_window & ~prog].mean()),
        "attrition_90d_program": float(f90[regular & in_window & prog].mean()),
        "cert_pass_before_program": float(hidden.loc[regular & ~prog, "p_cert"].mean()),
        "cert_pass_program": float(hidden.loc[regular & prog, "p_cert"].mean()),
        "best_channel": min(CHANNELS, key=lambda c: PROFILES[c].hazard_ratio),
        "channel_hazard_ratios": {c: PROFILES[c].hazard_ratio for c in CHANNELS},
        "bulk_drive_channel": "campus",
        "bulk_drive_site": plan.drive_site,
        "bulk_drive_start": plan.drive_start.isoformat(),
        "bulk_drive_hires": int(len(drive)),
        "bulk_drive_cohorts": sorted(drive["cohort_id"].unique().tolist()),
        "bulk_drive_retention_60d": plan.drive_retention_60d,
        "populations": {
            "acceptance_*, conversion_keyword": f"outbound calls in the last month ({last_month})",
            "keyword_aht_cut_pct": "planted mean talk times of the two scripts",
            "conversion_before_keyword": "verbatim calls before the keyword rollout, range over campaigns",
            "r_before, r_after": "Pearson r of training score vs mean conversion_rate in months 2-3 "
                                 "after training end, trainees whose training ended before / on or "
                                 "after process_change_date",
            "attrition_90d_*": f"regular hires (bulk drive excluded) hired {window_start.date()}.."
                               f"{end.date()}, not in / in the mentoring programme",
            "cert_pass_*": "regular hires (bulk drive excluded), all months",
            "bulk_drive_retention_60d": "hires of the bulk campus drive (bulk_drive_cohorts)",
        },
    }


# --------------------------------------------------------------------------- entry point
@dataclass
class SynthResult:
    """What :func:`generate` wrote."""

    out: Path
    rows: dict[str, int] = field(default_factory=dict)
    truth: dict = field(default_factory=dict)


def generate(out: str | Path, seed: int = DEFAULT_SEED, scale: float = 1.0, plan: Plan | None = None) -> SynthResult:
    """Generate the synthetic contact center into ``out`` (Parquet files and truth.json).

    The folder is written next to ``out`` first and moved into place when complete, so
    an interrupted run never leaves a half-written data set.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    plan = (plan or Plan()).scaled(scale) if scale != 1.0 else (plan or Plan())
    rng = np.random.default_rng(seed)
    agents, extra = _agents(plan, rng, np.random.default_rng([seed, 2]))
    hidden = extra["hidden"]
    training, performance = _training_and_performance(agents, hidden, plan, rng)
    queue, queue_truth = _queue_intervals(agents, plan, np.random.default_rng([seed, 3]))
    agents["agent_name"] = _names(len(agents), np.random.default_rng([seed, 1]))  # own stream: effects unchanged
    tables = {
        "agents": agents[["agent_id", "agent_name", "site", "team", "hire_date", "exit_date", "exit_type",
                          "hiring_channel", "cohort_id", "school", "onboarding_program", "certified",
                          "certification_date"]],
        "training": training,
        "performance": performance,
        "queue_intervals": queue,
        "channels": pd.DataFrame({"hiring_channel": list(CHANNELS),
                                  "cost_per_hire": [PROFILES[c].cost_per_hire for c in CHANNELS]}),
    }
    out = Path(out)
    # one writer at a time; a plain mkdir gives the folder the user's usual permissions (a
    # mkdtemp folder is private, 0700, and colleagues on a shared server could not read it)
    with leftovers.exclusive(out.parent, out.name, f"synthetic data to {display_path(out)}"):
        tmp = out.parent / f"{leftovers.temp_name(out.name)}{os.getpid()}"
        tmp.mkdir()
        try:
            for name, df in tables.items():
                df.to_parquet(tmp / f"{name}.parquet", index=False)
            # the calls last, a month at a time: the table that grows with the scale is never whole in memory
            calib = _calibrated_calls(plan)
            calls = _CallWriter(tmp / "outbound_calls.parquet", plan)
            try:
                for chunk in _call_months(agents, training, plan, calib, rng):
                    calls.write(chunk)
            finally:
                calls.close()
            truth = _truth(plan, agents, hidden, calls, calib, seed, scale)
            truth["queue"] = queue_truth
            (tmp / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
            (tmp / "plan.json").write_text(json.dumps(asdict(plan), indent=2, default=str) + "\n")
            if out.exists():
                shutil.rmtree(out)
            os.replace(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    rows = {n: len(df) for n, df in tables.items()}
    rows = {n: rows.get(n, calls.rows) for n in ("agents", "training", "performance", "outbound_calls",
                                                  "queue_intervals", "channels")}
    return SynthResult(out=out, rows=rows, truth=truth)


def is_current(out: str | Path, seed: int = DEFAULT_SEED, scale: float = 1.0) -> bool:
    """True when ``out`` holds a complete data set from this generator, seed and scale."""
    try:
        meta = json.loads((Path(out) / "truth.json").read_text())["meta"]
    except (OSError, ValueError, KeyError):
        return False
    return (meta.get("generator_version") == GENERATOR_VERSION and meta.get("seed") == seed
            and float(meta.get("scale")) == float(scale))
