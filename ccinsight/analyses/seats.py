"""Effective seats: agents employed and certified, projected week by week, and the hiring
plan that keeps enough of them.

"Planning must count effective seats, not hires" (docs/DOMAIN notes): a class of 50 is
not 50 seats. From the roster at the month's end (certified, awaiting the exam, failed it)
and the curves fitted on recent hires (survival by tenure: Kaplan-Meier, by scipy's ecdf,
the certification pass rate, the days from hire to the exam), each current agent's fate is
simulated forward: when they leave, and whether and when they certify. Refitting the curves
on bootstrap resamples of the hires carries their uncertainty into the interval; each
draw also samples the agents' own fates, so the interval is a prediction interval for the
count. Planned classes are simulated the same way from tenure 0.

Assumptions, said where the results are: leaving and certifying are independent given
tenure; an agent who failed the exam never becomes effective; beyond the longest tenure a
group (mentored hires, a bulk drive) was followed it leaves as all hires do, and beyond the
longest tenure any hire was followed, the exit rate stays at its average over the last 180
days there.

The model is checked on the past (:func:`backtest`): from each origin month it projects
the origin's roster six months ahead with what was known then, and counts how often the
interval covered the seats those agents really filled.
"""
from __future__ import annotations

import hashlib
import html
import math
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ccinsight import period as period_mod
from ccinsight import wording
from ccinsight.analysis import Analysis
from ccinsight.data import Dataset
from ccinsight.errors import DataError, ParameterError
from ccinsight.findings import Estimate, Findings, Tracked, fact, to_jsonable
from ccinsight.labels import Labels
from ccinsight.plotting import error_extent, new_axes
from ccinsight.stats import wilson
from ccinsight.survival import fit_km, km_steps, survival_table

TAIL_DAYS = 180  # the exit rate beyond the followed tenure: its average over this many last days


# --------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class Curves:
    """One fit of what the projection needs: S(t) as a step function, the pass rate and
    the observed days from hire to the certification exam."""

    times: np.ndarray  # ascending tenure days, starting at 0
    surv: np.ndarray  # S at each time (right-continuous)
    tail_rate: float  # exits per day beyond times[-1]
    pass_rate: float
    exam_days: np.ndarray
    #: Beyond ``times[-1]`` a group follows these (all hires') curves from the same tenure on;
    #: None: the tail rate.
    after: "Curves | None" = None

    def survival(self, tenure: np.ndarray) -> np.ndarray:
        """S(tenure), extended beyond the followed tenure (see :attr:`after`)."""
        tenure = np.asarray(tenure, float)
        idx = np.searchsorted(self.times, np.minimum(tenure, self.times[-1]), side="right") - 1
        s = self.surv[np.clip(idx, 0, None)]
        if self.after is not None:
            end = self.times[-1]
            return s * self.after.survival(np.maximum(tenure, end)) / self.after.survival(np.array([end]))
        beyond = np.maximum(tenure - self.times[-1], 0)
        return s * np.exp(-self.tail_rate * beyond)

    def exit_tenure(self, tenure: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Tenure at which each agent leaves, given they are here at ``tenure`` (inverse of
        the conditional survival at uniform draws ``u``)."""
        target = u * self.survival(tenure)
        # first time the curve is at or below the target (the curve is non-increasing)
        idx = np.searchsorted(-self.surv, -target, side="left")
        inside = idx < len(self.times)
        out = np.where(inside, self.times[np.minimum(idx, len(self.times) - 1)], np.inf)
        if self.after is not None:
            end = np.full(len(target), self.times[-1])
            later = self.after.exit_tenure(end, np.clip(target / max(self.surv[-1], 1e-300), 0, 1))
            out = np.where(inside, out, later)
        elif self.tail_rate > 0:
            last = self.surv[-1]
            tail = self.times[-1] + np.log(last / np.maximum(target, 1e-300)) / self.tail_rate
            out = np.where(inside, out, tail)
        return np.maximum(out, tenure + 1)  # here at ``tenure`` means leaving later


@dataclass(frozen=True)
class Hires:
    """What the curves are fitted on, one entry per hire known at ``as_of``: tenure followed
    and whether they left; for the examined, days from hire to the exam and the result."""

    duration: np.ndarray
    left: np.ndarray
    exam_days: np.ndarray  # per hire; NaN where not examined by as_of
    passed: np.ndarray  # per hire; meaningful where examined

    @classmethod
    def of(cls, hires: pd.DataFrame, as_of: pd.Timestamp) -> "Hires":
        table = survival_table(hires, as_of, None)
        examined = table["certified"].notna() & (table["certification_date"] <= as_of)
        days = (table["certification_date"] - table["hire_date"]).dt.days.where(examined)
        return cls(table["duration_days"].to_numpy(float), table["event"].to_numpy(int), days.to_numpy(float),
                   table["certified"].fillna(False).astype(bool).to_numpy())

    def __len__(self) -> int:
        return len(self.duration)

    def fit(self, rows: np.ndarray | None = None) -> Curves:
        """The curves from these hires (or the resample ``rows`` of them)."""
        rows = np.arange(len(self)) if rows is None else rows
        times, surv = km_steps(self.duration[rows], self.left[rows])
        back = times[-1] - TAIL_DAYS
        s_back = surv[np.searchsorted(times, back, side="right") - 1] if back > 0 else 1.0
        tail = -math.log(max(surv[-1], 1e-9) / max(s_back, 1e-9)) / min(TAIL_DAYS, max(times[-1], 1.0))
        days = self.exam_days[rows]
        examined = ~np.isnan(days)
        rate = float(self.passed[rows][examined].mean()) if examined.any() else np.nan
        return Curves(times, surv, max(tail, 0.0), rate, np.sort(days[examined]))


def roster(agents: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Agents employed at the end of ``as_of``: tenure (days) and certification status
    (certified, awaiting the exam, failed)."""
    here = agents[(agents["hire_date"] <= as_of) & (agents["exit_date"].isna() | (agents["exit_date"] > as_of))]
    known = here["certification_date"].notna() & (here["certification_date"] <= as_of) & here["certified"].notna()
    status = np.where(~known, "awaiting", np.where(here["certified"].fillna(False).astype(bool), "certified", "failed"))
    return pd.DataFrame({"tenure": (as_of - here["hire_date"]).dt.days.to_numpy(float), "status": status,
                         "site": here["site"].astype(str).to_numpy()}, index=here.index)


def _fates(curves: Curves, tenure: np.ndarray, status: np.ndarray, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray]:
    """(exit tenure, tenure from which effective) for agents at ``tenure`` with ``status``."""
    leave = curves.exit_tenure(tenure, rng.random(len(tenure)))
    effective = np.where(status == "certified", tenure, np.inf)
    waiting = status == "awaiting"
    if waiting.any() and len(curves.exam_days) and np.isfinite(curves.pass_rate):
        t = tenure[waiting]
        # the exam day among observed ones later than the tenure already served; one week on if none is
        # not examined by tenure t: a later exam day (a new hire, at 0, may sit it on day 0)
        later = np.where(t == 0, np.searchsorted(curves.exam_days, t, side="left"),
                         np.searchsorted(curves.exam_days, t, side="right"))
        n_later = len(curves.exam_days) - later
        pick = later + np.floor(rng.random(len(t)) * np.maximum(n_later, 1)).astype(int)
        exam = np.where(n_later > 0, curves.exam_days[np.minimum(pick, len(curves.exam_days) - 1)], t + 7)
        passed = rng.random(len(t)) < curves.pass_rate
        effective[waiting] = np.where(passed, exam, np.inf)
    effective = np.where(effective < leave, effective, np.inf)  # gone before the exam: never effective
    return leave, effective


def _streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Random streams of the roster's fates and of new classes' fates, apart: the roster's
    futures are the same whatever classes are added, so a plan simulates them once."""
    roster_seq, classes_seq = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(roster_seq), np.random.default_rng(classes_seq)


def roster_seats(draws: list[dict[str, Curves]], agents: pd.DataFrame, weeks: int, seed: int, reps: int = 5
                 ) -> np.ndarray:
    """Effective seats of today's roster at weeks 0..``weeks``, one row per simulated future:
    ``reps`` fates of every agent for each draw of the curves. ``agents`` holds tenure,
    status and stratum (whose curves apply: its own, or the pooled ones under ``POOLED``)."""
    rng = _streams(seed)[0]
    out = np.zeros((len(draws) * reps, weeks + 1))
    days = 7.0 * np.arange(weeks + 1)
    groups = agents.groupby("stratum", sort=True).indices.items()
    tenure, status = agents["tenure"].to_numpy(float), agents["status"].to_numpy()
    row = 0
    for curves in draws:
        for _ in range(reps):
            leave, eff = np.empty(len(agents)), np.empty(len(agents))
            for key, idx in groups:
                leave[idx], eff[idx] = _fates(curves.get(key, curves[POOLED]), tenure[idx], status[idx], rng)
            out[row] = ((eff[:, None] <= tenure[:, None] + days) & (leave[:, None] > tenure[:, None] + days)).sum(axis=0)
            row += 1
    return out


def class_seats(draws: list[dict[str, Curves]], weeks: int, seed: int, classes: list[tuple[int, int]] = (),
                reps: int = 5) -> np.ndarray:
    """Effective seats filled by new ``classes`` of (start week, size), hired at tenure 0 on
    the pooled curves: one row per simulated future, as :func:`roster_seats`."""
    out = np.zeros((len(draws) * reps, weeks + 1))
    if not classes:
        return out
    rng = _streams(seed)[1]
    days = 7.0 * np.arange(weeks + 1)
    starts = np.concatenate([np.full(size, 7.0 * start) for start, size in classes])
    since = days[None, :] - starts[:, None]  # tenure of each new hire at each week
    row = 0
    for curves in draws:
        for _ in range(reps):
            leave, eff = _fates(curves[POOLED], np.zeros(len(starts)), np.full(len(starts), "awaiting"), rng)
            out[row] = ((since >= 0) & (eff[:, None] <= since) & (leave[:, None] > since)).sum(axis=0)
            row += 1
    return out


def simulate(draws: list[dict[str, Curves]], agents: pd.DataFrame, weeks: int, seed: int,
             classes: list[tuple[int, int]] = (), reps: int = 5) -> np.ndarray:
    """Effective seats at weeks 0..``weeks`` of the roster (:func:`roster_seats`) and new
    ``classes`` (:func:`class_seats`), one row per simulated future."""
    return roster_seats(draws, agents, weeks, seed, reps) + class_seats(draws, weeks, seed, classes, reps)


POOLED = "all hires"
MIN_STRATUM = 30  # hires a stratum needs for curves of its own


def strata(agents: pd.DataFrame, by: str | None) -> pd.Series:
    """Whose curves each agent follows: the hires of a bulk drive (:mod:`ccinsight.bursts`)
    their drive's, others their ``by`` group's (e.g. mentored or not), else the pooled ones."""
    from ccinsight.bursts import burst_members, find_bursts

    key = agents[by].astype("string").fillna("unknown") if by else pd.Series(POOLED, index=agents.index)
    drive = agents["agent_id"].astype(str).isin(burst_members(find_bursts(agents)))
    return key.where(~drive, "bulk drive").astype(str)


def bootstrap_curves(hires: pd.DataFrame, keys: pd.Series, as_of: pd.Timestamp, n: int, seed: int
                     ) -> list[dict[str, Curves]]:
    """The curves of every stratum with enough hires, and the pooled ones, refitted on ``n``
    resamples of the hires (the first draw is the data's own fit)."""
    rng = np.random.default_rng(seed)
    groups = {POOLED: Hires.of(hires, as_of)}
    for key, sub in hires.groupby(keys.loc[hires.index], sort=True):
        if len(sub) >= MIN_STRATUM and key != POOLED:
            groups[str(key)] = Hires.of(sub, as_of)
    def one(resample: bool) -> dict[str, Curves]:
        fits = {k: h.fit(rng.integers(0, len(h), len(h)) if resample else None) for k, h in groups.items()}
        return {k: c if k == POOLED else replace(c, after=fits[POOLED]) for k, c in fits.items()}

    return [one(False)] + [one(True) for _ in range(n - 1)]


def _band(sims: np.ndarray, level: float) -> pd.DataFrame:
    tail = (1 - level) / 2
    return pd.DataFrame({"week": np.arange(sims.shape[1]), "median": np.median(sims, axis=0),
                         "low": np.quantile(sims, tail, axis=0), "high": np.quantile(sims, 1 - tail, axis=0)})


# --------------------------------------------------------------------------- plans
def plan_classes(draws: list[dict[str, Curves]], agents: pd.DataFrame, weeks: int, seed: int,
                 target: int, class_size: int, lead_weeks: int, level: float,
                 misses: tuple[float, float] | None = None, max_classes: int = 30, today: np.ndarray | None = None
                 ) -> tuple[list[tuple[int, int]], pd.DataFrame]:
    """Classes (start week, size) added one at a time, each as late as still helps the first
    week whose lower bound (at ``level``, widened by past ``misses``) is under the target,
    until none is or nothing more can help (weeks before a class hired at ``lead_weeks``
    could certify). ``today``: :func:`roster_seats` of ``agents`` when already simulated.
    Returns the classes and the band with them."""
    to_certify = weeks_to_certify(draws[0][POOLED])
    classes: list[tuple[int, int]] = []
    if today is None:  # the same futures under every plan tried
        today = roster_seats(draws, agents, weeks, seed)

    def band_with(chosen):
        return widen(_band(today + class_seats(draws, weeks, seed, sorted(chosen)), level), misses, weeks)

    band = band_with(classes)
    low = band["low"].to_numpy()
    while len(classes) < max_classes:
        short = [w for w in range(weeks + 1) if low[w] < target and w - to_certify >= lead_weeks]
        if not short:
            break
        start = max(lead_weeks, short[0] - to_certify - 1)
        before = low[short[0]]
        classes.append((start, class_size))
        band = band_with(classes)
        low = band["low"].to_numpy()
        if low[short[0]] <= before:  # the class cannot reach that week: no more classes help it
            classes.pop()
            band = band_with(classes)
            break
    return sorted(classes), band


def weeks_to_certify(curves: Curves) -> int:
    """Weeks from a class's start until its median hire has sat the exam."""
    return int(math.ceil(float(np.median(curves.exam_days)) / 7.0)) if len(curves.exam_days) else 9


def naive_classes(effective_now: int, target: int, class_size: int, lead_weeks: int) -> list[tuple[int, int]]:
    """The plan that ignores attrition and failed exams: hire the gap once, at the lead time."""
    gap = max(target - effective_now, 0)
    return [(lead_weeks, class_size)] * int(math.ceil(gap / class_size))


# --------------------------------------------------------------------------- backtest
#: Backtest projections made in this process, by what they depend on: the agents as known at
#: the origin (a hash of the table), the origin and the parameters. An origin's projection
#: does not change with the month analysed, so the months of a backfill run in one kernel
#: (:mod:`ccinsight.kernels`) project each origin once. Bands are small; the oldest go first.
_PROJECTIONS: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
PROJECTIONS_KEPT = 512


def _projection(known: pd.DataFrame, end: pd.Timestamp, *params, make) -> pd.DataFrame:
    """``make()``'s band for the origin ``end`` given the agents ``known`` then, made once per
    (``known``'s content, ``end``, ``params``)."""
    content = hashlib.sha256(pd.util.hash_pandas_object(known, index=False).to_numpy().tobytes())
    content.update(repr((list(known.columns), [str(t) for t in known.dtypes])).encode())
    key = (content.hexdigest(), end, *params)
    if key not in _PROJECTIONS:
        _PROJECTIONS[key] = make()
        while len(_PROJECTIONS) > PROJECTIONS_KEPT:
            _PROJECTIONS.popitem(last=False)
    return _PROJECTIONS[key].copy()


def backtest(agents: pd.DataFrame, as_of: pd.Timestamp, window_months: int, weeks: int, draws: int,
             level: float, seed: int, by: str | None = None) -> pd.DataFrame:
    """Per origin month: project the origin's roster ``weeks`` ahead from what was known
    at its end (the interval widened by the misses of earlier origins known by then,
    :func:`widen`), and compare with the seats those agents really filled then (known at
    ``as_of``). Origins: every month end with hires before it and the
    horizon inside the data; from the first with a year of hires (earlier ones fit on fewer
    months than ``window_months``)."""
    first = agents["hire_date"].min()
    rows = []
    origin = first.to_period("M") + min(window_months, 12)
    while period_mod.month_end(origin) + pd.Timedelta(weeks=weeks) <= as_of:
        end = period_mod.month_end(origin)
        tables, _ = period_mod.as_observed({"agents": agents}, end)
        known = tables["agents"]
        hires = known[known["hire_date"] >= period_mod.window_start(end, window_months)]
        r = roster(known, end)
        if len(hires) >= MIN_STRATUM and len(r):
            def make():
                keys = strata(known, by)  # found here: only an origin not projected before needs them
                return _band(simulate(bootstrap_curves(hires, keys, end, draws, seed), r.assign(stratum=keys), weeks,
                                      seed), level)

            projected = _projection(known, end, window_months, weeks, draws, level, seed, by, make=make)
            earlier = pd.DataFrame(rows, columns=["origin", "predicted", "actual"])
            band = widen(projected, past_misses(earlier, end, weeks, level), weeks).iloc[-1]
            then = end + pd.Timedelta(weeks=weeks)
            # by agent_id: the as-of cut renumbers rows when it drops later hires
            real = agents.set_index("agent_id").loc[known.loc[r.index, "agent_id"].to_numpy()]
            stayed = real["exit_date"].isna() | (real["exit_date"] > then)
            certified = real["certified"].fillna(False).astype(bool) & (real["certification_date"] <= then)
            actual = int((stayed & certified).sum())
            rows.append({"origin": str(origin), "roster": len(r), "predicted": float(band["median"]),
                         "low": float(band["low"]), "high": float(band["high"]), "actual": actual,
                         "covered": bool(band["low"] <= actual <= band["high"])})
        origin += 1
    return pd.DataFrame(rows, columns=["origin", "roster", "predicted", "low", "high", "actual", "covered"])


def past_misses(checks: pd.DataFrame, when: pd.Timestamp, weeks: int, level: float, least: int = 3
                ) -> tuple[float, float] | None:
    """How far real seats fell from projections whose horizon had passed by ``when``: the
    (low, high) ratios actual / predicted (their extremes while fewer than 20 are known,
    else the quantiles at ``level``). None while fewer than ``least`` are known."""
    if checks.empty:
        return None
    ends = [period_mod.month_end(pd.Period(o, "M")) + pd.Timedelta(weeks=weeks) for o in checks["origin"]]
    known = checks[[e <= when for e in ends]]
    if len(known) < least:
        return None
    ratio = (known["actual"] / known["predicted"]).to_numpy(float)
    if len(ratio) < 20:
        return float(ratio.min()), float(ratio.max())
    return float(np.quantile(ratio, (1 - level) / 2)), float(np.quantile(ratio, 1 - (1 - level) / 2))


def widen(band: pd.DataFrame, misses: tuple[float, float] | None, weeks: int) -> pd.DataFrame:
    """The simulated band widened, where the model missed before, to the past misses'
    ratios (growing linearly to the horizon): the interval learns from the model's record."""
    if misses is None:
        return band
    share = band["week"] / weeks
    low = band["median"] * (1 + (misses[0] - 1) * share)
    high = band["median"] * (1 + (misses[1] - 1) * share)
    return band.assign(low=np.minimum(band["low"], low), high=np.maximum(band["high"], high))


SPIRAL_METRICS = {"conversion_rate": "conversion", "qa_score": "QA score"}


def _daily_occupancy(queue: pd.DataFrame | None) -> pd.DataFrame | None:
    """Each day's occupancy (time on calls / time staffed) with its month, from queue_intervals."""
    if queue is None or not len(queue):
        return None
    day = queue["interval_start"].dt.normalize()
    sums = queue.groupby(day)[["agents_on_calls", "agents_staffed"]].sum()
    sums = sums[sums["agents_staffed"] > 0]
    return pd.DataFrame({"_month": sums.index.to_period("M"),
                         "occupancy": sums["agents_on_calls"] / sums["agents_staffed"]})


def spiral_months(agents: pd.DataFrame, performance: pd.DataFrame | None, as_of: pd.Timestamp, months: int = 12,
                  alpha: float = 0.05, queue: pd.DataFrame | None = None) -> tuple[pd.DataFrame, int]:
    """The high-attrition spiral check: months of the last ``months`` in which exits
    outran hires while conversion or QA fell, or occupancy rose (from ``queue``, the
    queue_intervals table, when given), against the month before (Welch t-test, one-sided,
    on agent-months for conversion and QA, on days for occupancy; Holm across every month
    and metric tested). Returns the flagged months (month, hires, exits, metric, before,
    after, p_adj) and the tests run."""
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    last = as_of.to_period("M")
    window = pd.period_range(last - (months - 1), last, freq="M")
    hires = agents["hire_date"].dt.to_period("M").value_counts()
    exits = agents["exit_date"].dropna().dt.to_period("M").value_counts()
    rows = []
    perf = performance.assign(_month=performance["month"].dt.to_period("M")) \
        if performance is not None and len(performance) else None
    occupancy = _daily_occupancy(queue)
    for m in window:
        h, e = int(hires.get(m, 0)), int(exits.get(m, 0))
        if e <= h:
            continue
        pairs = []
        if perf is not None:
            now, before = perf[perf["_month"] == m], perf[perf["_month"] == m - 1]
            pairs += [(name, now[col].dropna(), before[col].dropna(), "less") for col, name in SPIRAL_METRICS.items()]
        if occupancy is not None:
            now, before = occupancy[occupancy["_month"] == m], occupancy[occupancy["_month"] == m - 1]
            pairs.append(("occupancy", now["occupancy"], before["occupancy"], "greater"))
        for name, a, b, side in pairs:
            if len(a) >= 10 and len(b) >= 10:
                p = float(stats.ttest_ind(a, b, equal_var=False, alternative=side).pvalue)
                rows.append({"month": str(m), "hires": h, "exits": e, "metric": name, "before": float(b.mean()),
                             "after": float(a.mean()), "p": p})
    out = pd.DataFrame(rows, columns=["month", "hires", "exits", "metric", "before", "after", "p"])
    if out.empty:
        return out.assign(p_adj=[]), 0
    out["p_adj"] = multipletests(out["p"], method="holm")[1]
    return out[out["p_adj"] < alpha].drop(columns="p").reset_index(drop=True), len(out)


# --------------------------------------------------------------------------- findings
@dataclass(frozen=True)
class SeatsFindings(Findings):
    """Effective seats (employed and certified) now and projected, the hiring plan, the backtest."""

    #: Effective seats, month by month; the projection is not tracked: its interval is a 90%
    #: prediction interval, not the 95% confidence interval the month-to-month rule compares.
    tracked = (Tracked("effective_now", "effective seats", higher_is_better=True),)

    as_of: str = fact("the analysis date: the last day of the analysis month", "date")
    certification_tracked: bool = fact("the data record certification results; false: every employed agent "
                                       "counts as a seat", "flag")
    employed: int = fact("agents employed at as_of", "count")
    awaiting: int = fact("of them, awaiting the certification exam", "count")
    failed_exam: int = fact("of them, failed the exam (never counted as effective)", "count")
    effective_now: Estimate = fact("employed and certified at as_of (a count, no interval)", "count")
    window_months: int = fact("months of hires the curves are fitted on", "count")
    n_hires: int = fact("hires the curves are fitted on", "count")
    stay_90d: Estimate = fact("share of those hires still here at day 90 (Kaplan-Meier)", "share")
    exam_pass_rate: Estimate = fact("share of examined hires who passed (Wilson interval)", "share")
    median_days_to_exam: float | None = fact("median days from hire to the exam", "days")
    horizon_weeks: int = fact("weeks projected", "count")
    interval_level: float = fact("level of the projection intervals (a prediction interval for the count)",
                                 "share")
    projection: list = fact("effective seats without new hires: week, date, median, low, high", "records")
    seats_at_horizon: Estimate = fact("effective seats at the horizon without new hires: median and interval",
                                      "count")
    seats_needed: int | None = fact("effective seats wanted (null: no target)", "count")
    class_size: int = fact("hires per training class", "count")
    lead_weeks: int = fact("weeks before a class decided now can start", "count")
    plan: list = fact("classes that keep the lower bound at or above the target: start (date), size", "records")
    plan_projection: list = fact("effective seats with the plan: week, date, median, low, high", "records")
    short_before_classes: str | None = fact("first date the lower bound is under the target even with the plan "
                                            "(null: none)", "date")
    first_reachable: str = fact("first date a class decided now can add effective seats (lead time plus the "
                                "median weeks to the exam)", "date")
    naive_plan: list = fact("classes of the plan that ignores attrition: start (date), size", "records")
    naive_at_horizon: Estimate | None = fact("effective seats at the horizon with the naive plan", "count")
    backtest: list = fact("origin, roster, predicted, low, high, actual, covered: the origin's roster projected "
                          "horizon weeks ahead vs the seats it really filled", "records")
    backtest_coverage: Estimate | None = fact("share of origins whose interval covered the real seats (Wilson "
                                              "interval; n origins, which overlap in time)", "share")
    spiral: list = fact("months of the last 12 where exits outran hires while conversion or QA fell, or occupancy rose "
                        "(with queue_intervals), against the "
                        "month before (Holm-adjusted): month, hires, exits, metric, before, after, p_adj", "records")
    sites: list = fact("per site with its own target (seats_by_site): site, effective_now, seats_needed, "
                       "classes, first_class (date), short_from (date), at_horizon, low, high (with the site's plan)",
                       "records")
    spiral_tests: int = fact("month-metric pairs tested for the spiral (0: no performance table, or exits never "
                             "outran hires)", "count")
    spiral_occupancy: bool = fact("occupancy (from queue_intervals) entered the spiral check", "flag")

    def headlines(self) -> list[str]:
        level = wording.share(self.interval_level, 0)
        h = self.seats_at_horizon
        if self.certification_tracked:
            now = (f"{wording.count(self.effective_now.value)} effective seats (employed and certified) at "
                   f"{self.as_of}, of {wording.count(self.employed)} employed; {wording.count(self.awaiting)} await "
                   f"certification and {wording.count(self.failed_exam)} failed it.")
            passing = f" and {self.exam_pass_rate.text('share')} of those examined pass"
        else:
            now = (f"{wording.count(self.employed)} agents employed at {self.as_of}; the data record no certification "
                   "results, so every employed agent counts as a seat.")
            passing = ""
        lines = [now,
                 f"Without new hires, about {wording.count(h.value)} effective seats in {self.horizon_weeks} weeks "
                 f"({level} interval {wording.count(h.low)} to {wording.count(h.high)}): of recent hires "
                 f"{self.stay_90d.text('share')} stay 90 days{passing}."]
        if self.seats_needed:
            by_date: dict[str, list[int]] = {}
            for c in self.plan:
                by_date.setdefault(c["start"], []).append(c["size"])
            starts = ", ".join(f"{d} ({' + '.join(wording.count(n) for n in sizes)} hires)"
                               for d, sizes in by_date.items()) or "none"
            line = (f"To keep at least {wording.count(self.seats_needed)} effective seats with {level} confidence: "
                    f"{len(self.plan)} class(es) starting {starts}")
            if self.short_before_classes:
                line += (f"; even so the floor is short from {self.short_before_classes}"
                         + (", before any class decided now can certify" if self.short_before_classes
                            < self.first_reachable else ", which more classes of this size do not close"))
            if self.naive_plan and self.naive_at_horizon is not None:
                n = self.naive_at_horizon
                line += (f". Hiring only the gap ({len(self.naive_plan)} class(es), ignoring attrition) ends at about "
                         f"{wording.count(n.value)} ({level} interval {wording.count(n.low)} to {wording.count(n.high)})")
            lines.append(line + ".")
        for site in self.sites:
            name = self.names.value("site", site["site"])
            plan = (f"{site['classes']} class(es) of {wording.count(self.class_size)} from {site['first_class']}"
                    if site["classes"] else "no new class")
            lines.append(f"{name}: {wording.count(site['effective_now'])} effective seats now, target "
                         f"{wording.count(site['seats_needed'])}; needed to keep the lower bound there: {plan}"
                         + (f"; even so it is short from {site['short_from']}" if site["short_from"] else "") + ".")
        for m in self.spiral:
            fmt = wording.share if m["metric"] in ("conversion", "occupancy") else wording.number
            moved = "rose" if m["metric"] == "occupancy" else "fell"
            lines.append(f"In {m['month']} exits ({wording.count(m['exits'])}) outran hires ({wording.count(m['hires'])}) "
                         f"while {m['metric']} {moved} from {fmt(m['before'])} to {fmt(m['after'])} "
                         f"({wording.p_value(m['p_adj'])}, Holm across {self.spiral_tests} tests): the pattern of a "
                         "high-attrition spiral, an association the data show, not its cause.")
        c = self.backtest_coverage
        if c is not None:
            lines.append(f"Checked on the past: from {wording.count(c.n)} origin months, the {level} interval held "
                         f"the seats filled {self.horizon_weeks} weeks later {c.text('share')} of the time.")
        return lines

    def details(self) -> list[str]:
        spiral = ("- The spiral check (exits outrunning hires while conversion or QA fell, or occupancy rose) tested "
                  f"{self.spiral_tests} month-metric pairs" + ("; none stands out after Holm adjustment, which is not "
                                                                "proof that none happened." if not self.spiral else ".")
                  + (" Overtime is not in these data." if self.spiral_occupancy
                     else " Occupancy (queue_intervals) and overtime are not in these data."))
        return [spiral, "- Assumptions: leaving and certifying are independent given tenure; a failed exam is final; "
                f"beyond the longest tenure followed, the exit rate stays at its average over the last {TAIL_DAYS} "
                "days there. The interval covers both the fitted curves' uncertainty (bootstrap of the hires) "
                "and chance in who leaves.",
                "- The backtest projects each origin's roster (agents then employed) with what was known then; "
                "hires after the origin are a plan's input, not part of the check. Origins overlap in time, so "
                "the coverage rests on fewer independent checks than origins."]

    def attention(self) -> list[tuple[str, str]]:
        if not self.seats_needed or not self.plan_projection:
            return []
        low = min(r["low"] for r in self.projection)
        if low >= self.seats_needed:
            return []
        first = next(r for r in self.projection if r["low"] < self.seats_needed)
        return [("action", f"Effective seats may fall under {wording.count(self.seats_needed)} from {first['date']} "
                           f"without new classes: plan {len(self.plan)} class(es) of {wording.count(self.class_size)}.")]


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class SeatsResult:
    """Effective seats now, projected, with a hiring plan and a backtest."""

    as_of: pd.Timestamp
    roster: pd.DataFrame
    hires: pd.DataFrame
    curves: Curves
    projection: pd.DataFrame
    plan: list
    plan_projection: pd.DataFrame | None
    naive: list
    naive_projection: pd.DataFrame | None
    short_week: int | None
    checks: pd.DataFrame
    spiral: pd.DataFrame
    spiral_tests: int
    spiral_occupancy: bool
    sites: list
    seats_needed: int | None
    class_size: int
    lead_weeks: int
    level: float
    window_months: int
    certification_tracked: bool = True
    names: Labels = field(default_factory=Labels)

    def __repr__(self) -> str:
        return f"SeatsResult({self.caption()})"

    def caption(self) -> str:
        return (f"{len(self.roster):,} agents employed at {self.as_of.date()}, curves from {len(self.hires):,} hires "
                f"of the last {self.window_months} months")

    def _dated(self, frame: pd.DataFrame | None) -> list:
        if frame is None:
            return []
        dated = frame.assign(date=[(self.as_of + pd.Timedelta(weeks=int(w))).date().isoformat() for w in frame["week"]])
        return to_jsonable(dated[["week", "date", "median", "low", "high"]])

    def _classes(self, classes: list) -> list:
        return [{"start": (self.as_of + pd.Timedelta(weeks=int(s))).date().isoformat(), "size": int(n)}
                for s, n in classes]

    def findings(self) -> SeatsFindings:
        status = self.roster["status"]
        table = survival_table(self.hires, self.as_of, None)
        kmf = fit_km(table["duration_days"], table["event"], "hires")
        from ccinsight.survival import retention_at

        r90 = retention_at(kmf, 90)
        examined = self.hires[self.hires["certified"].notna() & (self.hires["certification_date"] <= self.as_of)]
        passed = int(examined["certified"].astype(bool).sum())
        (plo,), (phi,) = wilson([passed], [max(len(examined), 1)])
        end = self.projection.iloc[-1]
        naive_end = self.naive_projection.iloc[-1] if self.naive_projection is not None else None
        covered = self.checks["covered"]
        (clo,), (chi,) = wilson([int(covered.sum())], [max(len(covered), 1)])
        return SeatsFindings(
            as_of=self.as_of.date().isoformat(), certification_tracked=self.certification_tracked,
            employed=len(self.roster), awaiting=int((status == "awaiting").sum()),
            failed_exam=int((status == "failed").sum()),
            effective_now=Estimate.of(int((status == "certified").sum()), n=len(self.roster)),
            window_months=self.window_months, n_hires=len(self.hires),
            stay_90d=Estimate.of(r90["retention"], r90["low"], r90["high"], len(table)),
            exam_pass_rate=Estimate.of(passed / len(examined) if len(examined) else None, plo, phi, len(examined)),
            median_days_to_exam=float(np.median(self.curves.exam_days)) if len(self.curves.exam_days) else None,
            horizon_weeks=int(self.projection["week"].max()), interval_level=self.level,
            projection=self._dated(self.projection),
            seats_at_horizon=Estimate.of(end["median"], end["low"], end["high"], len(self.roster)),
            seats_needed=self.seats_needed, class_size=self.class_size, lead_weeks=self.lead_weeks,
            plan=self._classes(self.plan), plan_projection=self._dated(self.plan_projection),
            short_before_classes=(self.as_of + pd.Timedelta(weeks=self.short_week)).date().isoformat()
            if self.short_week is not None else None,
            first_reachable=(self.as_of + pd.Timedelta(weeks=self.lead_weeks + weeks_to_certify(self.curves)))
            .date().isoformat(),
            naive_plan=self._classes(self.naive),
            naive_at_horizon=Estimate.of(naive_end["median"], naive_end["low"], naive_end["high"])
            if naive_end is not None else None,
            backtest=to_jsonable(self.checks),
            backtest_coverage=Estimate.of(covered.mean(), clo, chi, len(covered)) if len(covered) else None,
            spiral=to_jsonable(self.spiral), spiral_tests=self.spiral_tests,
            spiral_occupancy=self.spiral_occupancy, sites=to_jsonable(self.sites),
            labels=self.names.to_json())

    def plot(self, ax=None):
        """Effective seats week by week: without hiring, with the plan, with the naive plan."""
        ax = new_axes(ax, figsize=(9, 4))
        level = f"{self.level:.0%}"
        dates = [self.as_of + pd.Timedelta(weeks=int(w)) for w in self.projection["week"]]
        for frame, label, colour in ((self.projection, "no new hires", "0.4"),
                                     (self.plan_projection, "with the plan", "tab:blue"),
                                     (self.naive_projection, "hiring only the gap (ignores attrition)", "tab:orange")):
            if frame is None:
                continue
            ax.plot(dates, frame["median"], color=colour, label=f"{label} (median)")
            ax.fill_between(dates, frame["low"], frame["high"], color=colour, alpha=0.15)
        if self.seats_needed:
            ax.axhline(self.seats_needed, color="tab:red", ls="--", lw=1, label=f"target {self.seats_needed:,}")
        ax.set_ylabel("effective seats (employed and certified)")  # not from 0: the change is the point
        ax.legend(frameon=False, fontsize="small", loc="lower left")
        ax.set_title(f"Effective seats week by week, with {level} intervals")
        return ax

    def plot_backtest(self, ax=None):
        """Each origin's interval against the seats its roster really filled."""
        ax = new_axes(ax, figsize=(9, 3.5))
        c = self.checks
        if c.empty:
            ax.text(0.5, 0.5, "Too little history for a backtest", ha="center", transform=ax.transAxes)
            ax.set_axis_off()
            return ax
        x = np.arange(len(c))
        ax.errorbar(x, c["predicted"], yerr=error_extent(c["predicted"], c["low"], c["high"]), fmt="o",
                    capsize=3, color="0.4", label=f"projected ({self.level:.0%} interval)")
        ax.scatter(x, c["actual"], marker="D", color=np.where(c["covered"], "tab:blue", "tab:red"), zorder=3,
                   label="real (red: outside the interval)")
        ax.set_xticks(x, c["origin"], rotation=60, fontsize="small")
        ax.set_xlabel("origin month (projected from its end)")
        ax.set_ylabel("effective seats")
        ax.legend(frameon=False, fontsize="small")
        ax.set_title("Backtest: projections from past months against what happened")
        return ax

    def _repr_html_(self) -> str:
        from ccinsight.tables import reviewer_html

        table = pd.DataFrame(self._dated(self.projection))
        table = table[table["week"] % 4 == 0]
        return f"<p>{html.escape(self.caption())}</p>" + reviewer_html(
            table.drop(columns="week"), intervals={"median": ("low", "high")}, units={"median": "count"},
            labels={"median": f"effective seats without new hires ({self.level:.0%} interval)"})


def _site_targets(given: dict | None, r: pd.DataFrame) -> dict[str, int]:
    if not given:
        return {}
    if not isinstance(given, dict):
        raise ParameterError(f"seats_by_site must map sites to seats, e.g. {{Dalian: 400}}; got {given!r}.")
    known = sorted(set(r["site"]))
    unknown = [str(k) for k in given if str(k) not in known]
    bad = [f"{k}: {v!r}" for k, v in given.items() if isinstance(v, bool) or not isinstance(v, int) or v < 1]
    if unknown or bad:
        raise ParameterError("seats_by_site: " + "; ".join(
            ([f"no agent employed at site(s) {', '.join(unknown)} (sites: {', '.join(known)})"] if unknown else [])
            + ([f"seats must be whole numbers above 0 ({', '.join(bad)})"] if bad else [])) + ".")
    return {str(k): int(v) for k, v in given.items()}


def _site_plan(site: str, target: int, curves, r: pd.DataFrame, weeks: int, seed: int, class_size: int,
               lead_weeks: int, level: float, as_of: pd.Timestamp, misses: tuple[float, float] | None) -> dict:
    """One site's plan: its roster, everyone's curves."""
    here = r[r["site"] == site]
    classes, band = plan_classes(curves, here, weeks, seed, target, class_size, lead_weeks, level, misses)
    under = np.flatnonzero(band["low"].to_numpy() < target)
    def date(week):
        return (as_of + pd.Timedelta(weeks=int(week))).date().isoformat()
    end = band.iloc[-1]
    return {"site": site, "effective_now": int((here["status"] == "certified").sum()), "seats_needed": target,
            "classes": len(classes), "first_class": date(classes[0][0]) if classes else None,
            "short_from": date(under[0]) if len(under) else None, "at_horizon": float(end["median"]),
            "low": float(end["low"]), "high": float(end["high"])}


# --------------------------------------------------------------------------- entry point
def analyse(ds: Dataset, horizon_weeks: int = 26, window_months: int = 24, seats_needed: int | None = None,
            class_size: int = 20, lead_weeks: int = 2, by: str | None = None, seats_by_site: dict | None = None,
            confidence: float = 0.9, draws: int = 40, backtest_draws: int = 20, seed: int = 0) -> SeatsResult:
    """Effective seats now and projected ``horizon_weeks`` ahead.

    Parameters
    ----------
    ds
        Loaded data with the ``agents`` table (``performance`` optional, for the spiral
        check); its analysis month sets ``as_of``.
    horizon_weeks
        Weeks projected (default 26, about six months); the backtest uses the same horizon.
    window_months
        Hires of the last ``window_months`` months are the curves' population.
    seats_needed, class_size, lead_weeks
        The target (None: keep today's effective seats), the size of a training class and
        the weeks before a class decided now can start.
    seats_by_site
        Site -> effective seats wanted there: each listed site gets its own plan (its own
        roster, everyone's curves).
    by
        Column whose groups get curves of their own (e.g. onboarding_program, when mentored
        hires stay longer); bulk drives always get their own. None (default): one curve for
        all other hires. Compare choices by the backtest's coverage.
    confidence
        Level of the intervals and of the plan (its lower bound stays at the target).
    draws, backtest_draws, seed
        Bootstrap refits of the curves for the projection and for each backtest origin (each
        simulated five times), and their seed.
    """
    if not ds.calendar:
        raise DataError("Effective seats need hire, exit and certification dates; this export gives tenure only.")
    if not 0.5 <= confidence < 1:
        raise ParameterError(f"confidence must be between 0.5 and 1, e.g. 0.9; got {confidence}.")
    if horizon_weeks < 1 or class_size < 1 or lead_weeks < 0 or draws < 20:
        raise ParameterError("horizon_weeks and class_size must be positive, lead_weeks 0 or more and draws at "
                             f"least 20; got {horizon_weeks}, {class_size}, {lead_weeks} and {draws}.")
    agents = ds["agents"]
    as_of = ds.as_of
    tracked = bool(agents["certified"].notna().any())
    if not tracked:  # no certification results at all: a seat is an employed agent
        agents = agents.assign(certified=pd.array([True] * len(agents), dtype="boolean"),
                               certification_date=agents["hire_date"])
    if by is not None and by not in agents:
        raise ParameterError(f"by '{by}' is not a column of the agents table; e.g. onboarding_program, "
                             "hiring_channel or site (or None for one curve).")
    hires = agents[agents["hire_date"] >= period_mod.window_start(as_of, window_months)]
    if len(hires) < 30:
        raise DataError(f"agents: {len(hires)} hires in the last {window_months} months; effective seats need at "
                        "least 30 to fit who stays and who certifies.")
    keys = strata(agents, by)
    r = roster(agents, as_of).assign(stratum=keys)
    status = r["status"].to_numpy()
    if seats_needed is None:
        seats_needed = int((status == "certified").sum())
    curves = bootstrap_curves(hires, keys, as_of, draws, seed)
    # the backtest first: the intervals shown are widened by its misses, as its checks were
    checks = backtest(agents, as_of, window_months, horizon_weeks, backtest_draws, confidence, seed, by)
    misses = past_misses(checks, as_of, horizon_weeks, confidence)

    today = roster_seats(curves, r, horizon_weeks, seed)

    def band(classes=()):
        return widen(_band(today + class_seats(curves, horizon_weeks, seed, list(classes)), confidence), misses,
                     horizon_weeks)

    projection = band()
    plan, plan_band, naive, naive_band, short = [], None, [], None, None
    if seats_needed:
        plan, plan_band = plan_classes(curves, r, horizon_weeks, seed, seats_needed, class_size, lead_weeks,
                                       confidence, misses, today=today)
        under = np.flatnonzero(plan_band["low"].to_numpy() < seats_needed)
        short = int(under[0]) if len(under) else None
        naive = naive_classes(int((status == "certified").sum()), seats_needed, class_size, lead_weeks)
        if naive:
            naive_band = band(naive)
    sites = [_site_plan(site, int(n), curves, r, horizon_weeks, seed, class_size, lead_weeks, confidence, as_of,
                        misses) for site, n in _site_targets(seats_by_site, r).items()]
    spiral, tests = spiral_months(agents, ds["performance"] if "performance" in ds else None, as_of,
                                  queue=ds["queue_intervals"] if "queue_intervals" in ds else None)
    return SeatsResult(as_of=as_of, roster=r, hires=hires, curves=curves[0][POOLED], projection=projection, plan=plan,
                       plan_projection=plan_band,
                       naive=naive, naive_projection=naive_band, short_week=short, checks=checks,
                       spiral=spiral, spiral_tests=tests, spiral_occupancy="queue_intervals" in ds, sites=sites,
                       seats_needed=seats_needed, class_size=class_size, lead_weeks=lead_weeks, level=confidence,
                       window_months=window_months, certification_tracked=tracked, names=ds.labels)


ANALYSIS = Analysis(
    name="effective_seats", title="Will there be enough certified agents?",
    question="How many employed, certified agents will there be week by week, which classes keep enough, and did "
             "exits outrun hires while conversion or QA fell?",
    findings=SeatsFindings, tables=("agents",), optional_tables=("performance", "queue_intervals"))
