"""Training score vs on-the-job performance, per training class (cohort).

The field's question: does a trainee's final training score predict how they perform once
live? Per cohort we estimate Pearson r with a Fisher-z interval, Spearman rho and a
p-value, and label each cohort: "link reliably weak" only when its r is credibly below a
threshold (one-sided Fisher-z test, Holm across cohorts), "too few trainees to tell" when
the data cannot say. Cohorts are pooled by a random-effects meta-analysis of Fisher z
(statsmodels, DerSimonian-Laird) with its heterogeneity, the score-performance slope is fitted
with a cohort random intercept (statsmodels MixedLM), and r is compared before and after a
process change.

Backs ``notebooks/training_vs_performance.ipynb``.
"""
from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ccinsight import wording
from ccinsight.analysis import Analysis
from ccinsight.config import MIN_CELL_SIZE
from ccinsight.data import Dataset
from ccinsight.errors import DataError, ParameterError
from ccinsight.findings import Estimate, Findings, Tracked, fact, to_jsonable
from ccinsight.findings import markdown_text as md
from ccinsight.labels import Labels
from ccinsight.performance import SHARE_METRICS, check_metric, metric_label, window_performance
from ccinsight.plotting import new_axes, percent_axis


@dataclass(frozen=True)
class TrainingFindings(Findings):
    """Training score vs performance on the floor, per training class."""

    tracked = (Tracked("pooled_r", "training-performance r", higher_is_better=True),)

    metric: str = fact("performance metric related to the training score", "text")
    metric_direction: str = fact("whether higher or lower values of the metric are better", "text")
    window_months: list = fact("months after the training-end month whose mean performance counts", "list")
    n_agents: int = fact("trainees with a score and performance in the window", "count")
    n_cohorts: int = fact("training classes", "count")
    n_cohorts_estimated: int = fact("training classes large enough to estimate r", "count")
    pooled_r: Estimate = fact("correlation of score and performance across classes (Fisher z, random effects, "
                              "DerSimonian-Laird)", "r")
    heterogeneity_i2: float | None = fact("I-squared: share of the spread of class r beyond chance", "share")
    heterogeneity_tau: float | None = fact("between-class standard deviation of Fisher z", "number")
    heterogeneity_p: float | None = fact("Cochran's Q test that every class has the same r", "p")
    slope_per_10_points: Estimate = fact("change in the metric per 10 training points (MixedLM, class "
                                         "random intercept), in the metric's unit", "number")
    cohorts: list = fact("per class: cohort_id, training_end, n, r, r_low, r_high, rho, p_adj (r = 0, Holm), "
                         "p_weak_adj (r below the threshold, Holm), label, flagged (label is 'link reliably "
                         "weak'), estimated", "records")
    n_flagged: int = fact("classes whose link is reliably weak (see rule)", "count")
    n_too_few: int = fact("estimated classes with too few trainees to tell whether the link is weak", "count")
    flag_rule: str = fact("the rule that labels a class", "text")
    process_change_date: str | None = fact("date of the recruiting/training change compared", "date")
    r_before: Estimate | None = fact("pooled r of classes that ended training before the change", "r")
    r_after: Estimate | None = fact("pooled r of classes that ended training on or after the change", "r")
    p_difference: float | None = fact("z-test of r after vs r before (Fisher z)", "p")
    flagged_before: int | None = fact("classes with a reliably weak link before the change", "count")
    flagged_after: int | None = fact("classes with a reliably weak link after the change", "count")
    recent_flagged: list = fact("the five most recent classes with a reliably weak link", "list")
    alpha: float = fact("significance level", "number")

    @property
    def label(self) -> str:
        return metric_label(self.metric, self.names)

    def _slope(self, value) -> str:
        if self.metric in SHARE_METRICS:
            return wording.points(value)
        if self.metric == "aht_s":
            return f"{value:+.1f} s" if value is not None else "n/a"
        return wording.number(value)

    def headlines(self) -> list[str]:
        spread = (f"; the classes differ by more than chance explains: I\u00b2 = {wording.share(self.heterogeneity_i2)}, "
                  f"{wording.p_value(self.heterogeneity_p)}"
                  if self.heterogeneity_p is not None and self.heterogeneity_p < self.alpha else "")
        lines = [f"Training score and {self.label} correlate at r = {self.pooled_r.text('r')} across "
                 f"{wording.count(self.n_agents)} trainees in {self.n_cohorts_estimated} training classes "
                 f"(random-effects pooling{spread})."]
        if self.r_before is not None and self.r_after is not None:
            verdict = ("a clear change" if self.p_difference is not None and self.p_difference < self.alpha
                       else "the data cannot tell the two apart")
            lines.append(f"Before the process change of {self.process_change_date}: r = "
                         f"{self.r_before.text('r')}; "
                         f"after it: r = {self.r_after.text('r')}"
                         f"; {verdict} ({wording.p_value(self.p_difference)}).")
        lines.append(f"{self.n_flagged} of {self.n_cohorts_estimated} training classes have a reliably weak link "
                     f"between score and {self.label}; {self.n_too_few} have too few trainees to tell either way.")
        return lines

    def attention(self) -> list[tuple[str, str]]:
        if not self.recent_flagged:
            return []
        return [("action", f"{self.n_flagged} training class(es) have a reliably weak link between score and "
                           f"{self.label} (most recent: {', '.join(self.recent_flagged)}): look at how they were "
                           "recruited and trained before relying on their scores.")]

    def rule(self) -> str | None:
        return f"How a class is labelled: {self.flag_rule}."

    def details(self) -> list[str]:
        s = self.slope_per_10_points
        lines = [f"- Ten more training points go with **{self._slope(s.value)}** of {self.label} "
                 f"(95% CI {self._slope(s.low)} to {self._slope(s.high)}; mixed model with a class random "
                 "intercept)."]
        lines.append(f"- How a class is labelled: {md(self.flag_rule)}.")
        if self.flagged_before is not None:
            lines.append(f"- Flagged classes: {self.flagged_before} before the change, {self.flagged_after} after it.")
        if self.recent_flagged:
            lines.append(f"- Most recent classes with a reliably weak link: {md(', '.join(self.recent_flagged))}.")
        if self.r_before is not None and self.r_after is not None and self.p_difference is not None:
            if self.r_after.value - self.r_before.value > 0.2 and self.p_difference < self.alpha:
                lines.append("\n**What it means for the training team:** since the change, a good training "
                             "score goes with good performance on the floor (an association over time: other "
                             "things changed too), so scores can inform coaching and go-live decisions; classes "
                             "with a reliably weak link deserve a look at how they were recruited and trained. "
                             "Classes with too few trainees to tell are not evidence either way.")
        return lines


def fisher_interval(r: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Confidence interval of a Pearson r by the Fisher z transformation."""
    if n <= 3 or not np.isfinite(r):
        return np.nan, np.nan
    z = np.arctanh(np.clip(r, -0.999999, 0.999999))
    half = stats.norm.ppf(0.5 + level / 2) / np.sqrt(n - 3)
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def pool_fisher(r: pd.Series, n: pd.Series, level: float = 0.95) -> dict:
    """Pooled r across groups: random-effects meta-analysis of Fisher z (variance 1/(n-3),
    DerSimonian-Laird, statsmodels ``combine_effects``), with heterogeneity.

    When classes differ by more than sampling noise (tau > 0) the fixed-effect interval is
    too narrow; with no excess spread the two coincide.
    """
    from statsmodels.stats.meta_analysis import combine_effects

    ok = (r.notna() & (n > 3)).to_numpy()
    empty = {"r": np.nan, "low": np.nan, "high": np.nan, "z": np.nan, "se": np.nan, "n": 0, "k": 0,
             "tau2": np.nan, "i2": np.nan, "q_p": np.nan}
    if not ok.any():
        return empty
    z = np.arctanh(np.clip(r.to_numpy(float)[ok], -0.999999, 0.999999))
    var = 1 / (n.to_numpy(float)[ok] - 3)
    k = int(ok.sum())
    if k == 1:
        mean, se, tau2, i2, q_p = float(z[0]), float(np.sqrt(var[0])), np.nan, np.nan, np.nan
    else:
        res = combine_effects(z, var, method_re="dl", alpha=1 - level)
        mean, se = float(res.mean_effect_re), float(res.sd_eff_w_re)
        tau2, i2, q_p = float(res.tau2), float(res.i2), float(res.test_homogeneity().pvalue)
    half = stats.norm.ppf(0.5 + level / 2) * se
    return {"r": float(np.tanh(mean)), "low": float(np.tanh(mean - half)), "high": float(np.tanh(mean + half)),
            "z": mean, "se": se, "n": int(n.to_numpy()[ok].sum()), "k": k, "tau2": tau2, "i2": i2, "q_p": q_p}


WEAK, HOLDS, TOO_FEW, NOT_ESTIMATED = ("link reliably weak", "link holds", "too few trainees to tell",
                                      "too small to estimate")
LABELS = (WEAK, HOLDS, TOO_FEW, NOT_ESTIMATED)


def cohort_correlations(joined: pd.DataFrame, direction: int = 1, min_size: int = 8,
                        r_threshold: float = 0.3, alpha: float = 0.05, correction: str = "holm") -> pd.DataFrame:
    """Per cohort: n, Pearson r with Fisher-z interval, Spearman rho, p, adjusted p, label.

    Cohorts smaller than ``min_size`` are listed with ``estimated`` False and no numbers.
    Each estimated cohort gets one label (:data:`LABELS`):

    - "link reliably weak": the one-sided Fisher-z test of r < ``r_threshold`` has a Holm-
      adjusted p (``p_weak_adj``) below ``alpha``; ``flagged`` marks these;
    - "link holds": the mirror test, r above ``r_threshold`` (``p_holds_adj`` below ``alpha``);
    - "too few trainees to tell": neither; absence of evidence is not evidence of a weak link.

    ``direction`` -1 flips the sign for metrics where lower is better, so a positive r
    always means better trainees perform better.
    """
    from statsmodels.stats.multitest import multipletests

    level = 1 - alpha
    rows = []
    for cohort, g in joined.groupby("cohort_id", sort=False):
        n = len(g)
        row = {"cohort_id": cohort, "training_end": g["training_end_date"].max(), "n": n, "estimated": n >= min_size,
               "r": np.nan, "r_low": np.nan, "r_high": np.nan, "rho": np.nan, "p": np.nan}
        if n >= min_size and g["training_score"].nunique() > 1 and g["performance"].nunique() > 1:
            y = direction * g["performance"]
            res = stats.pearsonr(g["training_score"], y)
            row.update(r=float(res.statistic), p=float(res.pvalue),
                       rho=float(stats.spearmanr(g["training_score"], y).statistic))
            row["r_low"], row["r_high"] = fisher_interval(row["r"], n, level)
        elif n >= min_size:
            row["estimated"] = False  # constant scores or performance: r is undefined
        rows.append(row)
    out = pd.DataFrame(rows).sort_values(["training_end", "cohort_id"], kind="stable").reset_index(drop=True)
    est = out["p"].notna()
    out["p_adj"] = np.nan
    if est.any():
        out.loc[est, "p_adj"] = multipletests(out.loc[est, "p"], alpha=alpha, method=correction)[1]
    z = (np.arctanh(np.clip(out["r"], -0.999999, 0.999999)) - np.arctanh(r_threshold)) * np.sqrt(out["n"] - 3)
    out["p_weak"] = np.where(est, stats.norm.cdf(z), np.nan)  # H0: r >= threshold
    out["p_holds"] = np.where(est, stats.norm.sf(z), np.nan)  # H0: r <= threshold
    for col in ("p_weak", "p_holds"):
        out[f"{col}_adj"] = np.nan
        if est.any():
            out.loc[est, f"{col}_adj"] = multipletests(out.loc[est, col], alpha=alpha, method=correction)[1]
    weak = est & (out["p_weak_adj"] < alpha)
    holds = est & (out["p_holds_adj"] < alpha)
    out["label"] = np.select([~est, weak, holds], [NOT_ESTIMATED, WEAK, HOLDS], TOO_FEW)
    out["flagged"] = weak
    return out


def mixed_slope(joined: pd.DataFrame, alpha: float = 0.05) -> dict:
    """Change in the metric per 10 training points, cohort random intercept (MixedLM)."""
    import statsmodels.formula.api as smf

    data = joined[["performance", "training_score", "cohort_id"]].dropna()
    if len(data) < 10 or data["cohort_id"].nunique() < 2:
        return {"slope": np.nan, "low": np.nan, "high": np.nan, "p": np.nan, "model": "too few data"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the interval tells the story
        fit = smf.mixedlm("performance ~ training_score", data, groups=data["cohort_id"]).fit(reml=True)
    low, high = fit.conf_int(alpha=alpha).loc["training_score"]
    return {"slope": 10 * float(fit.params["training_score"]), "low": 10 * float(low), "high": 10 * float(high),
            "p": float(fit.pvalues["training_score"]), "model": "MixedLM, cohort random intercept"}


def compare_periods(cohorts: pd.DataFrame, change_date: pd.Timestamp, alpha: float = 0.05) -> dict:
    """Pooled r of cohorts that ended training before vs on/after ``change_date``, with a
    z-test of the difference of the pooled Fisher z values."""
    before = cohorts[cohorts["training_end"] < change_date]
    after = cohorts[cohorts["training_end"] >= change_date]
    b = pool_fisher(before["r"], before["n"], 1 - alpha)
    a = pool_fisher(after["r"], after["n"], 1 - alpha)
    if b["n"] and a["n"]:
        z = (a["z"] - b["z"]) / np.sqrt(a["se"] ** 2 + b["se"] ** 2)
        p = float(2 * stats.norm.sf(abs(z)))
    else:
        p = np.nan
    return {"before": b, "after": a, "p_difference": p,
            "cohorts_before": int(before["estimated"].sum()), "cohorts_after": int(after["estimated"].sum())}


@dataclass(frozen=True)
class TrainingResult:
    """Training score vs performance: per cohort, pooled, and before/after a change."""

    metric: str
    direction: int
    window: tuple[int, int]
    joined: pd.DataFrame
    cohorts: pd.DataFrame
    pooled: dict
    slope: dict
    periods: dict | None
    change_date: pd.Timestamp | None
    min_size: int
    r_threshold: float
    alpha: float
    correction: str
    names: Labels = field(default_factory=Labels)

    @property
    def label(self) -> str:
        """The metric as readers see it."""
        return metric_label(self.metric, self.names)

    def __repr__(self) -> str:
        return f"TrainingResult({self.caption()})"

    def caption(self) -> str:
        """What the table below covers, in words (the reviewer HTML shows it, not the repr)."""
        est = int(self.cohorts["estimated"].sum())
        span = f"{self.joined['training_end_date'].min():%Y-%m} to {self.joined['training_end_date'].max():%Y-%m}"
        return (f"{self.label} in months {self.window[0]}-{self.window[1]} after training: "
                f"{len(self.joined):,} trainees in {len(self.cohorts)} training classes ({est} estimated), "
                f"training ended {span}")

    @property
    def _oriented(self) -> str:
        return "" if self.direction > 0 else " (sign flipped: lower AHT is better)"

    def summary(self) -> pd.DataFrame:
        """Per-cohort table in time order, too-small cohorts included without estimates."""
        cols = ["cohort_id", "training_end", "n", "r", "r_low", "r_high", "rho", "p_adj", "p_weak_adj", "label",
                "estimated"]
        return self.cohorts[cols]

    def findings(self) -> TrainingFindings:
        """Headline numbers, typed (see :class:`TrainingFindings`)."""
        periods = self.periods or {}
        recs = self.cohorts.assign(training_end=self.cohorts["training_end"].dt.date)
        flagged = self.cohorts[self.cohorts["flagged"]]

        def pooled(p: dict | None) -> Estimate | None:
            return Estimate.of(p["r"], p["low"], p["high"], p["n"]) if p else None

        before = after = None
        if self.change_date is not None:
            before = int((flagged["training_end"] < self.change_date).sum())
            after = int((flagged["training_end"] >= self.change_date).sum())
        return TrainingFindings(
            metric=self.metric,
            metric_direction="higher is better" if self.direction > 0 else "lower is better (r sign flipped)",
            window_months=list(self.window), n_agents=int(len(self.joined)), n_cohorts=int(len(self.cohorts)),
            n_cohorts_estimated=int(self.cohorts["estimated"].sum()), pooled_r=pooled(self.pooled),
            heterogeneity_i2=to_jsonable(self.pooled.get("i2")),
            heterogeneity_tau=to_jsonable(float(np.sqrt(self.pooled["tau2"])) if np.isfinite(self.pooled["tau2"])
                                          else None),
            heterogeneity_p=to_jsonable(self.pooled.get("q_p")),
            slope_per_10_points=Estimate.of(self.slope["slope"], self.slope["low"], self.slope["high"],
                                            len(self.joined)),
            cohorts=to_jsonable(recs[["cohort_id", "training_end", "n", "r", "r_low", "r_high", "rho", "p_adj",
                                     "p_weak_adj", "label", "flagged", "estimated"]]),
            n_flagged=int(len(flagged)), n_too_few=int((self.cohorts["label"] == TOO_FEW).sum()),
            flag_rule=f"reliably weak: r below {self.r_threshold:g} by a one-sided Fisher-z test, {self.correction}-"
                      f"adjusted p < {self.alpha:g} across the classes; too few to tell: neither that nor a clear "
                      "positive link",
            process_change_date=self.change_date.date().isoformat() if self.change_date is not None else None,
            r_before=pooled(periods.get("before")), r_after=pooled(periods.get("after")),
            p_difference=periods.get("p_difference"), flagged_before=before, flagged_after=after,
            recent_flagged=[str(c) for c in flagged.tail(5)["cohort_id"]], alpha=self.alpha,
            labels=self.names.to_json())

    def headline(self):
        """Plain-language findings for the top of the rendered notebook (Markdown)."""
        from IPython.display import Markdown

        return Markdown(self.findings().narrative())

    def plot(self, ax=None, **kwargs):
        """Forest plot: r with its interval per cohort in time order, and the pooled r."""
        ax = new_axes(ax, figsize=(8, max(4, 0.24 * len(self.cohorts) + 1.5)))  # class names legible at 60+
        c = self.cohorts.reset_index(drop=True)
        y = np.arange(len(c))[::-1]
        est = c["estimated"].to_numpy()
        colour = np.select([c["label"] == WEAK, c["label"] == HOLDS], ["tab:orange", "tab:blue"], "0.55")
        for yi, row, col in zip(y[est], c[est].itertuples(), colour[est]):
            ax.plot([row.r_low, row.r_high], [yi, yi], color=col, lw=1.2)
        ax.scatter(c.loc[est, "r"], y[est], c=colour[est], s=14, zorder=3, **kwargs)
        if (~est).any():  # legend entries only for what is drawn
            ax.scatter(np.zeros((~est).sum()), y[~est], marker="x", color="0.6", s=14,
                       label=f"fewer than {self.min_size} trainees: not estimated")
        ax.axvline(0, color="0.3", lw=0.8)
        ax.axvline(self.pooled["r"], color="tab:green", ls="--", lw=1.2,
                   label=f"pooled r = {self.pooled['r']:.2f} (random effects)")
        ax.axvline(self.r_threshold, color="tab:orange", ls=":", lw=1,
                   label=f"weak-link threshold r = {self.r_threshold:g}")
        if self.change_date is not None:
            cut = (c["training_end"] >= self.change_date).to_numpy()
            if cut.any() and (~cut).any():
                ax.axhline(y[cut.argmax()] + 0.5, color="0.5", lw=0.8, ls=":")
                ax.text(-0.98, y[cut.argmax()] + 0.7, "process change",
                        fontsize="small", color="0.4", va="bottom")
        ax.set_yticks(y, c["cohort_id"], fontsize=8)
        ax.set_ylim(-0.7, len(c) - 0.3)
        ax.set_xlim(-1, 1)
        ax.set_xlabel(f"Pearson r, training score vs {self.label}{self._oriented} (95% CI)")
        for label, col in ((HOLDS, "tab:blue"), (WEAK, "tab:orange"), (TOO_FEW, "0.55")):
            if (c.loc[est, "label"] == label).any():
                ax.scatter([], [], color=col, s=14, label=label)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=3, fontsize="small", frameon=False)
        ax.set_title("Does training predict performance? One row per training class, oldest at the top")
        return ax

    def plot_periods(self, axes=None):
        """Scatter clouds of score vs performance before and after the process change."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True, sharey=True)
        if self.change_date is None:
            parts = [("all classes", self.joined)]
        else:
            before = self.joined["training_end_date"] < self.change_date
            parts = [(f"before {self.change_date:%Y-%m-%d}", self.joined[before]),
                     (f"after {self.change_date:%Y-%m-%d}", self.joined[~before])]
        for ax, (title, part) in zip(np.atleast_1d(axes), parts):
            if len(part) > 2:
                sns.regplot(data=part, x="training_score", y="performance", ax=ax, scatter_kws={"s": 6, "alpha": 0.4},
                            line_kws={"color": "tab:red"}, seed=0)  # the same band on every rerun
                r = stats.pearsonr(part["training_score"], part["performance"]).statistic
                ax.set_title(f"{title}: n = {len(part):,}, r = {self.direction * r:.2f}")
            ax.set_xlabel("training score")
            ax.set_ylabel(f"{self.label}, months {self.window[0]}-{self.window[1]}")
            if self.metric in SHARE_METRICS:
                percent_axis(ax.yaxis)
        return axes

    def outliers(self, n: int = 10) -> pd.DataFrame:
        """The trainees whose performance is furthest from what their class's score line
        predicts, by pseudonym (never an agent ID or name): coaching candidates, or scores
        to re-examine. Only classes large enough to estimate are used; ``z`` is the
        residual in units of the class's residual spread."""
        from ccinsight.privacy import pseudonymise

        rows = []
        estimated = set(self.cohorts.loc[self.cohorts["estimated"], "cohort_id"])
        for cohort, g in self.joined[self.joined["cohort_id"].isin(estimated)].groupby("cohort_id"):
            if g["training_score"].nunique() < 2:
                continue
            slope, intercept = np.polyfit(g["training_score"], g["performance"], 1)
            expected = intercept + slope * g["training_score"]
            resid = g["performance"] - expected
            sd = resid.std(ddof=2)
            if sd > 0:
                rows.append(g.assign(expected=expected, z=resid / sd))
        if not rows:
            return pd.DataFrame(columns=["agent", "cohort_id", "training_score", "performance", "expected", "z"])
        out = pd.concat(rows)
        out = out.loc[out["z"].abs().sort_values(ascending=False, kind="stable").index[:n]]
        out = out.assign(agent=pseudonymise(out["agent_id"]),
                         reading=np.where(self.direction * out["z"] > 0, "better than the score predicts",
                                          "worse than the score predicts"))
        return out[["agent", "cohort_id", "training_score", "performance", "expected", "z", "reading"]] \
            .reset_index(drop=True)

    def outliers_table(self, n: int = 10):
        """:meth:`outliers` as a reviewer reads them: labelled columns, rounded, shares as percentages."""
        from ccinsight.tables import shown

        table = self.outliers(n)
        share = self.metric in SHARE_METRICS
        label = self.label
        return shown(
            table, empty="No training class is large enough to say whom the score misjudged.", units={"performance": "share", "expected": "share"} if share else {}, decimals=1,
            labels={"agent": "trainee (pseudonym)", "cohort_id": "training class", "training_score": "training score",
                    "performance": f"{label}, months {self.window[0]}-{self.window[1]}",
                    "expected": "expected from the class's score line",
                    "z": "distance from the line (residual SDs)", "reading": "reading"})

    def _repr_html_(self) -> str:
        from ccinsight.tables import reviewer_html

        return f"<p>{html.escape(self.caption())}</p>" + reviewer_html(
            self.summary(), intervals={"r": ("r_low", "r_high")}, decimals=2,
            labels={"cohort_id": "training class", "training_end": "training ended", "n": "trainees",
                    "r": "Pearson r (95% CI)", "rho": "Spearman rho", "p_adj": f"p, r = 0 ({self.correction})",
                    "p_weak_adj": f"p, r < {self.r_threshold:g} ({self.correction})", "label": "link",
                    "estimated": "enough trainees"}, units={"p_adj": "p", "p_weak_adj": "p"})


def analyse(ds: Dataset, metric: str = "conversion_rate", window: tuple[int, int] = (2, 3), min_size: int = 8,
            r_threshold: float = 0.3, process_change_date: str | None = None, alpha: float = 0.05,
            correction: str = "holm", min_cell_size: int = MIN_CELL_SIZE) -> TrainingResult:
    """Relate training scores to performance after going live, per training cohort.

    Parameters
    ----------
    ds
        Loaded data with the ``training`` and ``performance`` tables.
    metric
        Performance metric (see :data:`METRICS`); for ``aht_s`` lower is better and r's
        sign is flipped so a positive r always means better trainees perform better.
    window
        Months after the training-end month whose mean performance counts.
    min_size, min_cell_size
        Cohorts with fewer trainees in the window than the larger of the two are reported,
        not estimated (and none of their trainees is listed by pseudonym).
    r_threshold
        Cohorts with r below this are flagged as not predicting.
    process_change_date
        ISO date of a recruiting/training change; None skips the before/after comparison.
    alpha, correction
        Significance level and multiple-testing method (statsmodels ``multipletests``).
    """
    direction = check_metric(metric)
    min_size = max(min_size, min_cell_size)
    joined = window_performance(ds["training"], ds["performance"], metric, tuple(window))
    cohorts = cohort_correlations(joined, direction, min_size, r_threshold, alpha, correction)
    pooled = pool_fisher(cohorts["r"], cohorts["n"], 1 - alpha)
    slope = mixed_slope(joined, alpha)
    try:
        change = pd.Timestamp(process_change_date) if process_change_date else None
    except ValueError:
        raise ParameterError(f"process_change_date {process_change_date!r} is not a date (expected "
                             "YYYY-MM-DD).") from None
    periods = compare_periods(cohorts, change, alpha) if change is not None else None
    if periods is not None and not (periods["before"]["n"] and periods["after"]["n"]):
        side = "before" if not periods["before"]["n"] else "after"
        raise DataError(f"No training class with enough trainees ended {side} the process change date "
                        f"{change.date()}; choose a date inside {joined['training_end_date'].min().date()}.."
                        f"{joined['training_end_date'].max().date()} or set process_change_date to None.")
    return TrainingResult(metric, direction, tuple(window), joined, cohorts, pooled, slope, periods, change,
                          min_size, r_threshold, alpha, correction, ds.labels)


ANALYSIS = Analysis(
    name="training_vs_performance", title="Does training predict performance?",
    question="Does the training score predict performance on the floor, per training class, and did a "
             "process change go with a stronger link?",
    findings=TrainingFindings, tables=("agents", "training", "performance"))
