"""Hiring-channel quality: who stays, certifies and performs, by channel.

Bulk hiring drives (:mod:`ccinsight.bursts`) are judged as drives, apart from the
channel's normal hiring; survival comes from :mod:`ccinsight.survival`, early
performance from :mod:`ccinsight.performance`.

Backs ``notebooks/hiring_channel_quality.ipynb``.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ccinsight import period as period_mod
from ccinsight import wording
from ccinsight.analysis import Analysis
from ccinsight.bursts import burst_members, find_bursts
from ccinsight.config import MIN_CELL_SIZE
from ccinsight.errors import DataError
from ccinsight.findings import Estimate, Findings, fact, to_jsonable
from ccinsight.findings import markdown_text as md
from ccinsight.labels import Labels
from ccinsight.plotting import error_extent, new_axes, percent_axis
from ccinsight.performance import check_metric, metric_label, metric_unit, window_performance
from ccinsight.privacy import OTHER, pool_small, suppress_small
from ccinsight.stats import mean_interval, wilson
from ccinsight.survival import (fit_km, fixed_time_test, greenwood_var, retention_at, survival_at,
                                survival_table)


@dataclass(frozen=True)
class ChannelFindings(Findings):
    """Hiring-channel quality for the hires of one window, as of the month's end."""

    as_of: str = fact("the analysis date: the last day of the analysis month (tenure-only data: the date the "
                      "export was taken)", "date")
    calendar: bool = fact("false for tenure-only data: every hire is taken, no window, follow-up filter or "
                          "drive", "flag")
    window_start: str | None = fact("first hire date considered (null: no calendar)", "date")
    window_end: str | None = fact("last hire date considered, follow_up_days before as_of (null: no calendar)",
                                  "date")
    first_hire: str | None = fact("first hire date in the window (null: no calendar)", "date")
    last_hire: str | None = fact("last hire date in the window (null: no calendar)", "date")
    follow_up_days: int | None = fact("every hire in the window was hired at least this long before as_of "
                                      "(null: no calendar)", "days")
    n_hires: int = fact("hires in the window, bulk drives included", "count")
    n_drive_hires: int = fact("of them, hires in bulk drives: judged as drives, not in the channel rows", "count")
    overall_retention_90d: Estimate = fact("share of normal hires (outside bulk drives) still here at day 90",
                                           "share")
    channels: list = fact("per channel, its normal hires (outside bulk drives): hiring_channel, hires, "
                          "retention_90d, low, high, retention_90d_p_adj (against the other channels at day 90, "
                          "Holm), retention_90d_shrunk, cert_pass_rate, cert_low, cert_high, cert_p_adj, "
                          "perf_mean, perf_low, perf_high, days_to_certification, cost_per_retained_hire, "
                          "verdict", "records")
    stand_out_rule: str = fact("when a channel is named as keeping more or fewer hires than the rest", "text")
    best_channel: str | None = fact("the one channel that keeps more hires to day 90 than the rest by the rule "
                                    "(null: none, or more than one)", "text")
    worst_channel: str | None = fact("the one channel that keeps fewer hires to day 90 than the rest, or "
                                     "certifies fewer, by the rule (null: none, or more than one)", "text")
    channels_differ_p: float | None = fact("log-rank test of equal survival across channels over the whole "
                                           "follow-up (normal hires)", "p")
    pooled_channels: list = fact("channels under min_cell_size hires pooled as 'other'", "list")
    bursts: list = fact("bulk hiring drives: channel, start, end, hires, retention_60d, retention_90d, "
                        "channel_normal_retention_60d, channel_normal_retention_90d", "records")
    alpha: float = fact("significance level", "number")
    notes: list = fact("what was left out and why", "list")

    def headlines(self) -> list[str]:
        o = self.overall_retention_90d
        who = (f"hired {self.first_hire} to {self.last_hire}, each followed at least {self.follow_up_days} days to "
               f"{self.as_of}" if self.calendar else f"tenure as of {self.as_of}; the data have no hire dates")
        lines = [f"{wording.count(self.n_hires)} hires in {len(self.channels)} channels ({who}); outside bulk "
                 f"drives, {o.text('share')} are still here at day 90."]
        if len(self.channels) >= 2:
            above = [self._channel(c["hiring_channel"]) for c in self.channels if c["verdict"] == ABOVE]
            below = [self._channel(c["hiring_channel"]) for c in self.channels if c["verdict"] == BELOW]
            if not above and not below:
                lines.append("No channel stands out: none keeps clearly more or fewer hires to day 90 than the "
                             "others, or certifies clearly fewer (each channel against the rest, Holm-adjusted). "
                             "That is not proof they are equal: small channels have wide intervals.")
            if above:
                lines.append(f"Keeps more hires to day 90 than the other channels: {', '.join(above)}.")
            if below:
                lines.append(f"Keeps fewer hires to day 90, or certifies fewer, than the other channels: "
                             f"{', '.join(below)}.")
        for c in self.channels:
            lines.append(f"{self._channel(c['hiring_channel'])}: {wording.estimate(c['retention_90d'], c['low'], c['high'], 'share')} "
                         f"still here at day 90, n = {wording.count(c['hires'])} ({c['verdict']}).")
        for b in self.bursts:
            lines.append(f"Bulk drive ({self._channel(b['channel'])}, {wording.count(b['hires'])} hires from {b['start']} to "
                         f"{b['end']}), judged as a drive: {wording.share(b['retention_60d'])} still here after "
                         f"60 days, against {wording.share(b['channel_normal_retention_60d'])} of the channel's "
                         "normal hires.")
        return lines

    def attention(self) -> list[tuple[str, str]]:
        below = [c for c in self.channels if c["verdict"] == BELOW]
        return [("action", f"{self._channel(c['hiring_channel'])} keeps fewer hires to day 90, or certifies fewer, "
                           f"than the other channels ({wording.share(c['retention_90d'])} still here at day 90, "
                           f"n = {wording.count(c['hires'])}): review what it recruits before hiring more through it.")
                for c in below]

    def rule(self) -> str | None:
        return f"How a channel is named: {self.stand_out_rule}" if len(self.channels) >= 2 else None

    def _channel(self, channel: str) -> str:
        return self.names.value("hiring_channel", channel)

    def details(self) -> list[str]:
        lines = []
        if self.pooled_channels:
            lines.append(f"- Channels with fewer than the minimum number of hires are pooled as '{OTHER}': "
                         f"{md(', '.join(map(self._channel, self.pooled_channels)))}.")
        if len(self.channels) < 2:
            lines.append("- All hires came through one channel: there is nothing to compare.")
        else:
            lines.append(f"- How a channel is named: {md(self.stand_out_rule)}")
            differ = ("differ" if self.channels_differ_p is not None and self.channels_differ_p < self.alpha
                      else "cannot be told apart")
            lines.append(f"- Over the whole follow-up (not only the first 90 days) the channels' survival curves "
                         f"{differ} (log-rank, {wording.p_value(self.channels_differ_p)}).")
        lines.append("\nJudge channels by who stays, certifies and performs, not by how many they deliver.")
        return lines + [f"\n*{md(n)}*" for n in self.notes]


# --------------------------------------------------------------------------- channel quality
def beta_binomial_prior(successes: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Method-of-moments Beta(a, b) prior for group rates (empirical Bayes).

    The spread of the observed rates beyond what binomial noise explains sets the prior's
    strength; when there is no excess spread the prior is (nearly) a point mass and every
    group shrinks to the pooled rate.
    """
    successes, n = np.asarray(successes, float), np.asarray(n, float)
    mu = successes.sum() / n.sum()
    rates = successes / n
    between = np.sum(n * (rates - mu) ** 2) / n.sum()  # weighted variance of the rates
    noise = mu * (1 - mu) * np.mean(1 / n)
    tau2 = max(between - noise, 1e-9)
    strength = max(mu * (1 - mu) / tau2 - 1, 1e-6)
    return mu * strength, (1 - mu) * strength


def shrink(successes: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Posterior mean rates under the fitted beta-binomial prior."""
    a, b = beta_binomial_prior(successes, n)
    return (np.asarray(successes, float) + a) / (np.asarray(n, float) + a + b)


ABOVE, BELOW, NO_CLEAR = "keeps more than the rest", "keeps or certifies fewer than the rest", "no clear difference"
STAND_OUT_RULE = ("each channel's normal hires against all other channels' normal hires: 90-day retention by the "
                  "Kaplan-Meier fixed-time test (log-log), certification by a two-proportion z-test; p-values "
                  "Holm-adjusted across the channels (each test separately); a channel is named when its adjusted "
                  "p < {alpha:g}, and 'best' or 'worst' only when it is the one channel so named.")


def verdict(retention_diff: float, retention_p_adj: float, cert_diff: float, cert_p_adj: float,
            alpha: float) -> str:
    """The channel verdict rule (:data:`STAND_OUT_RULE`): below the rest when its 90-day
    retention or certification is lower than the other channels' with Holm-adjusted
    p < alpha; above when its retention is higher (and certification not lower); else no
    clear difference (which is not evidence of no difference)."""
    def clear(p):
        return p is not None and np.isfinite(p) and p < alpha

    if (clear(retention_p_adj) and retention_diff < 0) or (clear(cert_p_adj) and cert_diff < 0):
        return BELOW
    if clear(retention_p_adj) and retention_diff > 0:
        return ABOVE
    return NO_CLEAR


def against_the_rest(table: pd.DataFrame, horizon: float, alpha: float) -> pd.DataFrame:
    """Per channel: S(horizon) and certification rate minus the other channels', with
    Holm-adjusted p-values across channels (the fixed-time test of
    :func:`ccinsight.survival.fixed_time_test`; statsmodels' two-proportion z-test and
    multipletests)."""
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportions_ztest

    rows = []
    for channel in sorted(table["hiring_channel"].unique()):
        inside = (table["hiring_channel"] == channel).to_numpy()
        a, b = table[inside], table[~inside]
        ka, kb = fit_km(a["duration_days"], a["event"], "a", alpha), fit_km(b["duration_days"], b["event"], "b", alpha)
        sa, sb = survival_at(ka, horizon), survival_at(kb, horizon)
        row = {"hiring_channel": channel, "retention_diff": sa - sb, "retention_p": fixed_time_test(ka, kb, horizon),
               "cert_diff": np.nan, "cert_p": np.nan}
        if "certified" in table:
            ea, eb = a["certified"].dropna().astype(float), b["certified"].dropna().astype(float)
            if len(ea) and len(eb) and 0 < (ea.sum() + eb.sum()) < len(ea) + len(eb):
                row["cert_diff"] = ea.mean() - eb.mean()
                row["cert_p"] = float(proportions_ztest([ea.sum(), eb.sum()], [len(ea), len(eb)])[1])
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("retention", "cert"):
        known = out[f"{col}_p"].notna()
        out[f"{col}_p_adj"] = np.nan
        if known.any():
            out.loc[known, f"{col}_p_adj"] = multipletests(out.loc[known, f"{col}_p"], method="holm")[1]
    return out


@dataclass(frozen=True)
class ChannelResult:
    """Hiring-channel quality for one window of hires."""

    table: pd.DataFrame
    bursts: pd.DataFrame
    differ_p: float
    pooled: tuple[str, ...]
    window: tuple[pd.Timestamp | None, pd.Timestamp | None]  # hire dates considered (None: no calendar)
    hired: tuple[pd.Timestamp, pd.Timestamp]  # first and last hire actually in it
    as_of: pd.Timestamp
    n_hires: int
    n_drive_hires: int
    overall_retention: dict  # hires outside bulk drives: retention, low, high, n
    notes: tuple[str, ...]
    alpha: float
    calendar: bool = True
    names: Labels = field(default_factory=Labels)
    metric: str = "conversion_rate"  # the early performance metric

    def __repr__(self) -> str:
        return f"ChannelResult({self.caption()})"

    def caption(self) -> str:
        """What the table below covers, in words (the reviewer HTML shows it, not the repr)."""
        hired = f"hired {self.hired[0].date()} to {self.hired[1].date()}" if self.calendar else "tenure-only data"
        return f"{self.n_hires:,} hires in {len(self.table)} channels, {hired}, as of {self.as_of.date()}"

    def summary(self) -> pd.DataFrame:
        return self.table

    @property
    def ranked(self) -> pd.DataFrame:
        return self.table.sort_values("retention_90d_shrunk", ascending=False, kind="stable")

    def findings(self) -> ChannelFindings:
        """Headline numbers, typed (see :class:`ChannelFindings`)."""
        cols = ["hiring_channel", "hires", "retention_90d", "low", "high", "retention_90d_p_adj",
                "retention_90d_shrunk", "cert_pass_rate", "cert_low", "cert_high", "cert_p_adj", "perf_mean",
                "perf_low", "perf_high", "days_to_certification", "cost_per_retained_hire", "verdict"]
        ranked = self.ranked.rename(columns={"retention_p_adj": "retention_90d_p_adj"})
        o = self.overall_retention
        dated = self.calendar

        def day(t):
            return t.date().isoformat() if dated and t is not None else None

        above = ranked.loc[ranked["verdict"] == ABOVE, "hiring_channel"].tolist()
        below = ranked.loc[ranked["verdict"] == BELOW, "hiring_channel"].tolist()
        return ChannelFindings(
            as_of=self.as_of.date().isoformat(), calendar=dated, window_start=day(self.window[0]),
            window_end=day(self.window[1]), first_hire=day(self.hired[0]), last_hire=day(self.hired[1]),
            follow_up_days=int((self.as_of - self.window[1]).days) if dated else None,
            n_hires=self.n_hires, n_drive_hires=self.n_drive_hires,
            overall_retention_90d=Estimate.of(o["retention"], o["low"], o["high"], o["n"]),
            channels=to_jsonable(ranked[[c for c in cols if c in ranked]]),
            stand_out_rule=STAND_OUT_RULE.format(alpha=self.alpha),
            best_channel=above[0] if len(above) == 1 else None, worst_channel=below[0] if len(below) == 1 else None,
            channels_differ_p=to_jsonable(self.differ_p),
            pooled_channels=list(self.pooled), bursts=to_jsonable(self.bursts), alpha=self.alpha,
            notes=list(self.notes), labels=self.names.to_json())

    def headline(self):
        from IPython.display import Markdown

        return Markdown(self.findings().narrative())

    def plot(self, ax=None, **kwargs):
        """One page for a recruiting manager: retention vs early performance per channel."""
        ax = new_axes(ax, figsize=(8, 5))
        t = self.table
        colours = {ABOVE: "tab:green", NO_CLEAR: "0.5", BELOW: "tab:red"}
        has_perf = t["perf_mean"].notna().any()
        y = t["perf_mean"] if has_perf else pd.Series(np.arange(len(t)), index=t.index)
        names = []
        for row, yy in zip(t.itertuples(), y):
            c = colours.get(row.verdict, "0.5")
            ax.errorbar(row.retention_90d, yy, xerr=error_extent(row.retention_90d, row.low, row.high),
                        yerr=error_extent(yy, row.perf_low, row.perf_high) if has_perf and np.isfinite(row.perf_low)
                        else None, fmt="o", color=c, capsize=3, **kwargs)
            names.append(ax.text(row.retention_90d, yy, f"{self.names.value('hiring_channel', row.hiring_channel)} "
                                 f"(n = {row.hires:,})", fontsize="small"))
        ax.axvline(self.overall_retention["retention"], color="0.4", ls="--", lw=1)
        if len(names) > 1:  # move the names apart until none overlaps another
            from adjustText import adjust_text

            # at most 100 rounds: where names cannot all clear the error bars it otherwise runs
            # about 1,500 (1 s a chart) and places them no better than at 100 or 300
            adjust_text(names, ax=ax, iter_lim=100, arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.5})
        ax.set_xlabel("still here at day 90 (95% CI)")
        ax.set_ylabel(f"early {metric_label(self.metric, self.names)}, months 2-3 (95% CI)" if has_perf else "")
        percent_axis(ax.xaxis)
        if has_perf and metric_unit(self.metric) == "share":
            percent_axis(ax.yaxis)
        for name, c in colours.items():
            if (t["verdict"] == name).any():  # legend entries only for what is drawn
                ax.scatter([], [], color=c, label=name)
        ax.legend(title="against the other channels (Holm)", frameon=False, fontsize="small", loc="best")
        ax.set_title("Which channels bring people who stay and perform?")
        return ax

    def plot_shrinkage(self, ax=None, **kwargs):
        """Raw vs shrunk 90-day retention: small channels move most towards the overall."""
        ax = new_axes(ax, figsize=(8, 0.4 * len(self.table) + 1.5))
        t = self.ranked.reset_index(drop=True)
        yy = np.arange(len(t))[::-1]
        ax.scatter(t["retention_90d"], yy, label="observed", **kwargs)
        ax.scatter(t["retention_90d_shrunk"], yy, marker="D", label="shrunk (empirical Bayes)")
        for y0, row in zip(yy, t.itertuples()):
            ax.plot([row.retention_90d, row.retention_90d_shrunk], [y0, y0], color="0.6", lw=1)
        ax.axvline(self.overall_retention["retention"], color="0.4", ls="--", lw=1, label="overall")
        ax.set_yticks(yy, [f"{self.names.value('hiring_channel', c)} (n = {n:,})"
                           for c, n in zip(t["hiring_channel"], t["hires"])])
        ax.set_xlabel("still here at day 90")
        percent_axis(ax.xaxis)
        ax.legend(frameon=False, fontsize="small")
        ax.set_title("Ranking honest about sample size")
        return ax

    def bursts_table(self):
        """The bulk hiring drives as a reviewer reads them (shares as percentages)."""
        from ccinsight.tables import shown

        shares = {"retention_60d", "retention_90d", "channel_normal_retention_60d", "channel_normal_retention_90d"}
        bursts = self.bursts.assign(channel=[self.names.value("hiring_channel", c) for c in self.bursts["channel"]])
        return shown(bursts, empty="No bulk hiring drive in the window." if self.calendar else
                     "Bulk drives need hire dates, which these data do not have.",
                     units=dict.fromkeys(shares, "share"), decimals=1, labels={
            "channel": "channel", "start": "first hire", "end": "last hire", "hires": "hires",
            "retention_60d": "drive: still here at day 60", "retention_90d": "drive: still here at day 90",
            "channel_normal_retention_60d": "channel's normal hires: day 60",
            "channel_normal_retention_90d": "channel's normal hires: day 90"})

    def _repr_html_(self) -> str:
        from ccinsight.tables import reviewer_html

        return f"<p>{html.escape(self.caption())}</p>" + reviewer_html(
            self.ranked.drop(columns=["retention_diff", "retention_p", "cert_diff", "cert_p"], errors="ignore")
            .assign(hiring_channel=lambda t: [self.names.value("hiring_channel", c) for c in t["hiring_channel"]]),
            intervals={"retention_90d": ("low", "high"), "cert_pass_rate": ("cert_low", "cert_high"),
                       "perf_mean": ("perf_low", "perf_high")},
            units={"retention_90d": "share", "cert_pass_rate": "share", "retention_90d_shrunk": "share",
                   "retention_p_adj": "p", "cert_p_adj": "p", "days_to_certification": "days",
                   "cost_per_retained_hire": "money", "perf_mean": metric_unit(self.metric)},
            currency=self.names.currency,
            labels={"hiring_channel": "channel", "retention_90d": "still here at day 90 (95% CI)",
                    "cert_pass_rate": "certified (95% CI)", "perf_mean": f"early {metric_label(self.metric, self.names)}, months 2-3",
                    "retention_90d_shrunk": "day-90 retention, shrunk for ranking",
                    "retention_p_adj": "day 90 vs the rest (p, Holm)", "cert_p_adj": "certified vs the rest (p, Holm)",
                    "verdict": "against the other channels",
                    "days_to_certification": "median days to certification", "examined": "certification results",
                    "perf_n": "with performance", "cost_per_retained_hire": "cost per retained hire"}, decimals=2)


def analyse(ds, window_months: int = 12, follow_up_days: int = 60, metric: str = "conversion_rate",
            min_cell_size: int = MIN_CELL_SIZE, alpha: float = 0.05) -> ChannelResult:
    """Hiring-channel quality: retention, certification, early performance, cost, bursts.

    Parameters
    ----------
    ds
        Loaded data: ``agents`` (required), ``training`` and ``performance`` (for early
        performance), ``channels`` (optional, for cost per retained hire); its analysis
        month sets ``as_of``, the month's last day.
    window_months, follow_up_days
        Hires of the ``window_months`` months ending ``follow_up_days`` before ``as_of``.
        Tenure-only data (``ds.calendar`` False) have no hire dates: every hire is taken
        and both are ignored (a filter on made-up hire dates would select on tenure).
    metric
        Performance metric averaged over months 2-3 after training.
    min_cell_size
        Channels with fewer hires are pooled into "other" in every table and figure.

    Bulk hiring drives are found and judged as drives; each channel row is its normal
    hiring, so one failed drive does not condemn the channel (nor hide a bad one).
    """
    from lifelines.statistics import multivariate_logrank_test

    agents = ds["agents"]
    if "hiring_channel" not in agents or agents["hiring_channel"].isna().all():
        raise DataError("agents: there is no hiring_channel column (or it is empty), so channels cannot be compared; "
                        "map the recruitment source to hiring_channel.")
    check_metric(metric)
    as_of_ts = ds.as_of
    notes = []
    table = survival_table(agents, as_of_ts, None)
    if ds.calendar:
        end = as_of_ts - pd.Timedelta(days=follow_up_days)
        start = period_mod.window_start(end, window_months)
        table = table[(table["hire_date"] >= start) & (table["hire_date"] <= end)].copy()
        if table.empty:
            raise DataError(f"No hires between {start.date()} and {end.date()}: nothing to compare.")
    else:
        start = end = None
        notes.append("The data give tenure and a left flag, not dates: every hire in the export is compared (no "
                     "hire-date window or follow-up filter), and bulk drives cannot be found.")
    table["hiring_channel"], pooled = pool_small(table["hiring_channel"].fillna("unknown").astype(str), min_cell_size)
    perf = None
    if "training" in ds and "performance" in ds:
        try:
            perf = window_performance(ds["training"], ds["performance"], metric, (2, 3))
        except DataError as err:
            notes.append(f"Early performance left out: {err}")
    else:
        notes.append("Early performance left out: no training or performance table.")
    certs = "certified" in table and table["certified"].notna().any()
    if not certs:
        notes.append("Certification columns left out: no certification results in the data.")
    costs = ds["channels"].set_index("hiring_channel")["cost_per_hire"] if "channels" in ds else None
    # drives are judged as drives; channels on their normal hiring
    found = find_bursts(table) if ds.calendar else []
    in_burst = table["agent_id"].astype(str).isin(burst_members(found))
    regular = table[~in_burst]
    if regular.empty:
        raise DataError("Every hire in the window came in a bulk hiring drive: there is no normal hiring to "
                        "compare channels on.")
    rows = []
    for channel, g in regular.groupby("hiring_channel", sort=True):
        kmf = fit_km(g["duration_days"], g["event"], channel, alpha)
        r90 = retention_at(kmf, 90)
        row = {"hiring_channel": channel, "hires": len(g), "retention_90d": r90["retention"],
               "low": r90["low"], "high": r90["high"]}
        var = greenwood_var(kmf, 90)
        s = row["retention_90d"]
        row["_n_eff"] = s * (1 - s) / var if var > 0 else float(len(g))
        if certs:
            ex = g["certified"].dropna().astype(float)
            if len(ex):
                (lo,), (hi,) = wilson([ex.sum()], [len(ex)], alpha)
                row.update(cert_pass_rate=float(ex.mean()), cert_low=float(lo), cert_high=float(hi), examined=len(ex))
            done = g[g["certified"].fillna(False).astype(bool)]
            took = (done["certification_date"] - done["hire_date"]).dt.days.dropna() \
                if "certification_date" in g and ds.calendar else pd.Series(dtype=float)
            if len(took):
                row["days_to_certification"] = float(took.median())
        if perf is not None:
            vals = perf[perf["agent_id"].isin(g["agent_id"])]["performance"]
            row["perf_mean"], row["perf_low"], row["perf_high"] = mean_interval(vals, alpha)
            row["perf_n"] = int(vals.notna().sum())
        if costs is not None and channel in costs.index and row["retention_90d"] > 0:
            row["cost_per_retained_hire"] = float(costs[channel]) / row["retention_90d"]
        rows.append(row)
    out, hidden = suppress_small(pd.DataFrame(rows), "hires", min_cell_size)  # "other" can stay too small
    if hidden:
        notes.append(f"{hidden} hire(s) in channels too small to show even when pooled "
                     "are left out of the channel table and figures (they count in the totals).")
    for col in ("cert_pass_rate", "cert_low", "cert_high", "perf_mean", "perf_low", "perf_high",
                "cost_per_retained_hire", "days_to_certification"):
        if col not in out:
            out[col] = np.nan
    overall_kmf = fit_km(regular["duration_days"], regular["event"], "all", alpha)
    overall_ci = {**retention_at(overall_kmf, 90), "n": int(len(regular))}
    n_eff = out["_n_eff"].clip(lower=1).to_numpy()
    out["retention_90d_shrunk"] = shrink(out["retention_90d"].to_numpy() * n_eff, n_eff) if len(out) > 1 else \
        out["retention_90d"]
    compared = regular[regular["hiring_channel"].isin(out["hiring_channel"])]
    if len(out) >= 2:
        tests = against_the_rest(compared, 90, alpha).set_index("hiring_channel")
        out = out.join(tests, on="hiring_channel")
        out["verdict"] = [verdict(r.retention_diff, r.retention_p_adj, r.cert_diff, r.cert_p_adj, alpha)
                          for r in out.itertuples()]
        differ_p = float(multivariate_logrank_test(compared["duration_days"], compared["hiring_channel"],
                                                   compared["event"]).p_value)
    else:
        out = out.assign(retention_p_adj=np.nan, cert_p_adj=np.nan, verdict=NO_CLEAR)
        differ_p = np.nan
        notes.append("All hires came through one channel: ranking skipped.")
    burst_rows = []
    for b in found:
        inside = table["agent_id"].astype(str).isin(b.agent_ids)
        drive = table[inside]
        normal = regular[regular["hiring_channel"] == b.channel]
        k_b = fit_km(drive["duration_days"], drive["event"], "drive", alpha)
        k_n = fit_km(normal["duration_days"], normal["event"], "n", alpha) if len(normal) >= min_cell_size else None
        burst_rows.append({"channel": b.channel, "start": b.start.date(), "end": b.end.date(), "hires": b.hires,
                           "retention_60d": survival_at(k_b, 60), "retention_90d": survival_at(k_b, 90),
                           "channel_normal_retention_60d": survival_at(k_n, 60) if k_n else np.nan,
                           "channel_normal_retention_90d": survival_at(k_n, 90) if k_n else np.nan})
    bursts = pd.DataFrame(burst_rows, columns=["channel", "start", "end", "hires", "retention_60d", "retention_90d",
                                               "channel_normal_retention_60d", "channel_normal_retention_90d"])
    hired = (table["hire_date"].min(), table["hire_date"].max())
    return ChannelResult(table=out.drop(columns=["_n_eff"]), bursts=bursts, differ_p=differ_p, pooled=tuple(pooled),
                         window=(start, end), hired=hired, as_of=as_of_ts, n_hires=len(table),
                         n_drive_hires=int(in_burst.sum()), overall_retention=overall_ci, notes=tuple(notes),
                         alpha=alpha, calendar=ds.calendar, names=ds.labels, metric=metric)


ANALYSIS = Analysis(
    name="hiring_channel_quality", title="Which hiring channels bring people who stay?",
    question="Which hiring channels bring people who stay, certify and perform; which bulk drives failed?",
    findings=ChannelFindings, tables=("agents",), optional_tables=("training", "performance", "channels"))
