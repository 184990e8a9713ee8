"""KPIs against plan: the monthly check of plan-do-check-act.

Each month, for the centre, each site and each team: answer rate, service level,
abandonment, occupancy and average handle time from the half-hourly ``queue_intervals``,
new-hire pass rate and 90-day attrition from ``agents``, each with its 95% interval and
against its target from the annual plan. Then three questions a review asks:

- *Signal or noise?* Control charts over the last months: a Laney p'-chart for shares
  counted in calls or hires (the plain p-chart's limits are far too narrow for months of
  tens of thousands of calls that vary more than binomially; the p'-chart widens them by
  the month-to-month variation actually seen), an XmR chart for occupancy and AHT.
- *Was the centre short?* Agents required in each half hour for the service-level target
  (Erlang C, :mod:`ccinsight.queueing`) against the agents staffed, per site and month, beside the
  effective seats (employed and certified) at the month's end.
- *Why?* Teams whose occupancy stayed above a ceiling for months, and whether their agents
  then left faster than the rest of the centre (a Poisson rate test, Holm across teams).

Intervals: the queue's shares and ratios are ratios of monthly sums with a standard error
from the days' variation (calls of one day are not independent draws); pass rate and
attrition are counts of agents (Wilson). A target counts as missed when a one-sided test
against it stays significant after Holm's adjustment across every scope and KPI judged
that month; a value on the wrong side of its target that is not is said to be within noise.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.special import expit, logit

from ccinsight import queueing, wording
from ccinsight.analysis import Analysis
from ccinsight.data import Dataset
from ccinsight.errors import DataError, ParameterError
from ccinsight.findings import Estimate, Findings, Tracked, fact, to_jsonable
from ccinsight.labels import Labels
from ccinsight.plotting import new_axes, percent_axis
from ccinsight.stats import wilson

Z = sps.norm.ppf(0.975)


@dataclass(frozen=True)
class Metric:
    """A KPI: its words, unit, direction and chart."""

    label: str
    unit: str  # "share" or "seconds"
    higher_is_better: bool
    chart: str  # "p" (Laney p'-chart, counted shares) or "xmr" (individuals)


METRICS = {
    "answer_rate": Metric("answer rate", "share", True, "p"),
    "service_level": Metric("service level", "share", True, "p"),
    "abandonment": Metric("abandonment", "share", False, "p"),
    "occupancy": Metric("occupancy", "share", True, "xmr"),
    "aht": Metric("AHT", "seconds", False, "xmr"),
    "pass_rate": Metric("new-hire pass rate", "share", True, "p"),
    "new_hire_attrition": Metric("90-day attrition", "share", False, "p"),
}
#: The annual plan's targets (docs: DOMAIN notes); the others are charted, not judged, unless given.
DEFAULT_TARGETS = {"answer_rate": 0.90, "pass_rate": 0.80, "occupancy": 0.70}
#: numerator, denominator of each queue KPI (sums over intervals)
QUEUE_RATIOS = {"answer_rate": ("answered", "offered"), "service_level": ("answered_in_sl", "offered"),
                "abandonment": ("abandoned", "offered"), "occupancy": ("agents_on_calls", "agents_staffed"),
                "aht": ("handle_time_s", "answered")}
LEVELS = ("centre", "site", "team")
CENTRE = "whole centre"


def scope_name(names: Labels, level: str, scope: str) -> str:
    """How sentences and tables name a scope: the centre, a site, or a team."""
    if level == "centre":
        return "the centre"
    name = names.value(level, scope)
    return f"team {name}" if level == "team" else name


# --------------------------------------------------------------------------- measures
def _ratio_by(daily: pd.DataFrame, keys: list[str], num: str, den: str) -> pd.DataFrame:
    """Ratio of sums per group, with the standard error of a ratio estimator from the
    days' variation (linearisation: residuals y_d - r x_d of each day)."""
    g = daily.groupby(keys, observed=True)
    y, x, d = g[num].sum(), g[den].sum(), g.size()
    r = (y / x.where(x > 0)).rename("value")
    resid = daily[num] - r.reindex(pd.MultiIndex.from_frame(daily[keys])).to_numpy() * daily[den]
    ss = (resid ** 2).groupby([daily[k] for k in keys], observed=True).sum()
    se = np.sqrt(ss * d / (d - 1).where(d > 1)) / x.where(x > 0)
    return pd.DataFrame({"value": r, "se": se, "num": y, "n": x}).reset_index()


def _interval(out: pd.DataFrame, unit: str) -> pd.DataFrame:
    """95% interval from the standard error: on the logit scale for shares, else normal."""
    v, se = out["value"].to_numpy(float), out["se"].to_numpy(float)
    if unit == "share":
        inside = (v > 0) & (v < 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = se / (v * (1 - v))
            lo, hi = expit(logit(v) - Z * s), expit(logit(v) + Z * s)
        lo, hi = np.where(inside, lo, np.nan), np.where(inside, hi, np.nan)
    else:
        lo, hi = v - Z * se, v + Z * se
    return out.assign(low=lo, high=hi)


def queue_measures(q: pd.DataFrame, months: pd.PeriodIndex) -> pd.DataFrame:
    """Queue KPIs per level, scope and month: value, se, low, high, num, n."""
    q = q.assign(month=q["interval_start"].dt.to_period("M"), day=q["interval_start"].dt.normalize())
    q = q[q["month"].isin(months)]
    cols = sorted({c for pair in QUEUE_RATIOS.values() for c in pair})
    frames = []
    for level in LEVELS:
        scope = pd.Series(CENTRE, index=q.index) if level == "centre" else q[level].astype(str)
        daily = q[cols].groupby([scope.rename("scope"), q["month"], q["day"]], observed=True).sum().reset_index()
        for name, (num, den) in QUEUE_RATIOS.items():
            out = _ratio_by(daily, ["scope", "month"], num, den)
            frames.append(_interval(out, METRICS[name].unit).assign(level=level, metric=name))
    return pd.concat(frames, ignore_index=True)


def agent_measures(agents: pd.DataFrame, months: pd.PeriodIndex, as_of: pd.Timestamp) -> pd.DataFrame:
    """New-hire pass rate (exams in the month) and 90-day attrition (hires reaching day 90
    in the month: left before it) per level, scope and month, with Wilson intervals."""
    a = agents
    examined = a[a["certified"].notna() & (a["certification_date"] <= as_of)]
    day90 = a["hire_date"] + pd.Timedelta(days=90)
    reached = a[day90 <= as_of]
    parts = {
        "pass_rate": (examined, examined["certification_date"].dt.to_period("M"),
                      examined["certified"].astype(bool)),
        "new_hire_attrition": (reached, day90[reached.index].dt.to_period("M"),
                               reached["exit_date"].notna() & (reached["exit_date"] <= day90[reached.index])),
    }
    frames = []
    for name, (rows, month, hit) in parts.items():
        base = pd.DataFrame({"month": month, "hit": hit.astype(int), "site": rows["site"].astype(str),
                             "team": rows["team"].astype(str)})
        base = base[base["month"].isin(months)]
        for level in LEVELS:
            scope = pd.Series(CENTRE, index=base.index) if level == "centre" else base[level]
            g = base.groupby([scope.rename("scope"), "month"], observed=True)["hit"].agg(["sum", "size"])
            g = g.reset_index().rename(columns={"sum": "num", "size": "n"})
            lo, hi = wilson(g["num"].to_numpy(), g["n"].to_numpy())
            v = g["num"] / g["n"]
            frames.append(g.assign(value=v, se=np.sqrt(v * (1 - v) / g["n"]), low=lo, high=hi, level=level,
                                   metric=name))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- control charts
def laney_limits(num: np.ndarray, n: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Centre line, per-point sigma (binomial) and the Laney factor sigma_z of a p'-chart
    from baseline points (the factor is at least 1: never narrower than the p-chart)."""
    p = num.sum() / n.sum()
    sigma = np.sqrt(p * (1 - p) / n)
    z = (num / n - p) / sigma
    sigma_z = np.mean(np.abs(np.diff(z))) / 1.128 if len(z) > 1 else 1.0
    return float(p), sigma, float(max(sigma_z, 1.0))


def xmr_limits(x: np.ndarray) -> tuple[float, float]:
    """Centre line and half-width (2.66 times the mean moving range) of an XmR chart."""
    return float(np.mean(x)), float(2.66 * np.mean(np.abs(np.diff(x))))


def _limits(value: np.ndarray, num: np.ndarray, n: np.ndarray, chart: str, min_baseline: int
            ) -> tuple[float, np.ndarray, np.ndarray]:
    """Centre line, lower and upper limits of one series in month order (all NaN when it has
    too few baseline months, or a p-chart's baseline is all hits or none)."""
    keep = ~np.isnan(value[:-1]) & (n[:-1] > 0)
    b_value, b_num, b_n = value[:-1][keep], num[:-1][keep], n[:-1][keep]
    flat = chart == "p" and np.nansum(b_num) in (0, np.nansum(b_n))  # all or none: no binomial spread
    if len(b_value) < min_baseline or flat:
        return np.nan, np.full(len(value), np.nan), np.full(len(value), np.nan)
    if chart == "p":
        p, _, sigma_z = laney_limits(b_num, b_n)
        with np.errstate(divide="ignore"):  # a month without cases: limits 0 to 1, its value NaN
            half = 3 * sigma_z * np.sqrt(p * (1 - p) / n)
        return p, np.clip(p - half, 0, 1), np.clip(p + half, 0, 1)
    p, half = xmr_limits(b_value)
    return p, np.full(len(value), p - half), np.full(len(value), p + half)


def control(series: pd.DataFrame, chart: str, min_baseline: int = 6) -> pd.DataFrame:
    """Limits from the months before the last (the month judged), and which points fall
    outside them. ``series``: one scope and metric, one row per month in order."""
    s = series.sort_values("month")
    v = s["value"].to_numpy(float)
    centre, lcl, ucl = _limits(v, s["num"].to_numpy(float), s["n"].to_numpy(float), chart, min_baseline)
    return s.assign(centre=centre, lcl=lcl, ucl=ucl, signal=(v < lcl) | (v > ucl))


def control_all(measures: pd.DataFrame, min_baseline: int = 6) -> pd.DataFrame:
    """:func:`control` of every (level, scope, metric) series of ``measures``, in that order:
    one pass over arrays (a data frame per series cost 2.5 ms, 280 series a month)."""
    s = measures.sort_values(["level", "scope", "metric", "month"], kind="stable").reset_index(drop=True)
    value, num, n = (s[c].to_numpy(float) for c in ("value", "num", "n"))
    centre, lcl, ucl = np.full(len(s), np.nan), np.full(len(s), np.nan), np.full(len(s), np.nan)
    for (_, _, metric), rows in s.groupby(["level", "scope", "metric"], sort=False).indices.items():
        centre[rows], lcl[rows], ucl[rows] = _limits(value[rows], num[rows], n[rows], METRICS[metric].chart,
                                                     min_baseline)
    return s.assign(centre=centre, lcl=lcl, ucl=ucl, signal=(value < lcl) | (value > ucl))


# --------------------------------------------------------------------------- targets
def judge(current: pd.DataFrame, targets: dict[str, float], alpha: float = 0.05) -> pd.DataFrame:
    """One-sided test of each scope's KPI against its target (wrong side), Holm across all
    judged; status missed / within noise / met."""
    from statsmodels.stats.multitest import multipletests

    rows = current[current["metric"].isin(targets) & current["value"].notna()].copy()
    if rows.empty:
        return rows.assign(target=[], p=[], p_adj=[], status=[])
    rows["target"] = rows["metric"].map(targets)
    up = rows["metric"].map(lambda m: METRICS[m].higher_is_better)
    z = (rows["value"] - rows["target"]) / rows["se"].where(rows["se"] > 0)
    rows["p"] = np.where(up, sps.norm.cdf(z), sps.norm.sf(z))
    rows["p"] = rows["p"].fillna(1.0)
    rows["p_adj"] = multipletests(rows["p"], method="holm")[1]
    wrong = np.where(up, rows["value"] < rows["target"], rows["value"] > rows["target"])
    rows["status"] = np.where(wrong & (rows["p_adj"] < alpha), "missed", np.where(wrong, "within noise", "met"))
    return rows


def run_of_misses(series: pd.DataFrame, target: float, higher_is_better: bool) -> int:
    """Months in a row, ending at the last, whose value is on the wrong side of the target."""
    v = series.sort_values("month")["value"].to_numpy(float)
    wrong = v < target if higher_is_better else v > target
    k = 0
    for w in wrong[::-1]:
        if not w:
            break
        k += 1
    return k


# --------------------------------------------------------------------------- staffing
def staffing(q: pd.DataFrame, agents: pd.DataFrame, months: pd.PeriodIndex, sl_target: float,
             threshold_s: float) -> pd.DataFrame:
    """Per site and month: half hours, the share in which fewer agents were staffed than
    Erlang C requires, the mean gap there, and effective seats at the month's end."""
    q = q[q["interval_start"].dt.to_period("M").isin(months)]
    per = q.groupby(["site", "interval_start"], observed=True)[
        ["offered", "answered", "handle_time_s", "agents_staffed"]].sum().reset_index()
    aht = (per["handle_time_s"] / per["answered"].where(per["answered"] > 0))
    per["month"] = per["interval_start"].dt.to_period("M")
    typical = aht.groupby([per["site"], per["month"]]).transform("median")
    per["required"] = queueing.required_agents(per["offered"].to_numpy(), aht.fillna(typical).to_numpy(), sl_target,
                                               threshold_s)
    per["gap"] = (per["required"] - per["agents_staffed"]).clip(lower=0)
    per["short"] = per["gap"] > 0
    out = per.groupby(["site", "month"], observed=True).agg(
        intervals=("short", "size"), short=("short", "sum"), required_peak=("required", "max"),
        staffed_median=("agents_staffed", "median"), required_median=("required", "median")).reset_index()
    gaps = per[per["short"]].groupby(["site", "month"], observed=True)["gap"].mean()
    out["mean_gap"] = gaps.reindex(pd.MultiIndex.from_frame(out[["site", "month"]])).to_numpy()
    out["short_share"] = out["short"] / out["intervals"]
    ends = {m: m.to_timestamp(how="end").normalize() for m in months}
    seats = []
    if agents["certified"].notna().any():
        cert, since = agents["certified"].fillna(False).astype(bool), agents["certification_date"]
    else:  # no certification results at all: a seat is an employed agent (as in effective seats)
        cert, since = pd.Series(True, index=agents.index), agents["hire_date"]
    for _, row in out.iterrows():
        end = ends[row["month"]]
        here = ((agents["site"].astype(str) == row["site"]) & cert & (since <= end)
                & (agents["exit_date"].isna() | (agents["exit_date"] > end)))
        seats.append(int(here.sum()))
    return out.assign(effective_seats=seats)


# --------------------------------------------------------------------------- overload and exits
def exits_per_agent_month(agents: pd.DataFrame, who: pd.Series, months) -> tuple[int, int]:
    """Exits of ``who`` in ``months`` and their agent-months at risk (agents employed at
    each month's start, hired before it)."""
    exits = exposure = 0
    for m in months:
        start, end = m.to_timestamp(), m.to_timestamp(how="end").normalize()
        here = who & (agents["hire_date"] < start) & (agents["exit_date"].isna() | (agents["exit_date"] >= start))
        exits += int((here & agents["exit_date"].between(start, end)).sum())
        exposure += int(here.sum())
    return exits, exposure


def overload_then_exits(team_occ: pd.DataFrame, agents: pd.DataFrame, months: pd.PeriodIndex, ceiling: float,
                        run_months: int, after_months: int = 3, alpha: float = 0.05) -> tuple[pd.DataFrame, int]:
    """Teams whose occupancy stayed above ``ceiling`` for ``run_months`` or more months in a
    row, and their exits in the ``after_months`` months after the run (as far as the data
    go) against the rest of the centre's in the same months: rate per agent-month, rate
    ratio (score interval), one-sided Poisson test, Holm across the teams tested."""
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.rates import confint_poisson_2indep, test_poisson_2indep

    rows = []
    last = months.max()
    for team, s in team_occ.sort_values("month").groupby("scope"):
        above = (s.set_index("month")["value"] > ceiling).reindex(months, fill_value=False)
        runs, start = [], None
        for m, flag in above.items():
            if flag and start is None:
                start = m
            if not flag and start is not None:
                runs.append((start, m - 1))
                start = None
        if start is not None:
            runs.append((start, last))
        runs = [(a, b) for a, b in runs if (b - a).n + 1 >= run_months]
        if not runs:
            continue
        a, b = runs[-1]
        after = (pd.period_range(b + 1, min(b + after_months, last), freq="M") if b < last
                 else pd.PeriodIndex([], freq="M"))
        mine = agents["team"].astype(str) == team
        counts = {"team": team, "site": str(agents.loc[mine, "site"].iloc[0]) if mine.any() else "",
                  "first": str(a), "last": str(b), "months": (b - a).n + 1,
                  "occupancy": float(s[s["month"].between(a, b)]["value"].mean()),
                  "after": f"{after[0]} to {after[-1]}" if len(after) else None}
        exits, exposure = exits_per_agent_month(agents, mine, after)
        other_exits, other_exposure = exits_per_agent_month(agents, ~mine, after)
        counts.update(exits=exits, agent_months=exposure, rate=exits / exposure if exposure else None,
                      others_rate=other_exits / other_exposure if other_exposure else None)
        if exposure and other_exposure:
            test = test_poisson_2indep(exits, exposure, other_exits, other_exposure, alternative="larger")
            lo, hi = confint_poisson_2indep(exits, exposure, other_exits, other_exposure, compare="ratio")
            counts.update(ratio=(exits / exposure) / (other_exits / other_exposure) if other_exits else None,
                          low=float(lo), high=float(hi), p=float(test.pvalue))
        rows.append(counts)
    out = pd.DataFrame(rows, columns=["team", "site", "first", "last", "months", "occupancy", "after", "exits",
                                      "agent_months", "rate", "others_rate", "ratio", "low", "high", "p"])
    tested = out["p"].notna()
    out["p_adj"] = np.nan
    if tested.any():
        out.loc[tested, "p_adj"] = multipletests(out.loc[tested, "p"], method="holm")[1]
    out["exits_rose"] = out["p_adj"] < alpha
    return out.drop(columns="p"), int(tested.sum())


# --------------------------------------------------------------------------- check: why
def pdca(card: pd.DataFrame, agents: pd.DataFrame, staffed: pd.DataFrame, overload: pd.DataFrame,
         months: pd.PeriodIndex, lookback: int = 3) -> pd.DataFrame:
    """For each target missed beyond noise this month: by how much, for how long, and what
    else the data show for the same scope: exits in the last ``lookback`` months against the
    rest of the centre (rate ratio, score interval), the site's half hours short of the
    Erlang C requirement, its effective seats now and ``lookback`` months before, and
    whether the team ran overloaded. Context for the review, not causes."""
    from statsmodels.stats.rates import confint_poisson_2indep

    last = months[-1]
    recent = pd.period_range(last - (lookback - 1), last, freq="M")
    seats = staffed.set_index(["site", "month"])["effective_seats"] if len(staffed) else pd.Series(dtype=float)
    short = staffed.set_index(["site", "month"])["short_share"] if len(staffed) else pd.Series(dtype=float)
    hot = set(overload["team"]) if len(overload) else set()
    rows = []
    for r in card[card["status"] == "missed"].itertuples():
        mine = (pd.Series(True, index=agents.index) if r.level == "centre"
                else agents[r.level].astype(str) == r.scope)
        exits, exposure = exits_per_agent_month(agents, mine, recent)
        other, other_exposure = exits_per_agent_month(agents, ~mine, recent)
        row = {"level": r.level, "scope": r.scope, "metric": r.metric, "value": r.value, "target": r.target,
               "gap": r.value - r.target, "run": r.run, "exits": exits, "agent_months": exposure,
               "exit_rate": exits / exposure if exposure else None,
               "others_exit_rate": other / other_exposure if other_exposure else None,
               "exit_ratio_low": None, "exit_ratio_high": None, "short_share": None, "seats_now": None,
               "seats_before": None, "overloaded": r.level == "team" and r.scope in hot}
        if exposure and other_exposure and r.level != "centre":
            lo, hi = confint_poisson_2indep(exits, exposure, other, other_exposure, compare="ratio")
            row.update(exit_ratio_low=float(lo), exit_ratio_high=float(hi))
        site = r.scope if r.level == "site" else (
            str(agents.loc[mine, "site"].iloc[0]) if r.level == "team" and mine.any() else None)
        if site is not None and (site, last) in short.index:
            before = last - lookback
            row.update(short_share=float(short[(site, last)]), seats_now=int(seats[(site, last)]),
                       seats_before=int(seats[(site, before)]) if (site, before) in seats.index else None)
        rows.append(row)
    return pd.DataFrame(rows, columns=["level", "scope", "metric", "value", "target", "gap", "run", "exits",
                                       "agent_months", "exit_rate", "others_exit_rate", "exit_ratio_low",
                                       "exit_ratio_high", "short_share", "seats_now", "seats_before",
                                       "overloaded"])


# --------------------------------------------------------------------------- findings
@dataclass(frozen=True)
class KpiFindings(Findings):
    """The month's KPIs against plan: the scorecard, its control charts, staffing against
    Erlang C, and overloaded teams."""

    tracked = (Tracked("centre_answer_rate", "answer rate", higher_is_better=True),
               Tracked("centre_occupancy", "occupancy", higher_is_better=True),
               Tracked("centre_pass_rate", "new-hire pass rate", higher_is_better=True))

    as_of: str = fact("the analysis date: the last day of the analysis month", "date")
    month: str = fact("the month judged", "month")
    months: int = fact("months charted, the judged one last (the control limits come from the ones before)",
                       "count")
    targets: dict = fact("KPI -> target judged (share, or seconds for aht)", "facts")
    centre_answer_rate: Estimate = fact("the centre's answer rate in the month: answered / offered", "share")
    centre_occupancy: Estimate = fact("the centre's occupancy in the month: agent time on calls / staffed", "share")
    centre_pass_rate: Estimate = fact("the centre's new-hire pass rate: hires examined in the month who passed",
                                      "share")
    scorecard: list = fact("each KPI with a target, for the centre, each site and each team in the month: level, "
                           "scope, metric, value, low, high, n, target, p_adj, status (missed: wrong side after Holm; "
                           "within noise; met), run (months in a row on the wrong side), signal (outside the "
                           "control limits)", "records")
    judged: int = fact("scope-KPI pairs judged against targets this month (the Holm family)", "count")
    pdca: list = fact("each target missed beyond noise this month, with what else the data show for its scope: "
                      "level, scope, metric, value, target, gap, run, exits and agent_months (last 3 months), "
                      "exit_rate, others_exit_rate (rest of the centre), exit_ratio_low/high (95% CI of the rate "
                      "ratio), short_share (the site's half hours short of Erlang C this month), seats_now, "
                      "seats_before (the site's effective seats now and 3 months before), overloaded (team ran "
                      "above the occupancy ceiling)", "records")
    series: list = fact("month by month for the centre and each site: level, scope, metric, month, value, low, "
                        "high, n, centre, lcl, ucl (control limits), signal", "records")
    staffing: list = fact("per site and month: intervals, short (half hours with fewer agents staffed than Erlang "
                          "C requires for the service-level target), short_share, mean_gap (agents), "
                          "required_peak, required_median, staffed_median, effective_seats (month end)", "records")
    sl_target: float = fact("service-level target of the Erlang C requirement", "share")
    sl_threshold_s: float = fact("seconds within which a call counts as answered in service level", "seconds")
    occupancy_ceiling: float = fact("occupancy above which a team is overloaded", "share")
    overload: list = fact("teams above the ceiling for the run length or more months in a row (latest run): team, "
                          "site, first, last, months, occupancy, after (months compared), exits, agent_months, rate, "
                          "others_rate, ratio, low, high, p_adj, exits_rose", "records")
    overload_tests: int = fact("overloaded teams with months after their run to test (the Holm family)", "count")
    queue_note: str | None = fact("why the queue KPIs are left out (null: they are in)", "text")

    def _label(self, metric: str) -> str:
        return METRICS[metric].label

    def _scope(self, row: dict) -> str:
        return scope_name(self.names, row["level"], row["scope"])

    def _whose(self, row: dict) -> str:
        return self._scope(row) + "'s"

    def _why(self, c: dict) -> str:
        """One missed target in plan-do-check-act terms: by how much, how long, and beside it."""
        unit = METRICS[c["metric"]].unit
        fmt = wording.FORMATS[unit]
        gap = wording.points(abs(c["gap"])).lstrip("+") if unit == "share" else wording.duration(abs(c["gap"]))
        side = "under" if METRICS[c["metric"]].higher_is_better else "over"
        run = f"{c['run']} months running" if c["run"] > 1 else "the first month"
        text = (f"Check: {self._whose(c)} {self._label(c['metric'])} {fmt(c['value'])}, {gap} {side} its target of "
                f"{fmt(c['target'])} ({run}).")
        beside = []
        if c["short_share"]:
            beside.append(f"the site was short of the Erlang C requirement in {wording.share(c['short_share'])} of "
                          "its half hours")
        elif c["short_share"] is not None:
            beside.append("the site was never short of the Erlang C requirement")
        if c["seats_now"] is not None and c["seats_before"] is not None:
            beside.append(f"its effective seats went from {wording.count(c['seats_before'])} to "
                          f"{wording.count(c['seats_now'])} in three months")
        if c["exit_rate"] is not None and c["others_exit_rate"] is not None and c["level"] != "centre":
            beside.append(f"{wording.share(c['exit_rate'])} of its agents left per month over the last three "
                          f"against {wording.share(c['others_exit_rate'])} elsewhere"
                          + (f", a rate ratio of {wording.number(c['exit_rate'] / c['others_exit_rate'], 1)} "
                             f"(95% CI {wording.number(c['exit_ratio_low'], 1)} to "
                             f"{wording.number(c['exit_ratio_high'], 1)})"
                             if c["exit_ratio_low"] is not None and c["others_exit_rate"] else ""))
        if c["overloaded"]:
            beside.append(f"the team ran above {wording.share(self.occupancy_ceiling, 0)} occupancy for months")
        if beside:
            text += (" Beside it: " + "; ".join(beside)
                     + ". These are associations to look into, not established causes.")
        return text

    def headlines(self) -> list[str]:
        lines = []
        centre = {r["metric"]: r for r in self.scorecard if r["level"] == "centre"}
        said = []
        for metric, r in centre.items():
            unit = METRICS[metric].unit
            said.append(f"{self._label(metric)} {wording.estimate(r['value'], r['low'], r['high'], unit)} "
                        f"against {wording.FORMATS[unit](r['target'])}: {r['status']}")
        if said:
            lines.append(f"In {self.month} the centre's " + "; ".join(said) + ".")
        if self.queue_note:
            lines.append(self.queue_note)
        for c in self.pdca:
            if c["level"] == "team":
                continue
            lines.append(self._why(c))
        missed = [r for r in self.scorecard if r["status"] == "missed" and r["level"] != "centre"]
        if missed:
            parts = [f"{self._whose(r)} {self._label(r['metric'])} "
                     f"{wording.FORMATS[METRICS[r['metric']].unit](r['value'])}"
                     + (f" ({r['run']} months running)" if r["run"] > 1 else "") for r in missed[:8]]
            lines.append("Missed beyond noise (Holm across "
                         f"{self.judged} scope-KPI pairs): " + "; ".join(parts)
                         + (f"; and {len(missed) - 8} more" if len(missed) > 8 else "") + ".")
        else:
            lines.append(f"No site or team missed a target beyond noise this month (Holm across {self.judged} "
                         "scope-KPI pairs); values on the wrong side of a target within noise are in the scorecard.")
        signals = [r for r in self.series if r["month"] == self.month and r["signal"]]
        if signals:
            lines.append("Outside the control limits this month (a change beyond the usual month-to-month "
                         "variation): " + "; ".join(
                             f"{self._whose(r)} {self._label(r['metric'])} "
                             f"{wording.FORMATS[METRICS[r['metric']].unit](r['value'])}, against control limits of "
                             f"{wording.FORMATS[METRICS[r['metric']].unit](r['lcl'])} to "
                             f"{wording.FORMATS[METRICS[r['metric']].unit](r['ucl'])}" for r in signals[:6]) + ".")
        now = [s for s in self.staffing if s["month"] == self.month and s["short_share"] >= 0.1]
        for s in now:
            lines.append(f"{self.names.value('site', s['site'])} had fewer agents than Erlang C requires for "
                         f"{wording.share(self.sl_target, 0)} in {wording.duration(self.sl_threshold_s)} in "
                         f"{wording.share(s['short_share'])} of its half hours (on average "
                         f"{wording.number(s['mean_gap'], 1)} agents short there); effective seats at the month's "
                         f"end: {wording.count(s['effective_seats'])}.")
        for o in self.overload:
            team = self.names.value("team", o["team"])
            text = (f"Team {team} ran above {wording.share(self.occupancy_ceiling, 0)} occupancy for {o['months']} "
                    f"months ({o['first']} to {o['last']}, mean {wording.share(o['occupancy'])})")
            if o["after"] is None:
                text += "; no month after the run yet to see whether its agents leave faster."
            else:
                text += (f"; in {o['after']} {wording.count(o['exits'])} of its agents left "
                         f"({wording.share(o['rate'])} per agent-month against {wording.share(o['others_rate'])} "
                         "in the rest of the centre"
                         + (f", {wording.number(o['ratio'], 1)} times the rate, 95% CI "
                            f"{wording.number(o['low'], 1)} to {wording.number(o['high'], 1)}"
                            if o.get("ratio") is not None else "")
                         + f"; {wording.p_value(o['p_adj'])}, Holm across {self.overload_tests} "
                         + ("team" if self.overload_tests == 1 else "teams") + "): "
                         + ("exits rose after the overload, an association, not proof it caused them."
                            if o["exits_rose"] else "not clearly more than the rest, which is not proof of no effect."))
            lines.append(text)
        return lines

    def details(self) -> list[str]:
        return ["- Missed means on the wrong side of the target by a one-sided test that stays under 5% after Holm's "
                f"adjustment across the {self.judged} scope-KPI pairs judged; within noise means on the wrong side "
                "without that evidence. Queue intervals come from the days' variation, agents' from Wilson's.",
                "- Control limits come from the months before the judged one: Laney p'-charts for answer rate, "
                "service level, abandonment, pass rate and attrition (widened by the month-to-month variation "
                "seen, never narrower than a p-chart), XmR charts for occupancy and AHT. A point outside is a "
                "change beyond the usual variation, not by itself a miss.",
                "- Erlang C assumes callers wait as long as needed and calls arrive evenly within the half "
                "hour; the requirement is for agents on the phones, before shrinkage."]

    def attention(self) -> list[tuple[str, str]]:
        out = []
        for r in self.scorecard:
            if r["status"] == "missed" and r["level"] in ("centre", "site"):
                fmt = wording.FORMATS[METRICS[r["metric"]].unit]
                whose = self._whose(r)
                out.append(("missed target", f"{whose[0].upper()}{whose[1:]} {self._label(r['metric'])} "
                                             f"{fmt(r['value'])} against {fmt(r['target'])}"
                                             + (f", {r['run']} months running" if r["run"] > 1 else "") + "."))
        teams = [r for r in self.scorecard if r["status"] == "missed" and r["level"] == "team"]
        if teams:
            out.append(("missed target", f"{len(teams)} team-KPI pair(s) missed beyond noise; see the "
                                         "plan-do-check-act table."))
        for o in self.overload:
            if o["exits_rose"]:
                out.append(("action", f"Team {self.names.value('team', o['team'])}: agents left faster after "
                                      f"{o['months']} months above {wording.share(self.occupancy_ceiling, 0)} "
                                      "occupancy; review its load."))
        return out


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class KpiResult:
    """The month's KPIs against plan, with what the notebook shows."""

    as_of: pd.Timestamp
    months: pd.PeriodIndex
    measures: pd.DataFrame
    charted: pd.DataFrame
    scorecard: pd.DataFrame
    staffing: pd.DataFrame
    overload: pd.DataFrame
    overload_tests: int
    checks: pd.DataFrame
    targets: dict
    sl_target: float
    sl_threshold_s: float
    occupancy_ceiling: float
    queue_note: str | None = None
    names: Labels = field(default_factory=Labels)

    def __repr__(self) -> str:
        return f"KpiResult({self.caption()})"

    def caption(self) -> str:
        return (f"KPIs of {self.months[-1]} against plan, charted over {self.months[0]} to {self.months[-1]}: "
                f"{int(self.measures['scope'].nunique()):,} scopes")

    def findings(self) -> KpiFindings:
        current = self.measures[(self.measures["month"] == self.months[-1]) & (self.measures["level"] == "centre")]
        current = current.set_index("metric")

        def est(metric):
            if metric not in current.index:
                return Estimate(None)
            r = current.loc[metric]
            return Estimate.of(r["value"], r["low"], r["high"], r["n"])

        card = self.scorecard[["level", "scope", "metric", "value", "low", "high", "n", "target", "p_adj", "status",
                               "run", "signal"]]
        series = self.charted[self.charted["level"] != "team"][
            ["level", "scope", "metric", "month", "value", "low", "high", "n", "centre", "lcl", "ucl", "signal"]]
        return KpiFindings(
            as_of=self.as_of.date().isoformat(), month=str(self.months[-1]), months=len(self.months),
            targets=dict(self.targets), centre_answer_rate=est("answer_rate"),
            centre_occupancy=est("occupancy"), centre_pass_rate=est("pass_rate"), scorecard=to_jsonable(card),
            judged=len(self.scorecard), pdca=to_jsonable(self.checks),
            series=to_jsonable(series.assign(month=series["month"].astype(str))),
            staffing=to_jsonable(self.staffing.assign(month=self.staffing["month"].astype(str))),
            sl_target=self.sl_target, sl_threshold_s=self.sl_threshold_s,
            occupancy_ceiling=self.occupancy_ceiling, overload=to_jsonable(self.overload),
            overload_tests=self.overload_tests, queue_note=self.queue_note, labels=self.names.to_json())

    def plot(self, metrics: tuple[str, ...] = ("answer_rate", "occupancy", "pass_rate", "service_level",
                                               "abandonment", "aht")):
        """Control charts of the centre, month by month, with each site's line and the target."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter

        fig, axes = plt.subplots(2, 3, figsize=(13, 6.5), sharex=True)
        for ax, metric in zip(axes.ravel(), metrics):
            m = METRICS[metric]
            c = self.charted[(self.charted["metric"] == metric)]
            centre = c[c["level"] == "centre"].sort_values("month")
            x = centre["month"].dt.to_timestamp()
            for site, s in c[c["level"] == "site"].groupby("scope"):
                s = s.sort_values("month")
                ax.plot(s["month"].dt.to_timestamp(), s["value"], lw=1, alpha=0.6,
                        label=self.names.value("site", site))
            ax.plot(x, centre["value"], color="black", lw=2, marker="o", ms=3, label="centre")
            ax.plot(x, centre["lcl"], color="0.5", ls=":", lw=1, label="control limits (centre)")
            ax.plot(x, centre["ucl"], color="0.5", ls=":", lw=1)
            out = centre[centre["signal"]]
            ax.scatter(out["month"].dt.to_timestamp(), out["value"], color="tab:red", zorder=4, s=30,
                       label="outside the limits")
            if metric in self.targets:
                ax.axhline(self.targets[metric], color="tab:red", ls="--", lw=1, label="target")
            if m.unit == "share":
                percent_axis(ax.yaxis)
            else:  # seconds; m:ss would hide changes under a second
                lo, hi = ax.get_ylim()
                digits = 0 if hi - lo >= 5 else 1
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _, d=digits: f"{v:,.{d}f} s"))
            ax.set_title(m.label)
            ax.tick_params(axis="x", rotation=45)
        handles, labels = axes.ravel()[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 7), frameon=False, fontsize="small")
        fig.suptitle(f"KPIs month by month to {self.months[-1]}: the centre's control chart and each site")
        fig.tight_layout(rect=(0, 0.06, 1, 0.96))
        return axes

    def plot_staffing(self, ax=None):
        """Share of half hours each site had fewer agents than Erlang C requires, by month."""
        ax = new_axes(ax, figsize=(9, 3.5))
        if self.staffing.empty:
            ax.text(0.5, 0.5, "No queue data: staffing against Erlang C needs queue_intervals", ha="center",
                    transform=ax.transAxes)
            ax.set_axis_off()
            return ax
        for site, s in self.staffing.groupby("site"):
            s = s.sort_values("month")
            ax.plot(s["month"].dt.to_timestamp(), s["short_share"], marker="o", ms=3,
                    label=self.names.value("site", site))
        percent_axis(ax.yaxis)
        ax.set_ylabel("half hours short of the requirement")
        ax.set_title(f"Half hours with fewer agents than Erlang C needs for {self.sl_target:.0%} answered in "
                     f"{wording.duration(self.sl_threshold_s)}")
        ax.legend(frameon=False, fontsize="small")
        return ax

    def checks_table(self):
        """Plan-do-check-act: every target missed beyond noise, by how much, for how long, and
        what else the data show for its scope."""
        from ccinsight.tables import shown

        c = self.checks
        fmt = {m: wording.FORMATS[METRICS[m].unit] for m in METRICS}
        frame = pd.DataFrame({
            "scope": [scope_name(self.names, lv, sc) for lv, sc in zip(c["level"], c["scope"])],
            "KPI": c["metric"].map(lambda m: METRICS[m].label),
            "value": [fmt[m](v) for m, v in zip(c["metric"], c["value"])],
            "target": [fmt[m](v) for m, v in zip(c["metric"], c["target"])],
            "months in a row": c["run"],
            "agents leaving per month, last 3 months": c["exit_rate"],
            "elsewhere": c["others_exit_rate"],
            "site's half hours short of Erlang C": c["short_share"],
            "site's effective seats 3 months before": c["seats_before"],
            "now": c["seats_now"],
            "team overloaded": c["overloaded"]})
        share = {k: "share" for k in ("agents leaving per month, last 3 months", "elsewhere",
                                      "site's half hours short of Erlang C")}
        return shown(frame, caption=f"Targets missed beyond noise in {self.months[-1]}, and what else the data show",
                     empty=f"No target was missed beyond noise in {self.months[-1]}.",
                     units={**share, "months in a row": "count", "site's effective seats 3 months before": "count",
                            "now": "count"}, labels={c: c for c in frame.columns})

    def _repr_html_(self) -> str:
        from ccinsight.tables import reviewer_html

        card = self.scorecard[self.scorecard["level"] != "team"].copy()
        card["scope"] = [scope_name(self.names, lv, s) for lv, s in zip(card["level"], card["scope"])]
        card["KPI"] = card["metric"].map(lambda m: METRICS[m].label)
        shares = card[card["metric"].map(lambda m: METRICS[m].unit == "share")]
        table = shares[["scope", "KPI", "value", "low", "high", "target", "status", "run", "n"]]
        return f"<p>{html.escape(self.caption())}</p>" + reviewer_html(
            table, intervals={"value": ("low", "high")},
            units={"value": "share", "target": "share", "run": "count", "n": "count"},
            labels={"run": "months in a row on the wrong side", "n": "calls, agent half hours or hires"})


# --------------------------------------------------------------------------- entry point
def _targets(given: dict | None) -> dict[str, float]:
    if given is None:
        return dict(DEFAULT_TARGETS)
    if not isinstance(given, dict):
        raise ParameterError(f"targets must map KPIs to targets, e.g. {{answer_rate: 0.9}}; got {given!r}.")
    unknown = [str(k) for k in given if k not in METRICS]
    bad = [f"{k}: {v!r}" for k, v in given.items() if k in METRICS and v is not None and (
        isinstance(v, bool) or not isinstance(v, (int, float))
        or (METRICS[k].unit == "share" and not 0 < v < 1) or v <= 0)]
    if unknown or bad:
        raise ParameterError("targets: " + "; ".join(
            ([f"unknown KPI(s) {', '.join(unknown)} (KPIs: {', '.join(METRICS)})"] if unknown else [])
            + ([f"shares must be between 0 and 1 and AHT above 0 seconds ({', '.join(bad)})"] if bad else [])) + ".")
    return {k: float(v) for k, v in given.items() if v is not None}


def analyse(ds: Dataset, months: int = 12, targets: dict | None = None, sl_target: float = 0.8,
            sl_threshold_s: float = 20.0, occupancy_ceiling: float = 0.85, overload_months: int = 3
            ) -> KpiResult:
    """The analysis month's KPIs against plan, charted over the last ``months`` months.

    Parameters
    ----------
    ds
        Loaded data with ``queue_intervals`` and ``agents``; the analysis month is judged.
    months
        Months charted, the analysis month last; control limits come from the ones before
        (at least 6 are needed for limits).
    targets
        KPI -> target (None: the annual plan's answer rate 0.90, pass rate 0.80, occupancy
        0.70). KPIs: answer_rate, service_level, abandonment, occupancy, aht (seconds),
        pass_rate, new_hire_attrition; a KPI without a target is charted, not judged. The
        targets of answer rate, service level, occupancy and pass rate are floors (at least),
        those of abandonment, AHT and attrition ceilings (at most).
    sl_target, sl_threshold_s
        The service level Erlang C staffs for: share of calls answered within the threshold.
    occupancy_ceiling, overload_months
        A team above the ceiling for this many months in a row or more is overloaded; its
        exits afterwards are compared with the rest of the centre's.
    """
    if months < 2:
        raise ParameterError(f"months must be at least 2 (the judged month and one before); got {months}.")
    if not 0 < sl_target < 1 or sl_threshold_s <= 0 or not 0 < occupancy_ceiling <= 1 or overload_months < 1:
        raise ParameterError("sl_target and occupancy_ceiling must be shares (0 to 1), sl_threshold_s above 0 and "
                             f"overload_months at least 1; got {sl_target}, {occupancy_ceiling}, {sl_threshold_s} "
                             f"and {overload_months}.")
    goal = _targets(targets)
    if not ds.calendar:
        raise DataError("KPIs against plan need hire, exit and certification dates; this export gives tenure only.")
    agents, as_of = ds["agents"], ds.as_of
    q = ds["queue_intervals"] if "queue_intervals" in ds else None
    last = as_of.to_period("M")
    window = pd.period_range(last - (months - 1), last, freq="M")
    note = None
    if q is None:
        note = "The data have no queue_intervals table, so answer rate, service level, abandonment, occupancy, AHT, " \
               "staffing and overload are left out; pass rate and attrition come from the agents table."
    elif not (q["interval_start"].dt.to_period("M") == last).any():
        note = (f"queue_intervals has no interval in {last} (its intervals run "
                f"{q['interval_start'].min():%Y-%m-%d} to {q['interval_start'].max():%Y-%m-%d}), so the queue KPIs "
                "of the month are left out." if len(q) else
                "queue_intervals has no rows up to the analysis month, so the queue KPIs are left out.")
        q = None
    queue = queue_measures(q, window) if q is not None else pd.DataFrame()
    measures = pd.concat([queue, agent_measures(agents, window, as_of)], ignore_index=True)
    charted = control_all(measures)
    current = charted[charted["month"] == last]
    card = judge(current, goal)
    rows_of = charted.groupby(["level", "scope", "metric"], sort=False).indices
    card["run"] = [run_of_misses(charted.iloc[rows_of[(r.level, r.scope, r.metric)]], r.target,
                                 METRICS[r.metric].higher_is_better) for r in card.itertuples()]
    team_occ = measures[(measures["level"] == "team") & (measures["metric"] == "occupancy")]
    overload, tests = overload_then_exits(team_occ, agents, window, occupancy_ceiling, overload_months)
    staffed = staffing(q, agents, window, sl_target, sl_threshold_s) if q is not None else pd.DataFrame(
        columns=["site", "month", "intervals", "short", "required_peak", "staffed_median", "required_median",
                 "mean_gap", "short_share", "effective_seats"])
    return KpiResult(as_of=as_of, months=window, measures=measures, charted=charted,
                     scorecard=card.reset_index(drop=True), staffing=staffed, overload=overload,
                     overload_tests=tests, checks=pdca(card, agents, staffed, overload, window), targets=goal,
                     sl_target=sl_target, sl_threshold_s=sl_threshold_s,
                     occupancy_ceiling=occupancy_ceiling, queue_note=note, names=ds.labels)


ANALYSIS = Analysis(
    name="kpi_scorecard", title="Which KPIs missed the plan, and why?",
    question="Which KPIs (answer rate, service level, occupancy, AHT, pass rate, attrition) missed their targets this "
             "month beyond noise, was the centre short of the agents Erlang C requires, and did overloaded teams "
             "then lose agents?",
    findings=KpiFindings, tables=("agents",), optional_tables=("queue_intervals",))
