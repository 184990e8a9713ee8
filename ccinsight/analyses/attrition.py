"""Agent attrition: survival curves over tenure, group comparisons, covariates, seats planning.

Estimators come from lifelines (Kaplan-Meier with at-risk counts, log-rank tests, Nelson-
Aalen hazard, Cox proportional hazards with its assumption test); multiple-testing
correction from statsmodels; the shared survival helpers live in :mod:`ccinsight.survival`.
Tenure is counted in days from ``hire_date``; hires still employed at the end of the
analysis month are censored there.

Backs ``notebooks/attrition_survival.ipynb``.
"""
from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ccinsight import period as period_mod
from ccinsight import wording
from ccinsight.analysis import Analysis
from ccinsight.bursts import burst_members, find_bursts
from ccinsight.config import MIN_CELL_SIZE
from ccinsight.data import Dataset
from ccinsight.errors import ParameterError
from ccinsight.findings import Estimate, Findings, Tracked, fact, to_jsonable
from ccinsight.findings import markdown_text as md
from ccinsight.labels import Labels
from ccinsight.plotting import error_extent, new_axes, percent_axis, plain_log_ticks
from ccinsight.privacy import pool_small
from ccinsight.survival import (attrition_at, fit_km, greenwood_var, retention_at, survival_at,
                                survival_difference, survival_table)

TENURE_TICKS = (0, 30, 60, 90, 180, 365)
HORIZONS = (30, 60, 90)  # the default horizons, days of tenure


def tenure_ticks(horizons) -> tuple[int, ...]:
    """Tenure days the survival curve is reported at: the horizons, 90 days (probation), and
    half a year and a year, or twice the longest horizon when that is further."""
    longest = max(max(horizons), 365)
    return tuple(sorted({0, 90, 180, *horizons, longest if longest == 365 else 2 * max(horizons)}))
GROUPABLE = ("onboarding_program", "hiring_channel", "site", "hire_quarter", "cohort_id", "school", "team",
             "exit_type")


@dataclass(frozen=True)
class AttritionFindings(Findings):
    """Survival of new hires over tenure, overall and by group, as of the month's end."""

    tracked = (Tracked("attrition_90d", "90-day attrition", higher_is_better=False),
               Tracked("hires_for_seats", "hires for the seats plan", higher_is_better=False))

    as_of: str = fact("the analysis date: the last day of the analysis month (tenure-only data: the date the "
                      "export was taken)", "date")
    calendar: bool = fact("false for tenure-only data: hire dates are unknown, so no window, drive or date "
                          "is used", "flag")
    window_start: str | None = fact("first hire date of the window (null: no window)", "date")
    first_hire: str | None = fact("first hire date in the population (null: no calendar)", "date")
    last_hire: str | None = fact("last hire date in the population (null: no calendar)", "date")
    n_hires: int = fact("hires in the population (bulk drives excluded)", "count")
    n_exits: int = fact("of them, exits up to as_of", "count")
    attrition_90d: Estimate = fact("share gone within 90 days, the probation standard (Kaplan-Meier)", "share")
    horizons: list = fact("share gone within each horizon of the parameter (days of tenure): day, attrition, "
                          "low, high, at_risk (hires followed that long)", "records")
    survival_1y: Estimate | None = fact("share still here after 365 days; n is the hires followed that long",
                                        "share")
    median_tenure_days: float | None = fact("median tenure (null while over half are still here)", "days")
    survival_curve: list = fact("share still here at 0, the horizons, 90, 180 and 365 days (or twice the longest "
                                "horizon): day, survival, low, high, at_risk", "records")
    group_by: str = fact("the column groups are compared by", "text")
    groups: list = fact("per group: group, n, exits, median_tenure_days, attrition_90d, low, high, and "
                        "horizons (day, attrition, low, high)", "records")
    pooled_groups: list = fact("groups under min_cell_size hires pooled as 'other'", "list")
    logrank_p: float | None = fact("log-rank test of equal survival curves across groups (whole follow-up)", "p")
    difference_90d: list = fact("90-day survival of each group minus the largest (MOVER interval): group, "
                                "reference, difference, low, high", "records")
    cox: list = fact("Cox model: covariate, hazard_ratio, low, high, p, p_adj (Holm across the terms), "
                     "ph_p_adj (proportional-hazards check, Holm across the terms)", "records")
    ph_violations: list = fact("covariates breaking the proportional-hazards assumption (Holm-adjusted "
                               "p < alpha): their hazard ratio is an average over tenure", "list")
    clustered_exit_share: float | None = fact("share of close exit pairs from the same school", "share")
    clustered_exit_share_chance: float | None = fact("the same share with schools permuted", "share")
    clustered_exit_p: float | None = fact("permutation p-value of the clustering", "p")
    cluster_days: int = fact("exits this many days apart count as close", "days")
    seats_needed: int | None = fact("effective seats wanted at day 90", "count")
    hires_for_seats: Estimate | None = fact("hires needed now for the seats at day 90 (delta-method interval)",
                                            "count")
    hires_for_seats_90pct_sure: int | None = fact("hires for at least the seats with probability 0.9", "count")
    seats_survival_90d: float | None = fact("90-day survival used by the seats plan", "share")
    seats_pass_rate: float | None = fact("certification pass rate used by the seats plan (null: unknown, "
                                         "taken as 1)", "share")
    excluded_bursts: list = fact("bulk hiring drives analysed apart: channel, start, end, hires, "
                                 "attrition_90d", "records")
    excluded_hires: int = fact("hires in those drives", "count")
    alpha: float = fact("significance level", "number")
    notes: list = fact("what was left out and why", "list")

    def headlines(self) -> list[str]:
        who = (f"hired {self.first_hire} to {self.last_hire}, followed to {self.as_of}" if self.calendar else
               f"tenure as of {self.as_of}; the data have no hire dates")
        at = "; ".join(f"within {h['day']} days {wording.estimate(h['attrition'], h['low'], h['high'], 'share')}"
                       for h in self.horizons if h["day"] != 90)
        lines = [f"90-day attrition: {self.attrition_90d.text('share')} of {wording.count(self.n_hires)} hires "
                 f"({who})" + (f"; {at}." if at else ".")]
        if len(self.groups) >= 2:
            parts = "; ".join(f"{self._value(g['group'])}: {wording.estimate(g['attrition_90d'], g['low'], g['high'], 'share')}, "
                              f"n = {wording.count(g['n'])}" for g in self.groups)
            verdict = ("the survival curves differ" if self.logrank_p is not None and self.logrank_p < self.alpha
                       else "the data cannot tell the survival curves apart")
            lines.append(f"90-day attrition by {self.names.column(self.group_by)}: {parts}; {verdict} "
                         f"(log-rank over the whole follow-up, {wording.p_value(self.logrank_p)}).")
        if self.excluded_hires:
            drives = "; ".join(f"{self.names.value('hiring_channel', b['channel'])} {b['start']} to {b['end']} ({wording.count(b['hires'])} hires, "
                               f"{wording.share(b['attrition_90d'])} gone by day 90)" for b in self.excluded_bursts)
            lines.append(f"{wording.count(self.excluded_hires)} hires from bulk hiring drives are analysed apart "
                         f"and not in the figures above: {drives}.")
        if self.hires_for_seats is not None:
            lines.append(f"To have {wording.count(self.seats_needed)} effective seats at day 90, hire about "
                         f"{self.hires_for_seats.text('count')} now; "
                         f"{wording.count(self.hires_for_seats_90pct_sure)} to be 90% sure of them.")
        return lines

    def attention(self) -> list[tuple[str, str]]:
        if self.hires_for_seats is None:
            return []
        return [("action", f"To fill {wording.count(self.seats_needed)} new seats with agents certified and still "
                           f"here at day 90, hire about {self.hires_for_seats.text('count')} "
                           f"({wording.count(self.hires_for_seats_90pct_sure)} to be 90% sure of them).")]

    def _value(self, group: str) -> str:
        return self.names.value(self.group_by, group)

    def details(self) -> list[str]:
        lines = []
        if self.survival_1y is not None:
            lines.append(f"- After one year, {self.survival_1y.text('share')} of hires are still "
                         f"here ({wording.count(self.survival_1y.n)} hires followed that long).")
        if self.pooled_groups:
            lines.append(f"- Groups of {md(self.names.column(self.group_by))} with fewer hires than the minimum cell size are pooled as "
                         f"'other': {md(', '.join(map(self._value, self.pooled_groups)))}.")
        for d in self.difference_90d:
            lines.append(f"- 90-day survival of {md(self._value(d['group']))} minus {md(self._value(d['reference']))}: "
                         f"{wording.estimate(d['difference'], d['low'], d['high'], 'points')}.")
        sig = [c for c in self.cox if c.get("p_adj") is not None and c["p_adj"] < self.alpha]
        if sig:
            def term(c):
                hr = f"{md(c['covariate'])} x{c['hazard_ratio']:.2f} (95% CI {c['low']:.2f} to {c['high']:.2f})"
                return hr + (", on average over tenure (its effect changes with tenure)"
                             if c["covariate"] in self.ph_violations else "")
            lines.append(f"- Holding the other factors in the model equal (Cox model), leaving goes with a risk "
                         f"multiplied by: {'; '.join(term(c) for c in sig)}. Only terms with Holm-adjusted "
                         f"p < {self.alpha:g} across the {len(self.cox)} terms are listed; these are associations, "
                         "not proof of cause.")
        elif self.cox:
            lines.append(f"- No term of the Cox model stands out after Holm adjustment across its {len(self.cox)} "
                         "terms (which is not evidence that none matters).")
        if self.ph_violations:
            lines.append(f"- The Cox model's proportional-hazards assumption does not hold for "
                         f"{md(', '.join(self.ph_violations))}: read those hazard ratios as averages over tenure.")
        if self.clustered_exit_share is not None:
            clusters = self.clustered_exit_p is not None and self.clustered_exit_p < self.alpha
            lines.append(f"- When two school hires leave within {self.cluster_days} days of each other, they come "
                         f"from the same school {wording.share(self.clustered_exit_share)} of the time, against "
                         f"{wording.share(self.clustered_exit_share_chance)} by chance "
                         f"({wording.p_value(self.clustered_exit_p)}): "
                         + ("departures of classmates cluster in time (an association: it may reflect shared "
                            "conditions as much as one leaver pulling others out)." if clusters
                            else "the data show no clear clustering."))
        if self.hires_for_seats is not None:
            lines.append(f"- The seats plan counts {wording.share(self.seats_survival_90d)} still here at day 90 and "
                         + (f"{wording.share(self.seats_pass_rate)} passing certification." if self.seats_pass_rate
                            is not None else "everyone passing certification (too few certification results to "
                            "estimate a pass rate)."))
        lines.extend(f"\n*{md(n)}*" for n in self.notes)
        return lines


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class AttritionResult:
    """Survival of new hires over tenure, overall and by group."""

    table: pd.DataFrame
    as_of: pd.Timestamp
    window_start: pd.Timestamp | None
    group_by: str
    overall: object  # lifelines KaplanMeierFitter
    groups: dict  # group label -> KaplanMeierFitter
    group_table: pd.DataFrame
    logrank_p: float
    pairwise: pd.DataFrame
    difference_90d: pd.DataFrame
    cox: pd.DataFrame | None
    cox_notes: tuple[str, ...]
    ph_test: pd.DataFrame | None
    clustering: dict
    seats: dict
    excluded: dict
    alpha: float
    notes: tuple[str, ...] = field(default=())
    pooled: tuple[str, ...] = field(default=())
    horizon_days: tuple[int, ...] = HORIZONS
    calendar: bool = True
    names: Labels = field(default_factory=Labels)

    def __repr__(self) -> str:
        return f"AttritionResult({self.caption()})"

    def caption(self) -> str:
        """What the table below covers, in words (the reviewer HTML shows it, not the repr)."""
        t = self.table
        hired = f"hired {t['hire_date'].min():%Y-%m} to {t['hire_date'].max():%Y-%m}" if self.calendar else \
            "tenure-only data"
        return (f"{len(t):,} hires ({hired}), {int(t['event'].sum()):,} exits, as of {self.as_of.date()}; "
                f"by {self.names.column(self.group_by)}")

    # ---------------------------------------------------------------- tables
    def horizons(self) -> pd.DataFrame:
        """Attrition within each horizon with intervals, overall and per group."""
        rows = []
        for label, kmf in [("all hires", self.overall), *self.groups.items()]:
            followed = np.asarray(kmf.durations)
            for t in self.horizon_days:
                rows.append({"group": label, "day": t, **attrition_at(kmf, t), "at_risk": int((followed >= t).sum())})
        return pd.DataFrame(rows)

    def horizons_table(self):
        """The same as a reviewer reads it: a row per group, a column per horizon,
        attrition with its 95% interval in each cell."""
        from ccinsight.tables import interval_text, shown

        h = self.horizons()
        h["text"] = [interval_text(r.attrition, r.low, r.high, "share") for r in h.itertuples()]
        wide = h.pivot(index="group", columns="day", values="text").reindex(h["group"].drop_duplicates())
        wide.columns = [f"within {d} days (95% CI)" for d in wide.columns]
        wide.index = [g if g == "all hires" else self.names.value(self.group_by, g) for g in wide.index]
        return shown(wide.rename_axis(self.names.column(self.group_by) if self.groups else "group").reset_index())

    def summary(self) -> pd.DataFrame:
        """Per group: hires, exits, 90-day attrition with interval, median tenure."""
        return self.group_table

    def survival_curve(self) -> pd.DataFrame:
        """Share of all hires still employed at the tenure ticks, with intervals and the
        number still under observation (hires followed at least that long)."""
        durations = np.asarray(self.overall.durations)
        rows = []
        for t in tenure_ticks(self.horizon_days):
            r = retention_at(self.overall, t)
            rows.append({"day": t, "survival": r["retention"], "low": r["low"], "high": r["high"],
                         "at_risk": int((durations >= t).sum())})
        return pd.DataFrame(rows)

    def findings(self) -> AttritionFindings:
        """Headline numbers, typed (see :class:`AttritionFindings`)."""
        n = int(len(self.table))
        a90 = attrition_at(self.overall, 90)
        curve = self.survival_curve()
        year = curve.set_index("day").loc[365] if 365 in set(curve["day"]) else None
        median = self.overall.median_survival_time_
        s = self.seats
        h = self.horizons()
        groups = []
        for g in self.group_table.to_dict("records"):
            sub = h[h["group"] == g["group"]]
            groups.append({k: g[k] for k in ("group", "n", "exits", "median_tenure_days", "attrition_90d", "low",
                                             "high")}
                          | {"horizons": sub[["day", "attrition", "low", "high"]].to_dict("records")})
        dated = self.calendar
        return AttritionFindings(
            as_of=self.as_of.date().isoformat(), calendar=dated,
            window_start=self.window_start.date().isoformat() if dated and self.window_start is not None else None,
            first_hire=self.table["hire_date"].min().date().isoformat() if dated else None,
            last_hire=self.table["hire_date"].max().date().isoformat() if dated else None,
            n_hires=n, n_exits=int(self.table["event"].sum()),
            attrition_90d=Estimate.of(a90["attrition"], a90["low"], a90["high"], n),
            horizons=to_jsonable(h[h["group"] == "all hires"].drop(columns="group")),
            survival_1y=Estimate.of(year["survival"], year["low"], year["high"], year["at_risk"])
            if year is not None and year["at_risk"] > 0 else None,
            median_tenure_days=float(median) if np.isfinite(median) else None,
            survival_curve=to_jsonable(curve), group_by=self.group_by, groups=to_jsonable(groups),
            pooled_groups=list(self.pooled), logrank_p=to_jsonable(self.logrank_p),
            difference_90d=to_jsonable(self.difference_90d),
            cox=to_jsonable(self.cox[["covariate", "hazard_ratio", "low", "high", "p", "p_adj", "ph_p_adj"]])
            if self.cox is not None else [],
            ph_violations=(self.ph_test.loc[self.ph_test["violated"], "covariate"].tolist()
                           if self.ph_test is not None else []),
            clustered_exit_share=self.clustering.get("share"), clustered_exit_share_chance=self.clustering.get("chance"),
            clustered_exit_p=self.clustering.get("p"), cluster_days=int(self.clustering.get("days", 0)),
            seats_needed=s.get("seats"),
            hires_for_seats=Estimate.of(s["hires"], s["low"], s["high"], n) if s.get("hires") else None,
            hires_for_seats_90pct_sure=s.get("hires_90pct_sure"), seats_survival_90d=s.get("survival_90d"),
            seats_pass_rate=s.get("pass_rate") if s.get("certification_known") else None,
            excluded_bursts=to_jsonable(self.excluded.get("drives", [])),
            excluded_hires=int(self.excluded.get("hires", 0)), alpha=self.alpha, notes=list(self.notes),
            labels=self.names.to_json())

    def headline(self):
        """Plain-language findings for the top of the rendered notebook (Markdown)."""
        from IPython.display import Markdown

        return Markdown(self.findings().narrative())

    def model_notes(self):
        """The Cox model's notes and its proportional-hazards check, as Markdown."""
        from IPython.display import Markdown

        lines = [f"- {md(n)}" for n in self.cox_notes]
        if self.ph_test is not None:
            bad = self.ph_test[self.ph_test["violated"]]
            lines.append("- Proportional-hazards check (Schoenfeld residuals vs rank of time, lifelines; Holm "
                         "across the terms): "
                         + (f"no covariate clearly breaks the assumption at the {self.alpha:.0%} level." if bad.empty else
                            f"the assumption fails for {md(', '.join(bad['covariate']))} "
                            "(their effect changes with tenure; the hazard ratio is an average)."))
        return Markdown("\n".join(lines) or "- No notes.")

    # ---------------------------------------------------------------- figures
    def plot(self, ax=None, **kwargs):
        """Kaplan-Meier curves by group with confidence bands and an at-risk table."""
        from lifelines.plotting import add_at_risk_counts

        ax = new_axes(ax, figsize=(9, 5))
        fitters = list(self.groups.values()) or [self.overall]
        for kmf in fitters:
            kmf.plot_survival_function(ax=ax, ci_show=True, **kwargs)
        ticks = tenure_ticks(self.horizon_days)
        ax.set_xlim(0, ticks[-1])
        ax.set_xticks(ticks)
        ax.set_xlabel("tenure (days since hire)")
        ax.set_ylabel("still employed")
        percent_axis(ax.yaxis)
        ax.set_title(f"Who is still here after d days, by {self.names.column(self.group_by)}")
        ax.legend(frameon=False, loc="lower left", fontsize="small")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            add_at_risk_counts(*fitters, ax=ax, rows_to_show=["At risk"], xticks=list(ticks))
        return ax

    def plot_hazard(self, ax=None, bandwidth_days: float = 7.0, **kwargs):
        """Smoothed hazard over tenure: exits per 1,000 agents per day (Nelson-Aalen)."""
        from lifelines import NelsonAalenFitter

        ax = new_axes(ax, figsize=(9, 3.5))
        naf = NelsonAalenFitter().fit(self.table["duration_days"], self.table["event"])
        hazard = naf.smoothed_hazard_(bandwidth_days)
        ticks = tenure_ticks(self.horizon_days)
        hazard = hazard[hazard.index <= ticks[-1]]
        ax.plot(hazard.index, 1000 * hazard.iloc[:, 0], **kwargs)
        ax.axvspan(0, 90, color="tab:orange", alpha=0.1, label="probation (first 90 days)")
        ax.set_xlim(0, ticks[-1])
        ax.set_xticks(ticks)
        ax.set_xlabel("tenure (days since hire)")
        ax.set_ylabel("exits per 1,000 agents per day")
        ax.set_title("When do people leave? Smoothed exit rate over tenure")
        ax.legend(frameon=False)
        return ax

    def plot_cox(self, ax=None, **kwargs):
        """Hazard ratios with intervals (log scale); above 1 means leaving sooner."""
        ax = new_axes(ax, figsize=(8, 0.35 * len(self.cox) + 1.5 if self.cox is not None else 3))
        if self.cox is None or self.cox.empty:
            ax.text(0.5, 0.5, "Cox model not fitted", ha="center", transform=ax.transAxes)
            ax.set_axis_off()
            return ax
        c = self.cox.reset_index(drop=True)
        y = np.arange(len(c))[::-1]
        ax.errorbar(c["hazard_ratio"], y, xerr=error_extent(c["hazard_ratio"], c["low"], c["high"]),
                    fmt="o", capsize=3, **kwargs)
        ax.axvline(1, color="0.3", lw=0.8)
        ax.set_xscale("log")
        ax.set_yticks(y, c["covariate"])
        ax.set_xlabel("hazard ratio (95% CI), log scale: > 1 leaves sooner")
        plain_log_ticks(ax.xaxis)
        ax.set_title("What goes with leaving sooner (Cox model)")
        return ax

    def _repr_html_(self) -> str:
        from ccinsight.tables import reviewer_html

        return f"<p>{html.escape(self.caption())}</p>" + reviewer_html(
            self.group_table.assign(group=[self.names.value(self.group_by, g) for g in self.group_table["group"]]),
            intervals={"attrition_90d": ("low", "high")},
            units={"attrition_90d": "share", "median_tenure_days": "days"},
            labels={"group": self.names.column(self.group_by), "n": "hires", "attrition_90d": "90-day attrition (95% CI)",
                    "median_tenure_days": "median tenure (days; empty: over half still here)"}, decimals=0)


# --------------------------------------------------------------------------- pieces
def compare_groups(table: pd.DataFrame, group_by: str, alpha: float, correction: str = "holm", name=str):
    """Log-rank across groups, pairwise log-rank with correction, 90-day differences;
    groups are keyed by their value of ``group_by``, each curve labelled ``name(value)``."""
    from lifelines.statistics import multivariate_logrank_test, pairwise_logrank_test
    from statsmodels.stats.multitest import multipletests

    labels = table[group_by].astype(str)
    groups = {}
    for g in sorted(labels.unique()):
        sub = table[labels == g]
        groups[g] = fit_km(sub["duration_days"], sub["event"], label=name(g), alpha=alpha)
    if len(groups) < 2:
        return groups, np.nan, pd.DataFrame(), pd.DataFrame()
    p = float(multivariate_logrank_test(table["duration_days"], labels, table["event"]).p_value)
    pairwise = pd.DataFrame()
    if len(groups) > 2:
        res = pairwise_logrank_test(table["duration_days"], labels, table["event"]).summary.reset_index()
        res.columns = ["group_a", "group_b", *res.columns[2:]]
        res["p_adj"] = multipletests(res["p"], method=correction)[1]
        pairwise = res[["group_a", "group_b", "test_statistic", "p", "p_adj"]]
    reference = labels.value_counts().index[0]
    rows = [{"group": g, "reference": reference, **survival_difference(kmf, groups[reference], 90)}
            for g, kmf in groups.items() if g != reference]
    return groups, p, pairwise, pd.DataFrame(rows)


def _design(table: pd.DataFrame, covariates: list[str], names: Labels = Labels()) -> tuple[pd.DataFrame, list[str]]:
    """Cox design matrix: dummies (largest level as reference), constant and collinear
    columns dropped with a note each; terms named in ``names``' words."""
    notes = []
    parts = []
    for cov in covariates:
        col = table[cov]
        if col.isna().any():
            notes.append(f"{names.column(cov)} left out: missing for {int(col.isna().sum()):,} of {len(col):,} hires.")
            continue
        if col.nunique() < 2:
            notes.append(f"{names.column(cov)} left out: the same value for every hire.")
            continue
        if pd.api.types.is_bool_dtype(col) or str(col.dtype) == "boolean":
            parts.append(col.astype(float).rename(names.contrast(cov)))
        elif pd.api.types.is_numeric_dtype(col):
            parts.append(((col - col.mean()) / col.std()).rename(f"{names.column(cov)} (per SD)"))
        else:
            reference = col.value_counts().index[0]
            levels = col.astype(str)
            dummies = pd.get_dummies(levels, dtype=float).drop(columns=str(reference))
            parts.append(dummies.rename(columns=lambda v: names.term(cov, v)))
            notes.append(f"{names.column(cov)}: compared with {names.value(cov, reference)} (the largest group).")
    if not parts:
        return pd.DataFrame(index=table.index), notes
    X = pd.concat(parts, axis=1)
    keep: list[str] = []
    for c in X.columns:  # greedy: keep a column only when it adds rank
        if X[c].nunique() < 2:
            notes.append(f"{c} left out: constant in this population.")
            continue
        if np.linalg.matrix_rank(X[keep + [c]].to_numpy()) > len(keep):
            keep.append(c)
        else:
            notes.append(f"{c} left out: collinear with the other covariates.")
    return X[keep], notes


def fit_cox(table: pd.DataFrame, covariates: list[str], alpha: float, names: Labels = Labels()):
    """Cox PH model (lifelines) with a light ridge penalty, and its PH test."""
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test
    from statsmodels.stats.multitest import multipletests

    if table["event"].sum() == 0:
        return None, ("Cox model skipped: nobody has left in this population.",), None
    X, notes = _design(table, covariates, names)
    if X.empty:
        return None, tuple(notes) + ("Cox model skipped: no usable covariate.",), None
    df = pd.concat([X, table[["duration_days", "event"]]], axis=1)
    df = df[df["duration_days"] > 0]
    cph = CoxPHFitter(penalizer=0.01, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph.fit(df, duration_col="duration_days", event_col="event")
        ph = proportional_hazard_test(cph, df, time_transform="rank").summary
    s = cph.summary
    lo, hi = [c for c in s.columns if c.startswith("exp(coef) lower")][0], \
        [c for c in s.columns if c.startswith("exp(coef) upper")][0]
    # the narrative lists terms filtered by p, so both lists are Holm-adjusted across the terms
    cox = pd.DataFrame({"covariate": s.index, "hazard_ratio": s["exp(coef)"].to_numpy(),
                        "low": s[lo].to_numpy(), "high": s[hi].to_numpy(), "p": s["p"].to_numpy()})
    cox["p_adj"] = multipletests(cox["p"], method="holm")[1]
    ph_table = pd.DataFrame({"covariate": ph.index, "test_statistic": ph["test_statistic"].to_numpy(),
                             "p": ph["p"].to_numpy()})
    ph_table["p_adj"] = multipletests(ph_table["p"], method="holm")[1]
    ph_table["violated"] = ph_table["p_adj"] < alpha
    cox["ph_p_adj"] = cox["covariate"].map(ph_table.set_index("covariate")["p_adj"])
    return cox, tuple(notes), ph_table


def close_pairs(day: np.ndarray, days: int, labels: np.ndarray | None = None) -> int:
    """How many pairs of exits happen at most ``days`` apart (with ``labels``: pairs whose
    two labels are the same). Counted by sorting, not by listing the pairs, so memory and
    time grow with the exits, not with their square."""
    day = np.asarray(day, dtype=np.int64)
    if len(day) < 2:
        return 0
    day = day - day.min()
    if labels is not None:  # one block of days per label, far enough apart that no window spans two
        day = np.asarray(labels, dtype=np.int64) * (day.max() + days + 1) + day
    d = np.sort(day)
    return int((np.searchsorted(d, d + days, side="right") - np.arange(1, len(d) + 1)).sum())


def clustered_exits(table: pd.DataFrame, days: int = 3, permutations: int = 500, seed: int = 0,
                    key: str = "school") -> dict:
    """Do hires from one school (``key``) leave together?

    Among pairs of exits (of hires with a school) that happen within ``days`` of each
    other, ``share`` is the proportion where both leavers came from the same school.
    ``chance`` is the same proportion with the school labels permuted among exits of the
    same hire month (which keeps the timing that common hire dates produce); ``p`` is the
    permutation p-value. Unlike "has a classmate leave nearby", this does not saturate when
    a large drive produces many exits in a few weeks.
    """
    if key not in table:
        return {"share": None, "note": f"no {key} column"}
    ex = table[(table["event"] == 1) & table[key].notna()]
    if len(ex) < 10 or ex[key].nunique() < 2:
        return {"share": None, "note": f"fewer than 10 exits of hires with a {key}"}
    exit_day = (ex["hire_date"] - pd.Timestamp("2000-01-01")).dt.days.to_numpy() + ex["duration_days"].to_numpy()
    pairs = close_pairs(exit_day, days)
    if pairs == 0:
        return {"share": None, "note": f"no two exits within {days} days"}
    labels = pd.factorize(ex[key].astype(str))[0]
    month = pd.factorize(ex["hire_date"].dt.to_period("M"))[0]
    observed = close_pairs(exit_day, days, labels) / pairs
    rng = np.random.default_rng(seed)
    strata = [np.flatnonzero(month == m) for m in np.unique(month)]
    null = np.empty(permutations)
    perm = labels.copy()
    for b in range(permutations):
        for idx in strata:
            perm[idx] = labels[rng.permutation(idx)]
        null[b] = close_pairs(exit_day, days, perm) / pairs
    return {"share": observed, "chance": float(null.mean()), "chance_high": float(np.quantile(null, 0.975)),
            "p": float((1 + np.sum(null >= observed)) / (permutations + 1)), "days": days,
            "exits": int(len(ex)), "pairs": pairs}


def seats_plan(kmf, table: pd.DataFrame, seats: int, alpha: float) -> dict:
    """Hires needed now for ``seats`` effective (still here and certified) seats at day 90.

    Expected yield per hire q = S(90) x pass rate; hires = seats / q with a delta-method
    interval on log q; ``hires_90pct_sure`` is the smallest number for which at least
    ``seats`` remain with probability 0.9 (binomial, at the point estimate of q).
    """
    s90 = survival_at(kmf, 90)
    if s90 <= 0:
        return {}
    var_log_s = greenwood_var(kmf, 90) / s90 ** 2
    examined = table["certified"].dropna() if "certified" in table else pd.Series(dtype=float)
    if len(examined) >= 10:
        p = float(examined.astype(float).mean())
        var_log_p = (1 - p) / (len(examined) * p) if p > 0 else np.inf
    else:
        p, var_log_p = 1.0, 0.0
    q = s90 * p
    z = stats.norm.ppf(1 - alpha / 2)
    half = z * np.sqrt(var_log_s + var_log_p)
    hires = int(np.ceil(seats / q))
    sure = next(n for n in range(seats, 50 * seats + 1) if stats.binom.sf(seats - 1, n, q) >= 0.9)
    return {"seats": seats, "hires": hires, "low": int(np.ceil(seats / (q * np.exp(half)))),
            "high": int(np.ceil(seats / (q * np.exp(-half)))), "hires_90pct_sure": sure,
            "survival_90d": s90, "pass_rate": p, "certification_known": len(examined) >= 10}


# --------------------------------------------------------------------------- entry point
def analyse(ds: Dataset, window_months: int | None = 24,
            group_by: str = "onboarding_program", covariates: list[str] | None = None, seats_needed: int = 50,
            exclude_bursts: bool = True, cluster_days: int = 3, alpha: float = 0.05, correction: str = "holm",
            seed: int = 0, min_cell_size: int = MIN_CELL_SIZE, horizons: list[int] | None = None) -> AttritionResult:
    """Survival analysis of new hires.

    Parameters
    ----------
    ds
        Loaded data with the ``agents`` table (``training`` optional, for training_score);
        its analysis month sets ``as_of``, the month's last day.
    window_months
        Hires of the last ``window_months`` months up to ``as_of`` (None: all hires).
    group_by
        Column to compare groups by: onboarding_program, hiring_channel, site,
        hire_quarter, ... (see :data:`GROUPABLE`).
    covariates
        Cox covariates; default onboarding_program, hiring_channel, site, training_score.
    seats_needed
        Effective seats wanted at day 90, for the hiring plan.
    exclude_bursts
        Analyse bulk hiring drives (see :func:`ccinsight.bursts.find_bursts`) separately
        rather than mixing them into group comparisons.
    cluster_days, seed
        Window for clustered exits, and the seed of its permutation test.
    min_cell_size
        Groups with fewer hires are pooled as "other"; an "other" still smaller is left
        out of the group comparison (its hires count in the totals).
    horizons
        Days of tenure attrition is reported at (default 30, 60, 90; data kept in months or
        years want longer ones, e.g. 180, 365, 730). 90-day attrition is always reported.

    Tenure-only data (``ds.calendar`` False: no real hire dates) are analysed whole: no
    hire-date window, no bulk drives or clustered exits (both need dates), no hire quarter.
    """
    horizons = _horizons(horizons)
    names = ds.labels
    notes = []
    agents = ds["agents"].copy()
    if "training" in ds and "training_score" not in agents:
        agents = agents.merge(ds["training"][["agent_id", "training_score"]], on="agent_id", how="left")
    as_of_ts = ds.as_of
    if not ds.calendar:
        if group_by == "hire_quarter":
            raise ParameterError("group_by 'hire_quarter' needs hire dates, and this tenure-only export has none; "
                                 "choose another column.")
        notes.append("The data give tenure and a left flag, not dates: every hire in the export is analysed (no "
                     "hire-date window), and bulk drives and classmates leaving together cannot be checked.")
        window_months, exclude_bursts = None, False
    full = survival_table(agents, as_of_ts, window_months)
    table = full
    if group_by not in table.columns:
        valid = [c for c in GROUPABLE if c in table.columns]
        raise ParameterError(f"group_by '{group_by}' is not a column of the agents table; "
                             f"valid choices: {', '.join(valid)}.")
    excluded: dict = {"hires": 0, "drives": []}
    if exclude_bursts:
        bursts = find_bursts(table)
        ids = burst_members(bursts)
        if ids:
            inside = table["agent_id"].astype(str).isin(ids)
            for b in bursts:
                sub = table[table["agent_id"].astype(str).isin(b.agent_ids)]
                kmf_b = fit_km(sub["duration_days"], sub["event"], label=b.channel, alpha=alpha)
                excluded["drives"].append({"channel": b.channel, "start": b.start.date(), "end": b.end.date(),
                                           "hires": b.hires, "attrition_90d": attrition_at(kmf_b, 90)["attrition"]})
            excluded["hires"] = int(inside.sum())
            table = table[~inside]
    start = period_mod.window_start(as_of_ts, window_months) if window_months else \
        (table["hire_date"].min() if ds.calendar else None)
    overall = fit_km(table["duration_days"], table["event"], label="all hires", alpha=alpha)
    # groups are compared on pooled labels; the Cox model keeps the column as it is
    labels, pooled = pool_small(table[group_by].astype("string").fillna("unknown"), min_cell_size)
    shown = table.assign(**{group_by: labels})
    shown = shown[labels.map(labels.value_counts()) >= min_cell_size]
    if len(shown) < len(table):
        notes.append(f"{len(table) - len(shown)} hire(s) in groups too small to show even when pooled are left out "
                     "of the group comparison (they count in the totals).")
    groups, logrank_p, pairwise, diff = compare_groups(shown, group_by, alpha, correction,
                                                       name=lambda g: names.value(group_by, g))
    rows = []
    for g, kmf in groups.items():
        sub = shown[shown[group_by].astype(str) == g]
        a = attrition_at(kmf, 90)
        med = kmf.median_survival_time_
        rows.append({"group": g, "n": len(sub), "exits": int(sub["event"].sum()), "attrition_90d": a["attrition"],
                     "low": a["low"], "high": a["high"],
                     "median_tenure_days": float(med) if np.isfinite(med) else np.nan})
    covariates = list(covariates) if covariates is not None else \
        [c for c in ("onboarding_program", "hiring_channel", "site", "training_score") if c in table]
    # a covariate whose table was not loaded (training_score without a training table) is
    # left out with a note; any other unknown name is a mistake
    absent = [c for c in covariates if c not in table and c == "training_score" and "training" not in ds]
    if absent:
        notes.append(f"{names.column('training_score')} left out of the Cox model: no training table in the data.")
        covariates = [c for c in covariates if c not in absent]
    unknown = [c for c in covariates if c not in table]
    if unknown:
        raise ParameterError(f"Cox covariate(s) {', '.join(unknown)} are not columns; available: "
                             f"{', '.join(c for c in table.columns if c not in ('duration_days', 'event'))}.")
    cox, cox_notes, ph = fit_cox(table, covariates, alpha, names)
    clustering = clustered_exits(full, days=cluster_days, seed=seed) if ds.calendar else \
        {"share": None, "note": "no exit dates"}  # drives included: waves are the point
    seats = seats_plan(overall, table, seats_needed, alpha) if seats_needed else {}
    return AttritionResult(table=table, as_of=as_of_ts, window_start=start, group_by=group_by,
                           overall=overall, groups=groups, group_table=pd.DataFrame(rows), logrank_p=logrank_p,
                           pairwise=pairwise, difference_90d=diff, cox=cox, cox_notes=cox_notes, ph_test=ph,
                           clustering=clustering, seats=seats, excluded=excluded, alpha=alpha,
                           notes=tuple(notes), pooled=tuple(pooled), horizon_days=horizons, calendar=ds.calendar,
                           names=names)


def _horizons(horizons) -> tuple[int, ...]:
    if horizons is None:
        return HORIZONS
    try:
        days = tuple(sorted({int(h) for h in horizons}))
    except (TypeError, ValueError):
        days = ()
    if not days or days[0] < 1 or days[-1] > 36_500 or any(float(h) != int(h) for h in horizons):
        raise ParameterError(f"horizons must be a list of whole numbers of days between 1 and 36,500, e.g. "
                             f"[30, 60, 90]; got {horizons!r}.")
    return days


ANALYSIS = Analysis(
    name="attrition_survival", title="How long do new agents stay?",
    question="How long do new agents stay, do mentored hires stay longer, do classmates leave together, "
             "how many to hire for N seats?",
    findings=AttritionFindings, tables=("agents",), optional_tables=("training", "performance"))
