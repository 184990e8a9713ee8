"""Outbound script duration vs customer acceptance, and old script vs new.

The call table is the largest input (millions of rows a month), so the data work is one
DuckDB aggregation over the file: calls counted per talk-time second, hour, script version
and month. Everything else is computed from those counts, which is exact: binned rates
with Wilson intervals, a binomial GLM with a B-spline in talk time fitted on counts (the
same coefficients as on the raw calls), version means, medians and a log-scale Welch test
from the frequency table. Memory stays bounded by the aggregate, not by the calls.

Caution the notebook repeats: realised talk time is partly an outcome (an interested
customer talks longer), so the duration curve is descriptive and a script length read from
it is what the observed calls show, not a tested length. Script versions are compared
within the same week, campaign and hour (Mantel-Haenszel, statsmodels ``StratifiedTable``),
since versions are rarely assigned at random; the findings say whether they were.

Backs ``notebooks/script_duration_vs_acceptance.ipynb``.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ccinsight import period as period_mod
from ccinsight import pushdown, wording
from ccinsight.analysis import Analysis
from ccinsight.config import MIN_CELL_SIZE, display_path, resolve_path
from ccinsight.errors import DataError, ParameterError
from ccinsight.findings import Estimate, Findings, Tracked, fact, to_jsonable
from ccinsight.findings import markdown_text as md
from ccinsight.labels import Labels
from ccinsight.labels import parse as parse_labels
from ccinsight.plotting import error_extent, new_axes, percent_axis
from ccinsight.privacy import suppress_small
from ccinsight.pushdown import PushedCalls
from ccinsight.readers import duckdb_query, duckdb_relation, table_file
from ccinsight.stats import wilson

#: Knots (seconds) of the talk-time spline; fixed so fits on counts and on raw calls agree.
SPLINE_KNOTS_S = (60, 120, 180, 240, 300, 420)
DAY_PARTS = {"morning (9-12)": range(0, 12), "midday (12-14)": range(12, 14),
             "afternoon (14-18)": range(14, 18), "evening (18-)": range(18, 24)}


@dataclass(frozen=True)
class ScriptFindings(Findings):
    """Outbound script duration vs acceptance, and old script vs new, for one month."""

    tracked = (Tracked("acceptance_at_3min", "acceptance at 3 min", higher_is_better=True),
               Tracked("acceptance_over_5min", "acceptance over 5 min", higher_is_better=True))

    month: str = fact("the analysis month (the last month of the period)", "month")
    period: str = fact("the months analysed, YYYY-MM or YYYY-MM..YYYY-MM", "text")
    n_calls: int = fact("connected outbound calls in the period", "count")
    acceptance_at_3min: Estimate = fact("predicted acceptance of a 3-minute call (binomial GLM on a talk-time "
                                        "spline)", "share")
    acceptance_over_5min: Estimate = fact("acceptance among calls over 5 minutes (Wilson interval)", "share")
    rising: bool = fact("acceptance is higher among long calls than at 3 minutes: duration follows interest "
                        "and cannot set a script length", "flag")
    acceptance_target: float = fact("acceptance the script length must keep", "share")
    longest_script_s: Estimate | None = fact("longest talk time before predicted acceptance drops below the "
                                             "target (null when the curve rises)", "seconds")
    acceptance_curve: list = fact("per talk-time bin [bin_start_s, bin_start_s + bin width), left-closed: "
                                  "bin_start_s, n, accepted, rate, low, high", "records")
    script_versions: list = fact("per script version: calls, talk time, acceptance, conversion with intervals",
                                 "records")
    baseline_version: str | None = fact("script version compared against", "text")
    new_version: str | None = fact("script version evaluated", "text")
    aht_change_pct: Estimate | None = fact("mean talk time of the new version relative to the baseline", "percent")
    aht_change_p: float | None = fact("Welch t-test on log talk time", "p")
    conversion_diff: Estimate | None = fact("conversion of the new version minus the baseline, all calls (crude)",
                                            "points")
    conversion_diff_p: float | None = fact("two-proportion test of the crude conversion difference", "p")
    conversion_odds_ratio_within: Estimate | None = fact("odds ratio of conversion, new version vs baseline, "
                                                         "within the same week, campaign and hour (Mantel-"
                                                         "Haenszel); n is the calls in strata with both versions",
                                                         "number")
    conversion_within_p: float | None = fact("Cochran-Mantel-Haenszel test of that odds ratio", "p")
    versions_randomised: bool = fact("the params say script versions were assigned to calls at random", "flag")
    worst_hour: int | None = fact("hour of day with the lowest acceptance of calls over 4 minutes", "number")
    worst_hour_acceptance_long_calls: float | None = fact("acceptance of calls over 4 minutes in that hour", "share")
    has_time_of_day: bool = fact("whether the calls carry a time of day", "flag")
    previous: dict | None = fact("the month before: month, n_calls, acceptance, conversion, mean_talk_s", "facts")

    def headlines(self) -> list[str]:
        at3 = self.acceptance_at_3min.text("share")
        over5 = self.acceptance_over_5min.text("share")
        n5 = wording.count(self.acceptance_over_5min.n)
        if self.rising:
            lines = [f"Acceptance rises with talk time here: {at3} of customers accept at 3 minutes and {over5} "
                     f"over 5 minutes ({n5} calls); call length follows interest, so it cannot set a script length."]
        else:
            lines = [f"{at3} of customers accept a 3-minute call; over 5 minutes {over5} do ({n5} calls)."]
        target = wording.share(self.acceptance_target)
        longest = self.longest_script_s
        if longest is not None and longest.value is not None:
            if longest.value <= 0:
                lines.append(f"Acceptance is below the {target} target at every talk time: no script length meets it.")
            else:
                lines.append(f"In the observed calls, acceptance stays at or above {target} up to about "
                             f"{longest.text('seconds')} of talk time: what these calls show, not a tested "
                             "script length (talk time follows interest as well as the script).")
        elif longest is not None:
            lines.append(f"Acceptance stays above {target} over the whole modelled range.")
        if self.new_version and self.aht_change_pct is not None:
            new = self._version(self.new_version)
            line = (f"{new[:1].upper()}{new[1:]} vs {self._version(self.baseline_version)}: talk time "
                    f"{self.aht_change_pct.text('percent')}, conversion {self.conversion_diff.text('points')} "
                    f"over all calls")
            w = self.conversion_odds_ratio_within
            if w is not None and w.value is not None:
                line += (f"; within the same week, campaign and hour the odds of conversion are "
                         f"x{wording.number(w.value)} (95% CI {wording.number(w.low)} to {wording.number(w.high)}, "
                         f"{wording.count(w.n)} calls, {wording.p_value(self.conversion_within_p)})")
            else:
                line += "; no week, campaign and hour ran both versions, so they cannot be compared like for like"
            line += (". Versions were assigned at random, so the difference can be read as the script's effect."
                     if self.versions_randomised else
                     ". Versions were not assigned at random (as far as the params say): an association, which "
                     "the like-for-like comparison narrows but does not make causal.")
            lines.append(line)
        return lines

    def attention(self) -> list[tuple[str, str]]:
        at3 = self.acceptance_at_3min
        if at3.high is not None and at3.high < self.acceptance_target:
            return [("missed target", f"Acceptance of a 3-minute call is {at3.text('share')}, below the "
                                      f"{wording.share(self.acceptance_target)} target.")]
        return []

    def _version(self, version: str) -> str:
        return self.names.value("script_version", version)

    def details(self) -> list[str]:
        lines = []
        if self.worst_hour is not None:
            lines.append(f"- Acceptance of long calls (over 4 minutes) is lowest at {self.worst_hour:02d}:00-"
                         f"{self.worst_hour + 1:02d}:00 ({wording.share(self.worst_hour_acceptance_long_calls)}); "
                         "the chart below shows every part of the day with its interval.")
        elif not self.has_time_of_day:
            lines.append("- The calls carry no time of day (every call at midnight), so the time-of-day "
                         "analysis is skipped.")
        if not self.new_version and self.script_versions:
            known = ", ".join(self._version(v["script_version"]) for v in self.script_versions)
            lines.append(f"- Only one script version with enough calls ({md(known)}): no old-vs-new comparison.")
        if self.new_version:
            v = {r["script_version"]: r for r in self.script_versions}
            new, old = v[self.new_version], v[self.baseline_version]
            lines.append(f"- The **{md(self._version(self.new_version))}** runs {wording.duration(new['mean_talk_s'])} "
                         f"(m:ss) on average against {wording.duration(old['mean_talk_s'])} for "
                         f"**{md(self._version(self.baseline_version))}**, and "
                         f"converts {wording.share(new['conversion'])} of calls against "
                         f"{wording.share(old['conversion'])}.")
        if self.previous:
            p = self.previous
            lines.append(f"- Previous month ({p['month']}): {wording.count(p['n_calls'])} calls, acceptance "
                         f"{wording.share(p['acceptance'])}, conversion {wording.share(p['conversion'])}, mean "
                         f"talk time {wording.duration(p['mean_talk_s'])}.")
        lines.append("\n*Caution:* talk time here is the realised length of each call, and an interested "
                     "customer talks longer, so the duration curve describes what happened rather than proving "
                     "that shorter calls cause acceptance. Talk-time bins are left-closed: [0 s, 30 s), "
                     "[30 s, 60 s), ...")
        return lines


# --------------------------------------------------------------------------- data work
@dataclass
class Calls:
    """The outbound_calls input: a file DuckDB reads directly, or a frame mapped from sources."""

    label: str  # where the calls came from, for messages (no secrets)
    path: Path | None = None
    frame: pd.DataFrame | None = None
    provenance: dict = field(default_factory=dict)
    #: a mapped source aggregated where it lies (:mod:`ccinsight.pushdown`): only aggregates come back
    pushed: PushedCalls | None = None

    @property
    def relation(self) -> str:
        return "calls" if self.frame is not None else duckdb_relation(self.path)

    @property
    def where(self) -> str:
        return f"{self.label} (table outbound_calls)"

    def query(self, sql: str) -> pd.DataFrame:
        return duckdb_query(sql, {"calls": self.frame} if self.frame is not None else None)


def calls_input(data: str | Path, sources: dict | None = None, month: str | None = None) -> Calls:
    """The outbound calls of a data folder, or of the ``outbound_calls`` source when given.

    A file in a data folder is aggregated by DuckDB without loading it (the aggregation
    reads only the months analysed); a mapped source is read, mapped, checked against the
    contract and cut at the month's end first (:func:`ccinsight.data.load`).
    """
    if sources:
        from ccinsight import data as data_mod
        from ccinsight import sources as sources_mod

        pushed = pushdown.pushed_calls(sources_mod.parse(sources, "sources"))
        if pushed is not None:
            return Calls(label=pushed.src.label, pushed=pushed, provenance={
                "data_sources": {"outbound_calls": pushed.src.label}, "data_skipped": {},
                "data_notes": ["outbound_calls: mapped and aggregated where it lies (in the database, or by "
                               "DuckDB over the files); only the aggregates were fetched."]})
        ds = data_mod.load(data, ["outbound_calls"], sources=sources, month=month)
        return Calls(label=ds.sources["outbound_calls"], frame=ds["outbound_calls"], provenance=ds.provenance())
    root = resolve_path(data)
    path = table_file(root, "outbound_calls") if root.is_dir() else None
    if path is None:
        raise DataError(f"{display_path(root)} has no outbound_calls table (expected outbound_calls.parquet "
                        "or outbound_calls.csv): the script analysis needs connected outbound calls.")
    shown = display_path(path)
    return Calls(label=shown, path=path, provenance={"data_sources": {"outbound_calls": shown}, "data_skipped": {},
                                                   "data_notes": []})


def month_range(calls: Calls) -> tuple[pd.Period, pd.Period]:
    """First month and latest complete month of the calls."""
    if calls.pushed is not None:
        import sqlalchemy as sa

        bounds = calls.pushed.run(lambda c: sa.select(sa.func.min(c.started_at), sa.func.max(c.started_at)))
    else:
        bounds = calls.query(f"SELECT min(started_at) AS a, max(started_at) AS b FROM {calls.relation}")
    first, last = bounds.iloc[0]
    if pd.isna(first):
        raise DataError(f"{calls.where} has no calls.")
    return pd.Timestamp(first).to_period("M"), period_mod.latest_complete_month(pd.Timestamp(last))


def aggregate_calls(calls: Calls, start: pd.Period, end: pd.Period) -> pd.DataFrame:
    """One pass over the calls of months ``start``..``end``: counts per month, hour,
    script version, whole talk-time second and refusal reason.

    Rows whose talk time is missing or not positive are kept as their own groups so the
    caller can report them without a second pass.
    """
    lo = start.start_time
    hi = (end + 1).start_time
    if calls.pushed is not None:
        agg = _whole(calls.pushed.run(lambda c: _by_second_sql(c, lo, hi)),
                     ("year", "month", "hour", "n", "accepted", "converted"))
        agg["month"] = pd.to_datetime(pd.DataFrame({"year": agg.pop("year"), "month": agg["month"], "day": 1}))
        agg["talk_s"] = pd.to_numeric(agg["talk_s"]).astype("Int64")
    else:
        sql = f"""
            SELECT date_trunc('month', started_at) AS month,
                   hour(started_at) AS hour,
                   script_version,
                   CAST(round(talk_time_s) AS BIGINT) AS talk_s,
                   refusal_reason,
                   count(*) AS n,
                   count(*) FILTER (WHERE accepted) AS accepted,
                   count(*) FILTER (WHERE converted) AS converted
            FROM {calls.relation}
            WHERE started_at >= TIMESTAMP '{lo:%Y-%m-%d}' AND started_at < TIMESTAMP '{hi:%Y-%m-%d}'
            GROUP BY ALL
        """
        agg = _aggregate(calls, sql)
    labels = {m: f"{m:%Y-%m}" for m in agg["month"].unique()}  # format each month once
    agg["month"] = agg["month"].map(labels)
    for col in ("script_version", "refusal_reason"):
        agg[col] = agg[col].astype("string")
    return agg


def _aggregate(calls: Calls, sql: str) -> pd.DataFrame:
    """Run one aggregation over the calls; a DuckDB failure is one sentence naming the source."""
    import duckdb

    try:
        return calls.query(sql)
    except duckdb.Error as err:
        raise DataError(f"{calls.where} could not be aggregated: {str(err).splitlines()[0]}") from None


def aggregate_strata(calls: Calls, start: pd.Period, end: pd.Period) -> pd.DataFrame:
    """Calls and conversions per week, campaign, hour and script version (one small DuckDB
    pass), for comparing versions like for like."""
    lo, hi = start.start_time, (end + 1).start_time
    if calls.pushed is not None:
        out = _whole(calls.pushed.run(lambda c: _by_day_sql(c, lo, hi)), ("year", "month", "day", "hour", "n",
                                                                          "converted"))
        day = pd.to_datetime(pd.DataFrame({p: out.pop(p) for p in ("year", "month", "day")}))
        out["week"] = day - pd.to_timedelta(day.dt.weekday, unit="D")  # weeks from Monday, as date_trunc
        out = out.groupby(["week", "campaign", "hour", "script_version"], as_index=False, dropna=False)[
            ["n", "converted"]].sum()
    else:
        sql = f"""
            SELECT date_trunc('week', started_at) AS week, campaign, hour(started_at) AS hour, script_version,
                   count(*) AS n, count(*) FILTER (WHERE converted) AS converted
            FROM {calls.relation}
            WHERE started_at >= TIMESTAMP '{lo:%Y-%m-%d}' AND started_at < TIMESTAMP '{hi:%Y-%m-%d}'
                  AND talk_time_s > 0 AND script_version IS NOT NULL
            GROUP BY ALL
        """
        out = _aggregate(calls, sql)
    out["script_version"] = out["script_version"].astype("string")
    return out


def _whole(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """Counts and date parts from a database as int64 (PostgreSQL's extract gives decimals)."""
    return frame.assign(**{c: pd.to_numeric(frame[c]).astype("int64") for c in columns})


def _count_if(condition):
    import sqlalchemy as sa

    return sa.func.sum(sa.case((condition, 1), else_=0))


def _by_second_sql(c, lo: pd.Timestamp, hi: pd.Timestamp):
    """:func:`aggregate_calls` for a database (SQLAlchemy Core, any dialect)."""
    import sqlalchemy as sa

    keys = [sa.extract("year", c.started_at).label("year"), sa.extract("month", c.started_at).label("month"),
            sa.extract("hour", c.started_at).label("hour"), c.script_version,
            sa.cast(sa.func.round(sa.cast(c.talk_time_s, sa.Numeric)), sa.BigInteger).label("talk_s"),
            c.refusal_reason]
    return (sa.select(*keys, sa.func.count().label("n"), _count_if(c.accepted == sa.true()).label("accepted"),
                      _count_if(c.converted == sa.true()).label("converted"))
            .where(c.started_at >= lo.to_pydatetime(), c.started_at < hi.to_pydatetime())
            .group_by(*keys))


def _by_day_sql(c, lo: pd.Timestamp, hi: pd.Timestamp):
    """:func:`aggregate_strata` for a database: per day (weeks are made from days here,
    since databases start their weeks differently)."""
    import sqlalchemy as sa

    keys = [sa.extract(part, c.started_at).label(part) for part in ("year", "month", "day", "hour")]
    keys += [c.campaign, c.script_version]
    return (sa.select(*keys, sa.func.count().label("n"), _count_if(c.converted == sa.true()).label("converted"))
            .where(c.started_at >= lo.to_pydatetime(), c.started_at < hi.to_pydatetime(), c.talk_time_s > 0,
                   c.script_version.isnot(None))
            .group_by(*keys))


def compare_within_strata(strata: pd.DataFrame, new: str, baseline: str, alpha: float = 0.05) -> dict:
    """Conversion odds ratio of ``new`` vs ``baseline`` within the same week, campaign and
    hour: Mantel-Haenszel pooled odds ratio with its interval and the Cochran-Mantel-
    Haenszel test (statsmodels ``StratifiedTable``). Strata where only one version ran carry
    no like-for-like information and are left out; ``n`` counts the calls used."""
    from statsmodels.stats.contingency_tables import StratifiedTable

    keys = ["week", "campaign", "hour"]
    two = strata[strata["script_version"].isin([new, baseline])]
    wide = two.pivot_table(index=keys, columns="script_version", values=["n", "converted"], aggfunc="sum",
                           fill_value=0)
    if wide.empty or ("n", new) not in wide or ("n", baseline) not in wide:
        return {"odds_ratio": np.nan, "low": np.nan, "high": np.nan, "p": np.nan, "n": 0, "strata": 0}
    both = wide[(wide[("n", new)] > 0) & (wide[("n", baseline)] > 0)]
    if both.empty:
        return {"odds_ratio": np.nan, "low": np.nan, "high": np.nan, "p": np.nan, "n": 0, "strata": 0}
    a, n1 = both[("converted", new)].to_numpy(float), both[("n", new)].to_numpy(float)
    c, n0 = both[("converted", baseline)].to_numpy(float), both[("n", baseline)].to_numpy(float)
    tables = np.stack([np.stack([a, n1 - a], axis=-1), np.stack([c, n0 - c], axis=-1)], axis=1)  # k x 2 x 2
    st = StratifiedTable(np.moveaxis(tables, 0, -1))
    low, high = st.oddsratio_pooled_confint(alpha)
    return {"odds_ratio": float(st.oddsratio_pooled), "low": float(low), "high": float(high),
            "p": float(st.test_null_odds(correction=False).pvalue), "n": int(n1.sum() + n0.sum()),
            "strata": int(len(both))}


def check_aggregate(agg: pd.DataFrame, calls: Calls, months: str, max_talk_s: float = 7200) -> pd.DataFrame:
    """Refuse empty months and impossible talk times, in one sentence each."""
    where = calls.where
    if agg.empty or agg["n"].sum() == 0:
        raise DataError(f"{where} has no calls in {months}; choose a month the data covers.")
    missing = agg["talk_s"].isna()
    bad = ~missing & ((agg["talk_s"] <= 0) | (agg["talk_s"] > max_talk_s))
    problems = []
    if missing.any():
        problems.append(f"{int(agg.loc[missing, 'n'].sum()):,} calls with no talk_time_s")
    if bad.any():
        eg = ", ".join(str(v) for v in agg.loc[bad, "talk_s"].drop_duplicates().head(5))
        problems.append(f"{int(agg.loc[bad, 'n'].sum()):,} calls with talk_time_s not above 0 s and at most "
                        f"{max_talk_s:g} s (e.g. {eg})")
    if agg["script_version"].isna().any():
        problems.append(f"{int(agg.loc[agg['script_version'].isna(), 'n'].sum()):,} calls with no script_version")
    if problems:
        raise DataError(f"{where}, column talk_time_s / script_version, {months}: " + "; ".join(problems) + ".")
    return agg


# --------------------------------------------------------------------------- statistics
def binned_acceptance(by_second: pd.DataFrame, bin_s: int = 30, cap_s: int = 600, alpha: float = 0.05) -> pd.DataFrame:
    """Acceptance per talk-time bin (the last bin holds everything from ``cap_s`` up)."""
    start = (np.minimum(by_second["talk_s"], cap_s) // bin_s) * bin_s
    b = by_second.groupby(start.rename("bin_start_s"))[["n", "accepted"]].sum().reset_index()
    b["rate"] = b["accepted"] / b["n"]
    b["low"], b["high"] = wilson(b["accepted"], b["n"], alpha)
    return b


def spline_design(talk_s, cap_s: int):
    """B-spline basis of talk time with fixed knots and bounds (patsy)."""
    from patsy import dmatrix

    x = np.clip(np.asarray(talk_s, dtype=float), 0, cap_s)
    knots = [k for k in SPLINE_KNOTS_S if k < cap_s]
    return dmatrix(f"bs(x, knots={knots}, degree=3, lower_bound=0, upper_bound={cap_s})", {"x": x},
                   return_type="dataframe")


def fit_curve(by_second: pd.DataFrame, cap_s: int = 600):
    """Binomial GLM of acceptance on a talk-time spline, fitted on counts per second."""
    # the GLM module directly: statsmodels.api would import time-series and graphics too
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_linear_model import GLM

    d = by_second[by_second["talk_s"] <= cap_s]
    X = spline_design(d["talk_s"], cap_s)
    y = np.column_stack([d["accepted"], d["n"] - d["accepted"]])
    return GLM(y, X, family=Binomial()).fit()


def predict_curve(fit, seconds, cap_s: int, alpha: float = 0.05) -> pd.DataFrame:
    """Predicted acceptance with its confidence band at ``seconds``."""
    X = spline_design(seconds, cap_s)
    frame = fit.get_prediction(X).summary_frame(alpha=alpha)
    return pd.DataFrame({"talk_s": np.asarray(seconds), "rate": frame["mean"].to_numpy(),
                         "low": frame["mean_ci_lower"].to_numpy(), "high": frame["mean_ci_upper"].to_numpy()})


def longest_within_target(curve: pd.DataFrame, target: float) -> dict:
    """Longest talk time before predicted acceptance first drops below ``target``; the
    interval inverts the pointwise band (where its upper and lower edges cross)."""
    def first_below(values: np.ndarray) -> float:
        below = np.flatnonzero(values < target)
        if len(below) == 0:
            return np.nan  # never drops below within the modelled range
        return float(curve["talk_s"].iloc[below[0]] - 1) if below[0] > 0 else 0.0

    return {"seconds": first_below(curve["rate"].to_numpy()), "low": first_below(curve["low"].to_numpy()),
            "high": first_below(curve["high"].to_numpy())}


def weighted_stats(values: np.ndarray, weights: np.ndarray) -> dict:
    """Mean, sd, median and the mean/sd of log values from a frequency table."""
    w = weights.astype(float)
    n = w.sum()
    mean = float(np.sum(w * values) / n)
    var = float(np.sum(w * (values - mean) ** 2) / (n - 1)) if n > 1 else np.nan
    order = np.argsort(values)
    cum = np.cumsum(w[order])
    median = float(values[order][np.searchsorted(cum, n / 2)])
    logs = np.log(values)
    lmean = float(np.sum(w * logs) / n)
    lvar = float(np.sum(w * (logs - lmean) ** 2) / (n - 1)) if n > 1 else np.nan
    return {"n": int(n), "mean": mean, "sd": np.sqrt(var), "median": median, "log_mean": lmean, "log_sd": np.sqrt(lvar)}


def version_table(agg: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per script version: calls, talk time (mean with t interval, median), acceptance and
    conversion with Wilson intervals."""
    rows = []
    t = stats.t.ppf(1 - alpha / 2, df=10 ** 6)
    for version, g in agg.groupby("script_version"):
        s = g.groupby("talk_s")[["n", "accepted", "converted"]].sum().reset_index()
        w = weighted_stats(s["talk_s"].to_numpy(float), s["n"].to_numpy())
        acc, conv, n = s["accepted"].sum(), s["converted"].sum(), s["n"].sum()
        (a_lo,), (a_hi,) = wilson([acc], [n], alpha)
        (c_lo,), (c_hi,) = wilson([conv], [n], alpha)
        half = t * w["sd"] / np.sqrt(n)
        rows.append({"script_version": version, "n": int(n), "first_month": g["month"].min(),
                     "mean_talk_s": w["mean"], "mean_talk_low": w["mean"] - half, "mean_talk_high": w["mean"] + half,
                     "median_talk_s": w["median"], "acceptance": acc / n, "acceptance_low": a_lo,
                     "acceptance_high": a_hi, "conversion": conv / n, "conversion_low": c_lo, "conversion_high": c_hi,
                     "_log_mean": w["log_mean"], "_log_sd": w["log_sd"], "_sd": w["sd"], "_converted": int(conv)})
    return pd.DataFrame(rows)


def compare_versions(versions: pd.DataFrame, new: str, baseline: str, alpha: float = 0.05) -> dict:
    """New script vs baseline: AHT change in percent (delta-method interval on the ratio
    of means), Welch t-test on log talk time (talk times are right-skewed), and the
    conversion difference with a two-proportion test (statsmodels)."""
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    v = versions.set_index("script_version")
    a, b = v.loc[new], v.loc[baseline]
    ratio = a["mean_talk_s"] / b["mean_talk_s"]
    se_log = np.sqrt(a["_sd"] ** 2 / (a["n"] * a["mean_talk_s"] ** 2) + b["_sd"] ** 2 / (b["n"] * b["mean_talk_s"] ** 2))
    z = stats.norm.ppf(1 - alpha / 2)
    welch = stats.ttest_ind_from_stats(a["_log_mean"], a["_log_sd"], a["n"], b["_log_mean"], b["_log_sd"], b["n"],
                                       equal_var=False)
    low, high = confint_proportions_2indep(a["_converted"], a["n"], b["_converted"], b["n"], compare="diff",
                                           alpha=alpha)
    test = test_proportions_2indep(a["_converted"], a["n"], b["_converted"], b["n"], compare="diff")
    return {"new": new, "baseline": baseline,
            "aht_change_pct": 100 * (ratio - 1), "aht_change_low": 100 * (ratio * np.exp(-z * se_log) - 1),
            "aht_change_high": 100 * (ratio * np.exp(z * se_log) - 1), "aht_log_welch_p": float(welch.pvalue),
            "conversion_diff": float(a["conversion"] - b["conversion"]), "conversion_diff_low": float(low),
            "conversion_diff_high": float(high), "conversion_diff_p": float(test.pvalue)}


def hour_table(agg: pd.DataFrame, long_s: int = 240, alpha: float = 0.05) -> pd.DataFrame:
    """Acceptance of long calls (over ``long_s``) by hour of day, with Wilson intervals."""
    long = agg[agg["talk_s"] > long_s].groupby("hour")[["n", "accepted"]].sum().reset_index()
    long["rate"] = long["accepted"] / long["n"]
    long["low"], long["high"] = wilson(long["accepted"], long["n"], alpha)
    return long


def day_part(hour: pd.Series) -> pd.Series:
    """Name of the part of the calling day an hour falls in."""
    out = pd.Series(index=hour.index, dtype=object)
    for name, hours in DAY_PARTS.items():
        out[hour.isin(list(hours))] = name
    return out


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class ScriptResult:
    """Acceptance by duration, by time of day and by script version, for one period."""

    source: str
    months: tuple[str, str]
    n_calls: int
    bins: pd.DataFrame
    curve: pd.DataFrame
    at_3min: dict
    over_5min: dict
    longest: dict
    target: float
    hours: pd.DataFrame
    day_curves: dict
    versions: pd.DataFrame
    comparison: dict | None
    refusals: pd.DataFrame
    previous: dict | None
    min_cell_size: int
    alpha: float
    inputs: dict = field(default_factory=dict)  # where the calls came from and what was skipped
    has_time_of_day: bool = True
    versions_randomised: bool = False
    names: Labels = field(default_factory=Labels)

    def provenance(self) -> dict:
        """Where the calls came from and what the source mapping did: for findings."""
        return dict(self.inputs)

    @property
    def rising(self) -> bool:
        """Acceptance higher among long calls than at 3 minutes: duration follows interest."""
        return bool(self.over_5min["n"]) and self.over_5min["rate"] > self.at_3min["rate"]

    @property
    def period(self) -> str:
        return self.months[0] if self.months[0] == self.months[1] else f"{self.months[0]}..{self.months[1]}"

    def __repr__(self) -> str:
        return f"ScriptResult({self.caption()})"

    def caption(self) -> str:
        """What the table below covers, in words (the reviewer HTML shows it, not the repr)."""
        return f"{self.n_calls:,} connected calls, {self.period}"

    def summary(self) -> pd.DataFrame:
        """Per script version: calls, talk time, acceptance and conversion with intervals."""
        return self.versions[[c for c in self.versions.columns if not c.startswith("_")]]

    def findings(self) -> ScriptFindings:
        """Headline numbers, typed (see :class:`ScriptFindings`)."""
        c = self.comparison or {}
        worst = self.hours.loc[self.hours["rate"].idxmin()] if len(self.hours) else None
        longest = None if self.rising else Estimate.of(self.longest["seconds"], self.longest["low"],
                                                       self.longest["high"], self.n_calls)
        return ScriptFindings(
            month=self.months[1], period=self.period, n_calls=self.n_calls,
            acceptance_at_3min=Estimate.of(self.at_3min["rate"], self.at_3min["low"], self.at_3min["high"],
                                           self.n_calls),
            acceptance_over_5min=Estimate.of(self.over_5min["rate"], self.over_5min["low"], self.over_5min["high"],
                                             self.over_5min["n"]),
            rising=bool(self.rising), acceptance_target=float(self.target), longest_script_s=longest,
            acceptance_curve=to_jsonable(self.bins[["bin_start_s", "n", "accepted", "rate", "low", "high"]]),
            script_versions=to_jsonable(self.summary()),
            baseline_version=c.get("baseline"), new_version=c.get("new"),
            aht_change_pct=Estimate.of(c["aht_change_pct"], c["aht_change_low"], c["aht_change_high"]) if c else None,
            aht_change_p=c.get("aht_log_welch_p"),
            conversion_diff=Estimate.of(c["conversion_diff"], c["conversion_diff_low"], c["conversion_diff_high"])
            if c else None,
            conversion_diff_p=c.get("conversion_diff_p"),
            conversion_odds_ratio_within=Estimate.of(c["within_odds_ratio"], c["within_low"], c["within_high"],
                                                     c["within_n"]) if c else None,
            conversion_within_p=to_jsonable(c.get("within_p")), versions_randomised=self.versions_randomised,
            worst_hour=int(worst["hour"]) if worst is not None else None,
            worst_hour_acceptance_long_calls=float(worst["rate"]) if worst is not None else None,
            has_time_of_day=bool(self.has_time_of_day), previous=to_jsonable(self.previous),
            labels=self.names.to_json())

    def headline(self):
        from IPython.display import Markdown

        return Markdown(self.findings().narrative())

    def plot(self, ax=None, **kwargs):
        """Acceptance by talk time: binned rates with Wilson intervals, the GLM curve and band."""
        ax = new_axes(ax, figsize=(9, 4))
        b = self.bins
        width = float(np.diff(b["bin_start_s"]).min()) if len(b) > 1 else 30.0
        mid = (b["bin_start_s"] + width / 2) / 60
        ax.errorbar(mid, b["rate"], yerr=error_extent(b["rate"], b["low"], b["high"]), fmt="o", ms=4,
                    capsize=2, label="observed (Wilson 95% CI)", **kwargs)
        c = self.curve
        ax.plot(c["talk_s"] / 60, c["rate"], color="tab:red", label="logistic spline fit")
        ax.fill_between(c["talk_s"] / 60, c["low"], c["high"], color="tab:red", alpha=0.15)
        ax.axhline(self.target, color="0.4", ls="--", lw=1, label=f"target {self.target:.0%}")
        if not self.rising and 0 < self.longest["seconds"] < np.inf:  # a rising curve sets no length
            ax.axvline(self.longest["seconds"] / 60, color="tab:green", ls=":", lw=1.2,
                       label=f"longest within target: {wording.duration(self.longest['seconds'])}")
        ax.set_xlabel("talk time (minutes)")
        ax.set_ylabel("customers accepting")
        ax.set_ylim(0, 1)
        percent_axis(ax.yaxis)
        ax.legend(frameon=False, fontsize="small", loc="lower left")
        trend = "rises" if self.rising else "falls"
        ax.set_title(f"Acceptance {trend} as calls get longer ({self.period})")
        return ax

    def plot_day_parts(self, ax=None, **kwargs):
        """Acceptance curves by part of the day."""
        ax = new_axes(ax, figsize=(9, 4))
        if not self.day_curves:
            why = "the calls carry no time of day" if not self.has_time_of_day else "too few calls per part of the day"
            ax.text(0.5, 0.5, f"No curves by time of day: {why}.", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return ax
        for name, curve in self.day_curves.items():
            line, = ax.plot(curve["talk_s"] / 60, curve["rate"], label=name, **kwargs)
            ax.fill_between(curve["talk_s"] / 60, curve["low"], curve["high"], color=line.get_color(), alpha=0.12)
        ax.set_xlabel("talk time (minutes)")
        ax.set_ylabel("customers accepting")
        ax.set_ylim(0, 1)
        percent_axis(ax.yaxis)
        ax.legend(frameon=False, fontsize="small")
        ax.set_title("Tolerance for long calls by time of day")
        return ax

    def plot_versions(self, ax=None, **kwargs):
        """Mean talk time and conversion per script version, with intervals."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(1, 2, figsize=(10, 1.2 + 0.5 * len(self.versions)))
        v = self.versions
        a, b = np.atleast_1d(ax)[:2]
        y = np.arange(len(v))
        v = v.assign(**{c: v[c].to_numpy(float) for c in v.columns if c.startswith(("mean_talk", "conversion"))})
        a.errorbar((v["mean_talk_s"] / 60).to_numpy(), y,
                   xerr=error_extent(v["mean_talk_s"], v["mean_talk_low"], v["mean_talk_high"]) / 60, fmt="o", capsize=3)
        shown = [self.names.value("script_version", x) for x in v["script_version"]]
        a.set_yticks(y, shown)
        a.set_xlabel("mean talk time (minutes)")
        b.errorbar(v["conversion"].to_numpy(), y,
                   xerr=error_extent(v["conversion"], v["conversion_low"], v["conversion_high"]),
                   fmt="o", capsize=3, color="tab:green")
        b.set_yticks(y, [""] * len(y))  # the left panel names the rows: long names would run into it
        b.set_xlabel("conversion (of calls)")
        percent_axis(b.xaxis)
        for axis in (a, b):
            axis.set_ylim(-0.6, len(v) - 0.4)
        a.set_title("Talk time by script")
        b.set_title("Conversion by script")
        return ax

    def refusals_table(self):
        """Refusal reasons per script version, as counts with separators and each version's shares."""
        from ccinsight.tables import shown

        counts = self.refusals
        shares = counts.div(counts.sum(axis=1), axis=0)
        table = pd.DataFrame({self.names.column("script_version"): [self.names.value("script_version", v)
                                                                  for v in counts.index]})
        for reason in counts.columns:
            table[self.names.value("refusal_reason", reason)] = [f"{n:,} ({s:.0%})"
                                                                 for n, s in zip(counts[reason], shares[reason])]
        return shown(table, empty="No refusal reasons are recorded for this period.")

    def _repr_html_(self) -> str:
        from ccinsight.tables import reviewer_html

        return f"<p>{html.escape(self.caption())}</p>" + reviewer_html(
            self.summary().assign(script_version=lambda t: [self.names.value("script_version", v)
                                                            for v in t["script_version"]]),
            intervals={"mean_talk_s": ("mean_talk_low", "mean_talk_high"),
                                       "acceptance": ("acceptance_low", "acceptance_high"),
                                       "conversion": ("conversion_low", "conversion_high")},
            units={"acceptance": "share", "conversion": "share", "mean_talk_s": "seconds", "median_talk_s": "seconds"},
            labels={"script_version": self.names.column("script_version"), "n": "connected calls", "first_month": "first month", "mean_talk_s": "mean talk time, m:ss (95% CI)",
                    "median_talk_s": "median talk time, m:ss", "acceptance": "accepted (95% CI)",
                    "conversion": "converted (95% CI)"})


def analyse(data: str | Path = "data/synthetic", month: str | None = None, month_end: str | None = None,
            bin_s: int = 30, cap_s: int = 600, acceptance_target: float = 0.70, baseline_version: str = "verbatim",
            new_version: str | None = None, min_cell_size: int = MIN_CELL_SIZE, alpha: float = 0.05,
            sources: dict | None = None, versions_randomised: bool = False,
            labels: dict | None = None) -> ScriptResult:
    """Script duration vs acceptance for one month (or ``month``..``month_end``).

    Parameters
    ----------
    data
        Data folder holding the outbound_calls table.
    sources
        A params file's sources section; when it is given, the calls come from its
        ``outbound_calls`` entry instead of ``data``.
    month, month_end
        Period analysed; default the latest complete month of the calls.
    bin_s, cap_s
        Bin width and the talk time (s) from which calls share one bin and the model stops.
    acceptance_target
        Target acceptance for the longest acceptable script length.
    baseline_version, new_version
        Versions to compare; new_version None means the most recently introduced one.
    min_cell_size
        Bins, hours and versions with fewer calls are left out of tables and figures.
    versions_randomised
        True only when script versions were assigned to calls at random (an experiment);
        the wording of the comparison depends on it.
    labels
        A params file's labels section (:mod:`ccinsight.labels`): the names of script
        versions and refusal reasons in tables, figures and sentences.
    """
    names = parse_labels(labels, "labels")
    if not 0 < acceptance_target < 1:
        raise ParameterError(f"acceptance_target must be between 0 and 1; got {acceptance_target}.")
    if bin_s <= 0 or cap_s <= bin_s:
        raise ParameterError(f"bin_s must be positive and cap_s larger than it; got {bin_s} and {cap_s}.")
    calls = calls_input(data, sources, month_end or month)
    first, last_complete = month_range(calls)
    start = period_mod.parse_month(month, "month") if month else last_complete
    end = period_mod.parse_month(month_end, "month_end") if month_end else start
    if end < start:
        raise ParameterError(f"month_end {end} is before month {start}.")
    if calls.frame is None and end > last_complete:  # mapped calls were checked (and cut) when loaded
        raise DataError(f"{calls.where}: the calls end in {last_complete + 1}, so {end} is not complete in them; "
                        f"the latest complete month is {last_complete}.")
    previous = start - 1 if start - 1 >= first else None
    agg = aggregate_calls(calls, previous or start, end)
    months_text = str(start) if start == end else f"{start}..{end}"
    current = check_aggregate(agg[agg["month"] >= str(start)] if len(agg) else agg, calls, months_text)
    by_second = current.groupby("talk_s")[["n", "accepted", "converted"]].sum().reset_index()
    bins = binned_acceptance(by_second, bin_s, cap_s, alpha)
    bins, _ = suppress_small(bins, "n", min_cell_size)
    fit = fit_curve(by_second, cap_s)
    grid = np.arange(1, cap_s + 1)
    curve = predict_curve(fit, grid, cap_s, alpha)
    # show curves only where calls are: between the 0.5th and 99.5th percentile of talk time
    cum = by_second["n"].cumsum() / by_second["n"].sum()
    shown = (grid >= by_second["talk_s"][cum >= 0.005].iloc[0]) & (grid <= by_second["talk_s"][cum >= 0.995].iloc[0])
    at3 = curve.loc[curve["talk_s"] == 180].iloc[0].to_dict()
    long = by_second[by_second["talk_s"] > 300]
    n_long, acc_long = int(long["n"].sum()), int(long["accepted"].sum())
    (lo5,), (hi5,) = wilson([acc_long], [max(n_long, 1)], alpha)
    over5 = {"rate": acc_long / n_long if n_long else np.nan, "low": lo5 if n_long else np.nan,
             "high": hi5 if n_long else np.nan, "n": n_long}
    has_time = current["hour"].nunique() > 1
    hours = hour_table(current, alpha=alpha)
    hours = suppress_small(hours, "n", min_cell_size)[0] if has_time else hours.iloc[0:0]
    parts = current.assign(part=day_part(current["hour"]))
    day_curves = {}
    for name in DAY_PARTS:
        sub = parts[parts["part"] == name].groupby("talk_s")[["n", "accepted"]].sum().reset_index()
        if has_time and sub["n"].sum() >= 50 * min_cell_size:
            day_curves[name] = predict_curve(fit_curve(sub, cap_s), grid[shown], cap_s, alpha)
    versions = version_table(current, alpha)
    versions = suppress_small(versions, "n", min_cell_size)[0].sort_values("first_month", kind="stable")
    known = versions["script_version"].tolist()
    if baseline_version not in known:
        raise ParameterError(f"baseline_version '{baseline_version}' has no calls in {months_text}; "
                             f"script versions found: {', '.join(known)}.")
    if new_version is None:
        others = [v for v in known if v != baseline_version]
        new_version = others[-1] if others else None
    elif new_version not in known:
        raise ParameterError(f"new_version '{new_version}' has no calls in {months_text}; "
                             f"script versions found: {', '.join(known)}.")
    comparison = compare_versions(versions, new_version, baseline_version, alpha) if new_version else None
    if comparison:
        within = compare_within_strata(aggregate_strata(calls, start, end), new_version, baseline_version, alpha)
        comparison.update({f"within_{k}": v for k, v in within.items()})
    refusals = (current[current["refusal_reason"].notna()].groupby(["script_version", "refusal_reason"])["n"].sum()
                .unstack(fill_value=0))
    prev = None
    if previous is not None:
        p = agg[agg["month"] == str(previous)]
        p = p[p["talk_s"].notna() & (p["talk_s"] > 0)]
        if p["n"].sum() > 0:
            w = weighted_stats(p.groupby("talk_s")["n"].sum().reset_index()["talk_s"].to_numpy(float),
                               p.groupby("talk_s")["n"].sum().to_numpy())
            prev = {"month": str(previous), "n_calls": int(p["n"].sum()),
                    "acceptance": float(p["accepted"].sum() / p["n"].sum()),
                    "conversion": float(p["converted"].sum() / p["n"].sum()), "mean_talk_s": w["mean"]}
    return ScriptResult(source=calls.label, months=(str(start), str(end)), n_calls=int(current["n"].sum()),
                        bins=bins, curve=curve[shown].reset_index(drop=True), at_3min=at3, over_5min=over5,
                        longest=longest_within_target(curve[shown].reset_index(drop=True), acceptance_target),
                        target=acceptance_target,
                        hours=hours, day_curves=day_curves, versions=versions, comparison=comparison,
                        refusals=refusals, previous=prev, min_cell_size=min_cell_size, alpha=alpha,
                        inputs=calls.provenance, has_time_of_day=has_time, versions_randomised=bool(versions_randomised),
                        names=names)


ANALYSIS = Analysis(
    name="script_duration_vs_acceptance", title="How long can an outbound call be?",
    question="How long can an outbound call be before customers refuse, by time of day, and did the new "
             "script pay off?",
    findings=ScriptFindings, tables=("outbound_calls",))
