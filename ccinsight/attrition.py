"""Agent attrition: survival curves over tenure, group comparisons, covariates, seats planning.

Estimators come from lifelines (Kaplan-Meier with at-risk counts, log-rank tests, Nelson-
Aalen hazard, Cox proportional hazards with its assumption test); multiple-testing
correction from statsmodels. Tenure is counted in days from ``hire_date``; hires still
employed, and exits after the analysis date ``as_of``, are censored at ``as_of``.

Backs ``notebooks/attrition_survival.ipynb``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ccinsight.channels import find_bursts
from ccinsight.config import MIN_CELL_SIZE
from ccinsight.data import Dataset
from ccinsight.errors import DataError, ParameterError
from ccinsight.plotting import new_axes
from ccinsight.privacy import pool_small

TENURE_TICKS = (0, 30, 60, 90, 180, 365)
HORIZONS = (30, 60, 90)
GROUPABLE = ("onboarding_program", "hiring_channel", "site", "hire_quarter", "cohort_id", "school", "team",
             "exit_type")


def from_tenure(df: pd.DataFrame, tenure_days: str, left: str, as_of: str | pd.Timestamp) -> pd.DataFrame:
    """Dates from an HR export that only has a tenure length and a left/stayed flag.

    ``hire_date`` becomes ``as_of - tenure`` for stayers; leavers' exact dates are unknown,
    so they are placed as if they left on ``as_of`` after ``tenure`` days. Durations and
    events, which is all the survival analysis uses, are exact either way.
    """
    as_of = pd.Timestamp(as_of)
    tenure = pd.to_timedelta(pd.to_numeric(df[tenure_days]), unit="D")
    out = df.copy()
    out["hire_date"] = as_of - tenure
    out["exit_date"] = pd.Series(as_of, index=df.index).where(df[left].astype(bool))
    return out


def window_start(as_of: pd.Timestamp, window_months: int) -> pd.Timestamp:
    """First day of the ``window_months`` calendar months ending with ``as_of``'s month."""
    return (as_of.to_period("M") - (window_months - 1)).start_time


def survival_table(agents: pd.DataFrame, as_of: pd.Timestamp, window_months: int | None = 24) -> pd.DataFrame:
    """One row per hire in the window: ``duration_days`` and ``event`` (left by ``as_of``).

    Hires after ``as_of`` are not in the population; exits after ``as_of`` have not
    happened yet (censored); recent hires are censored at their short tenure.
    """
    bad = agents["exit_date"] < agents["hire_date"]
    if bad.any():
        rows = agents.loc[bad, "agent_id"].astype(str).head(5).tolist()
        raise DataError(f"agents: {int(bad.sum())} hire(s) have an exit date before the hire date "
                        f"(agent_id {', '.join(rows)}); fix them before analysing attrition.")
    pop = agents[agents["hire_date"] <= as_of].copy()
    if window_months:
        pop = pop[pop["hire_date"] >= window_start(as_of, window_months)]
    if pop.empty:
        raise DataError(f"No hires between the window start and {as_of.date()}: nothing to analyse.")
    left = pop["exit_date"].notna() & (pop["exit_date"] <= as_of)
    end = pop["exit_date"].where(left, as_of)
    pop["duration_days"] = (end - pop["hire_date"]).dt.days.astype(float)
    pop["event"] = left.astype(int)
    pop["hire_quarter"] = pop["hire_date"].dt.to_period("Q").astype(str)
    return pop


# --------------------------------------------------------------------------- Kaplan-Meier
def fit_km(durations: pd.Series, events: pd.Series, label: str, alpha: float = 0.05):
    """A lifelines Kaplan-Meier fit."""
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter(alpha=alpha).fit(durations, events, label=label)


def _step_at(frame: pd.DataFrame, t: float) -> pd.Series:
    """Value of a right-continuous step function (indexed by time) at ``t``."""
    return frame.loc[:t].iloc[-1]


def greenwood_var(kmf, t: float) -> float:
    """Greenwood variance of S(t) from a lifelines fit's event table."""
    et = kmf.event_table.loc[:t]
    d, n = et["observed"], et["at_risk"]
    terms = np.where(n > d, d / (n * (n - d)), np.inf)
    s = float(_step_at(kmf.survival_function_, t).iloc[0])
    return s ** 2 * float(np.sum(terms[d > 0])) if (d > 0).any() else 0.0


def attrition_at(kmf, t: float) -> dict:
    """Attrition 1 - S(t) with the fit's (log-log) confidence interval.

    With no exit by ``t`` the log-log interval collapses to a point; the interval is then
    the exact (Clopper-Pearson) one for 0 exits among the hires followed through ``t``.
    """
    s = float(_step_at(kmf.survival_function_, t).iloc[0])
    if s == 1.0:
        from statsmodels.stats.proportion import proportion_confint

        followed = int((np.asarray(kmf.durations) >= t).sum())
        if followed == 0:
            return {"attrition": 0.0, "low": np.nan, "high": np.nan}
        _, high = proportion_confint(0, followed, alpha=kmf.alpha, method="beta")
        return {"attrition": 0.0, "low": 0.0, "high": float(high)}
    ci = _step_at(kmf.confidence_interval_survival_function_, t)
    return {"attrition": 1 - s, "low": 1 - float(ci.iloc[1]), "high": 1 - float(ci.iloc[0])}


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class AttritionResult:
    """Survival of new hires over tenure, overall and by group."""

    table: pd.DataFrame
    as_of: pd.Timestamp
    window_start: pd.Timestamp
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

    def __repr__(self) -> str:
        t = self.table
        return (f"AttritionResult({len(t):,} hires, {int(t['event'].sum()):,} exits, hired "
                f"{t['hire_date'].min():%Y-%m}..{t['hire_date'].max():%Y-%m}, as of {self.as_of.date()}, "
                f"by {self.group_by})")

    # ---------------------------------------------------------------- tables
    def horizons(self) -> pd.DataFrame:
        """30/60/90-day attrition with intervals, overall and per group."""
        rows = []
        for label, kmf in [("all hires", self.overall), *self.groups.items()]:
            for t in HORIZONS:
                rows.append({"group": label, "day": t, **attrition_at(kmf, t)})
        return pd.DataFrame(rows)

    def horizons_table(self) -> pd.DataFrame:
        """The same as a reviewer reads it: a row per group, a column per horizon,
        attrition with its 95% interval in each cell."""
        from ccinsight.tables import interval_text

        h = self.horizons()
        h["text"] = [interval_text(r.attrition, r.low, r.high, percent=True) for r in h.itertuples()]
        wide = h.pivot(index="group", columns="day", values="text")
        wide = wide.reindex(h["group"].drop_duplicates())
        wide.columns = [f"within {d} days" for d in wide.columns]
        return wide.rename_axis(self.group_by if self.groups else "group")

    def summary(self) -> pd.DataFrame:
        """Per group: hires, exits, 90-day attrition with interval, median tenure."""
        return self.group_table

    def survival_curve(self) -> pd.DataFrame:
        """Share of all hires still employed at the tenure ticks, with intervals and the
        number still under observation (hires followed at least that long)."""
        durations = np.asarray(self.overall.durations)
        rows = []
        for t in TENURE_TICKS:
            a = attrition_at(self.overall, t)
            rows.append({"day": t, "survival": 1 - a["attrition"], "low": 1 - a["high"], "high": 1 - a["low"],
                         "at_risk": int((durations >= t).sum())})
        return pd.DataFrame(rows)

    def findings(self) -> dict:
        """Headline numbers for the deck (names are the interface)."""
        out = {}
        for t in HORIZONS:
            a = attrition_at(self.overall, t)
            out[f"attrition_{t}d"], out[f"attrition_{t}d_low"], out[f"attrition_{t}d_high"] = \
                a["attrition"], a["low"], a["high"]
        median = self.overall.median_survival_time_
        out.update({
            "median_tenure_days": float(median) if np.isfinite(median) else None,
            "survival_curve": self.survival_curve(),
            "pooled_groups": list(self.pooled),
            "group_by": self.group_by,
            "groups": self.group_table[["group", "n", "exits", "attrition_90d", "low", "high"]],
            "logrank_p": self.logrank_p,
            "difference_90d": self.difference_90d,
            "cox": self.cox[["covariate", "hazard_ratio", "low", "high", "p"]] if self.cox is not None else [],
            "ph_violations": (self.ph_test.loc[self.ph_test["violated"], "covariate"].tolist()
                              if self.ph_test is not None else []),
            "clustered_exit_share": self.clustering.get("share"),
            "clustered_exit_share_chance": self.clustering.get("chance"),
            "clustered_exit_p": self.clustering.get("p"),
            "hires_for_seats": self.seats.get("hires"), "hires_for_seats_low": self.seats.get("low"),
            "hires_for_seats_high": self.seats.get("high"), "seats_needed": self.seats.get("seats"),
            "hires_for_seats_90pct_sure": self.seats.get("hires_90pct_sure"),
            "n_hires": int(len(self.table)), "n_exits": int(self.table["event"].sum()),
            "as_of": self.as_of.date(), "window_start": self.window_start.date(),
            "first_hire": self.table["hire_date"].min().date(), "last_hire": self.table["hire_date"].max().date(),
            "excluded_bursts": self.excluded.get("bursts", []),
            "excluded_hires": self.excluded.get("hires", 0),
        })
        return out

    # ---------------------------------------------------------------- words
    def headline(self):
        """Plain-language findings for the top of the rendered notebook (Markdown)."""
        from IPython.display import Markdown

        return Markdown(self.narrative())

    def narrative(self) -> str:
        f = self.findings()
        pct = lambda x: f"{100 * x:.1f}%"  # noqa: E731
        lines = [f"**{f['n_hires']:,} hires (hired {f['first_hire']} to {f['last_hire']}), followed to {f['as_of']}; "
                 f"{f['n_exits']:,} have left.** Those still employed count only for the days they have been here "
                 "(censored)."]
        if f["excluded_hires"]:
            b = "; ".join(f"{x['channel']} {x['start']}..{x['end']} ({x['hires']} hires, "
                          f"{pct(x['attrition_90d'])} gone by day 90)" for x in f["excluded_bursts"])
            lines.append(f"- **{f['excluded_hires']} hires from bulk hiring drives are analysed separately**: {b}.")
        lines.append(f"- Of every 100 new hires, **{100 * f['attrition_30d']:.0f} leave within 30 days, "
                     f"{100 * f['attrition_60d']:.0f} within 60 and {100 * f['attrition_90d']:.0f} within 90** "
                     f"(90-day attrition {pct(f['attrition_90d'])}, 95% CI {pct(f['attrition_90d_low'])} to "
                     f"{pct(f['attrition_90d_high'])}).")
        year = self.survival_curve().set_index("day").loc[365]
        if year["at_risk"] > 0:
            lines.append(f"- After one year, **{pct(year['survival'])} of hires are still here** (95% CI "
                         f"{pct(year['low'])} to {pct(year['high'])}; {int(year['at_risk']):,} hires followed that long).")
        if self.pooled:
            lines.append(f"- Groups of {self.group_by} with fewer hires than the minimum cell size are pooled as "
                         f"'other': {', '.join(self.pooled)}.")
        g = self.group_table
        if len(g) >= 2:
            parts = ", ".join(f"{r.group}: {pct(r.attrition_90d)} ({pct(r.low)} to {pct(r.high)}, n = {r.n})"
                              for r in g.itertuples())
            verdict = "differ significantly" if self.logrank_p < self.alpha else "do not differ significantly"
            lines.append(f"- By {self.group_by}, 90-day attrition is {parts}; the survival curves "
                         f"{verdict} (log-rank p = {self.logrank_p:.2g}).")
            for r in self.difference_90d.itertuples():
                lines.append(f"- 90-day survival of {r.group} minus {r.reference}: **{100 * r.difference:+.1f} "
                             f"points** (95% CI {100 * r.low:+.1f} to {100 * r.high:+.1f}).")
        if self.cox is not None:
            sig = self.cox[self.cox["p"] < self.alpha]
            if len(sig):
                hr = "; ".join(f"{r.covariate} x{r.hazard_ratio:.2f} ({r.low:.2f}-{r.high:.2f})"
                               for r in sig.itertuples())
                lines.append(f"- Holding the other factors equal (Cox model), the risk of leaving is "
                             f"multiplied by: {hr}.")
            if f["ph_violations"]:
                lines.append(f"- The Cox model's proportional-hazards assumption does not hold for "
                             f"{', '.join(f['ph_violations'])}: read those hazard ratios as averages over tenure.")
        c = self.clustering
        if c.get("share") is not None:
            lines.append(f"- **When two school hires leave within {c['days']} days of each other, they come from the "
                         f"same school {pct(c['share'])} of the time**, against {pct(c['chance'])} by chance "
                         f"(p = {c['p']:.2g}): "
                         + ("departures cluster, so one leaver can pull classmates out." if c["p"] < self.alpha
                            else "no sign that departures cluster."))
        s = self.seats
        if s.get("hires"):
            lines.append(f"- **To have {s['seats']} effective seats at day 90, hire about {s['hires']} now** "
                         f"(95% CI {s['low']} to {s['high']}; {s['hires_90pct_sure']} to be 90% sure), "
                         f"counting {pct(s['survival_90d'])} still here at day 90 and "
                         + (f"{pct(s['pass_rate'])} passing certification." if s["certification_known"] else
                            "everyone passing certification (too few certification results to estimate a pass "
                            "rate)."))
        lines.extend(f"\n*{n}*" for n in self.notes)
        return "\n".join(lines)

    def model_notes(self):
        """The Cox model's notes and its proportional-hazards check, as Markdown."""
        from IPython.display import Markdown

        lines = [f"- {n}" for n in self.cox_notes]
        if self.ph_test is not None:
            bad = self.ph_test[self.ph_test["violated"]]
            lines.append("- Proportional-hazards check (Schoenfeld residuals vs rank of time, lifelines): "
                         + ("no covariate breaks the assumption at the 5% level." if bad.empty else
                            f"the assumption fails for {', '.join(bad['covariate'])} "
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
        ax.set_xlim(0, 365)
        ax.set_xticks(TENURE_TICKS)
        ax.set_xlabel("tenure (days since hire)")
        ax.set_ylabel("share still employed")
        ax.set_title(f"Who is still here after d days, by {self.group_by}")
        ax.legend(frameon=False, loc="lower left", fontsize="small")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            add_at_risk_counts(*fitters, ax=ax, rows_to_show=["At risk"], xticks=list(TENURE_TICKS))
        return ax

    def plot_hazard(self, ax=None, bandwidth_days: float = 7.0, **kwargs):
        """Smoothed hazard over tenure: exits per 1,000 agents per day (Nelson-Aalen)."""
        from lifelines import NelsonAalenFitter

        ax = new_axes(ax, figsize=(9, 3.5))
        naf = NelsonAalenFitter().fit(self.table["duration_days"], self.table["event"])
        hazard = naf.smoothed_hazard_(bandwidth_days)
        hazard = hazard[hazard.index <= 365]
        ax.plot(hazard.index, 1000 * hazard.iloc[:, 0], **kwargs)
        ax.axvspan(0, 90, color="tab:orange", alpha=0.1, label="probation (first 90 days)")
        ax.set_xlim(0, 365)
        ax.set_xticks(TENURE_TICKS)
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
        ax.errorbar(c["hazard_ratio"], y, xerr=[c["hazard_ratio"] - c["low"], c["high"] - c["hazard_ratio"]],
                    fmt="o", capsize=3, **kwargs)
        ax.axvline(1, color="0.3", lw=0.8)
        ax.set_xscale("log")
        ax.set_yticks(y, c["covariate"])
        ax.set_xlabel("hazard ratio (95% CI), log scale: > 1 leaves sooner")
        ax.set_title("What goes with leaving sooner (Cox model)")
        return ax

    def _repr_html_(self) -> str:
        from ccinsight.tables import reviewer_html

        return f"<p>{self!r}</p>" + reviewer_html(
            self.group_table, intervals={"attrition_90d": ("low", "high")}, percent={"attrition_90d"},
            labels={"group": self.group_by, "n": "hires", "attrition_90d": "90-day attrition (95% CI)",
                    "median_tenure_days": "median tenure (days; empty: over half still here)"}, decimals=0)


# --------------------------------------------------------------------------- pieces
def compare_groups(table: pd.DataFrame, group_by: str, alpha: float, correction: str = "holm"):
    """Log-rank across groups, pairwise log-rank with correction, 90-day differences."""
    from lifelines.statistics import multivariate_logrank_test, pairwise_logrank_test
    from statsmodels.stats.multitest import multipletests

    labels = table[group_by].astype(str)
    groups = {}
    for g in sorted(labels.unique()):
        sub = table[labels == g]
        groups[g] = fit_km(sub["duration_days"], sub["event"], label=f"{group_by}={g}", alpha=alpha)
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


def survival_difference(kmf_a, kmf_b, t: float) -> dict:
    """S_a(t) - S_b(t) with a MOVER interval (Zou & Donner 2008; Newcombe's method for two
    proportions) built from each group's own interval, as shown in the group table.

    A Wald interval from Greenwood variances collapses when a group has no exit by ``t``
    (variance 0) and then claims a precision the data do not have; MOVER uses that group's
    exact interval instead, and keeps the asymmetry of the log-log intervals.
    """
    a, b = attrition_at(kmf_a, t), attrition_at(kmf_b, t)
    s_a, s_b = 1 - a["attrition"], 1 - b["attrition"]
    lo_a, hi_a, lo_b, hi_b = 1 - a["high"], 1 - a["low"], 1 - b["high"], 1 - b["low"]
    d = s_a - s_b
    return {"difference": d, "low": d - np.hypot(s_a - lo_a, hi_b - s_b),
            "high": d + np.hypot(hi_a - s_a, s_b - lo_b)}


def _design(table: pd.DataFrame, covariates: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Cox design matrix: dummies (largest level as reference), constant and collinear
    columns dropped with a note each."""
    notes = []
    parts = []
    for cov in covariates:
        col = table[cov]
        if col.isna().any():
            notes.append(f"{cov} left out: missing for {int(col.isna().sum())} of {len(col)} hires.")
            continue
        if col.nunique() < 2:
            notes.append(f"{cov} left out: the same value for every hire.")
            continue
        if pd.api.types.is_bool_dtype(col) or str(col.dtype) == "boolean":
            parts.append(col.astype(float).rename(cov))
        elif pd.api.types.is_numeric_dtype(col):
            parts.append(((col - col.mean()) / col.std()).rename(f"{cov} (per SD)"))
        else:
            reference = col.value_counts().index[0]
            dummies = pd.get_dummies(col.astype(str), prefix=cov, prefix_sep="=", dtype=float)
            parts.append(dummies.drop(columns=f"{cov}={reference}"))
            notes.append(f"{cov}: compared with {reference} (the largest group).")
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


def fit_cox(table: pd.DataFrame, covariates: list[str], alpha: float):
    """Cox PH model (lifelines) with a light ridge penalty, and its PH test."""
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    if table["event"].sum() == 0:
        return None, ("Cox model skipped: nobody has left in this population.",), None
    X, notes = _design(table, covariates)
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
    cox = pd.DataFrame({"covariate": s.index, "hazard_ratio": s["exp(coef)"].to_numpy(),
                        "low": s[lo].to_numpy(), "high": s[hi].to_numpy(), "p": s["p"].to_numpy()})
    ph_table = pd.DataFrame({"covariate": ph.index, "test_statistic": ph["test_statistic"].to_numpy(),
                             "p": ph["p"].to_numpy()})
    ph_table["violated"] = ph_table["p"] < alpha
    return cox, tuple(notes), ph_table


def _close_pairs(day: np.ndarray, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of exits at most ``days`` apart."""
    i, j = np.triu_indices(len(day), k=1)
    close = np.abs(day[i] - day[j]) <= days
    return i[close], j[close]


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
    i, j = _close_pairs(exit_day, days)
    if len(i) == 0:
        return {"share": None, "note": f"no two exits within {days} days"}
    labels = pd.factorize(ex[key].astype(str))[0]
    month = pd.factorize(ex["hire_date"].dt.to_period("M"))[0]
    observed = float(np.mean(labels[i] == labels[j]))
    rng = np.random.default_rng(seed)
    strata = [np.flatnonzero(month == m) for m in np.unique(month)]
    null = np.empty(permutations)
    perm = labels.copy()
    for b in range(permutations):
        for idx in strata:
            perm[idx] = labels[rng.permutation(idx)]
        null[b] = np.mean(perm[i] == perm[j])
    return {"share": observed, "chance": float(null.mean()), "chance_high": float(np.quantile(null, 0.975)),
            "p": float((1 + np.sum(null >= observed)) / (permutations + 1)), "days": days,
            "exits": int(len(ex)), "pairs": int(len(i))}


def seats_plan(kmf, table: pd.DataFrame, seats: int, alpha: float) -> dict:
    """Hires needed now for ``seats`` effective (still here and certified) seats at day 90.

    Expected yield per hire q = S(90) x pass rate; hires = seats / q with a delta-method
    interval on log q; ``hires_90pct_sure`` is the smallest number for which at least
    ``seats`` remain with probability 0.9 (binomial, at the point estimate of q).
    """
    s90 = float(_step_at(kmf.survival_function_, 90).iloc[0])
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
def analyse(ds: Dataset, as_of: str | None = None, window_months: int | None = 24,
            group_by: str = "onboarding_program", covariates: list[str] | None = None, seats_needed: int = 50,
            exclude_bursts: bool = True, cluster_days: int = 3, alpha: float = 0.05, correction: str = "holm",
            seed: int = 0, min_cell_size: int = MIN_CELL_SIZE) -> AttritionResult:
    """Survival analysis of new hires.

    Parameters
    ----------
    ds
        Loaded data with the ``agents`` table (``training`` optional, for training_score).
    as_of
        Analysis date (ISO); default the end of the latest complete month the loaded
        tables cover (load ``performance`` too: its months mark complete months).
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
        Analyse bulk hiring drives (see :func:`ccinsight.channels.find_bursts`) separately
        rather than mixing them into group comparisons.
    cluster_days, seed
        Window for clustered exits, and the seed of its permutation test.
    min_cell_size
        Groups with fewer hires are pooled as "other"; an "other" still smaller is left
        out of the group comparison (its hires count in the totals).
    """
    agents = ds["agents"].copy()
    if "training" in ds and "training_score" not in agents:
        agents = agents.merge(ds["training"][["agent_id", "training_score"]], on="agent_id", how="left")
    try:
        as_of_ts = pd.Timestamp(as_of) if as_of else ds.latest_complete_month().end_time.normalize()
    except ValueError:
        raise ParameterError(f"as_of {as_of!r} is not a date (expected YYYY-MM-DD).") from None
    full = survival_table(agents, as_of_ts, window_months)
    table = full
    if group_by not in table.columns:
        valid = [c for c in GROUPABLE if c in table.columns]
        raise ParameterError(f"group_by '{group_by}' is not a column of the agents table; "
                             f"valid choices: {', '.join(valid)}.")
    excluded: dict = {"hires": 0, "bursts": []}
    if exclude_bursts:
        bursts = find_bursts(table)
        ids = {a for b in bursts for a in b.agent_ids}
        if ids:
            inside = table["agent_id"].astype(str).isin(ids)
            for b in bursts:
                sub = table[table["agent_id"].astype(str).isin(b.agent_ids)]
                kmf_b = fit_km(sub["duration_days"], sub["event"], label=b.channel, alpha=alpha)
                excluded["bursts"].append({"channel": b.channel, "start": b.start.date(), "end": b.end.date(),
                                           "hires": b.hires, "attrition_90d": attrition_at(kmf_b, 90)["attrition"]})
            excluded["hires"] = int(inside.sum())
            table = table[~inside]
    start = window_start(as_of_ts, window_months) if window_months else table["hire_date"].min()
    overall = fit_km(table["duration_days"], table["event"], label="all hires", alpha=alpha)
    # groups are compared on pooled labels; the Cox model keeps the column as it is
    labels, pooled = pool_small(table[group_by].astype("string").fillna("unknown"), min_cell_size)
    shown = table.assign(**{group_by: labels})
    shown = shown[labels.map(labels.value_counts()) >= min_cell_size]
    notes = []
    if len(shown) < len(table):
        notes.append(f"{len(table) - len(shown)} hire(s) in groups too small to show even when pooled are left out "
                     "of the group comparison (they count in the totals).")
    groups, logrank_p, pairwise, diff = compare_groups(shown, group_by, alpha, correction)
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
        notes.append("training_score left out of the Cox model: no training table in the data.")
        covariates = [c for c in covariates if c not in absent]
    unknown = [c for c in covariates if c not in table]
    if unknown:
        raise ParameterError(f"Cox covariate(s) {', '.join(unknown)} are not columns; available: "
                             f"{', '.join(c for c in table.columns if c not in ('duration_days', 'event'))}.")
    cox, cox_notes, ph = fit_cox(table, covariates, alpha)
    clustering = clustered_exits(full, days=cluster_days, seed=seed)  # drives included: waves are the point
    seats = seats_plan(overall, table, seats_needed, alpha) if seats_needed else {}
    return AttritionResult(table=table, as_of=as_of_ts, window_start=pd.Timestamp(start), group_by=group_by,
                           overall=overall, groups=groups, group_table=pd.DataFrame(rows), logrank_p=logrank_p,
                           pairwise=pairwise, difference_90d=diff, cox=cox, cox_notes=cox_notes, ph_test=ph,
                           clustering=clustering, seats=seats, excluded=excluded, alpha=alpha,
                           notes=tuple(notes), pooled=tuple(pooled))
