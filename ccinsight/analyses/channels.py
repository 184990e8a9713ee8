"""Hiring-channel quality: who stays, certifies and performs, by channel.

Bulk hiring drives (:mod:`ccinsight.bursts`) are judged as drives, apart from the
channel's normal hiring; survival comes from :mod:`ccinsight.survival`, early
performance from :mod:`ccinsight.performance`.

Backs ``notebooks/hiring_channel_quality.ipynb``.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

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
from ccinsight.plotting import new_axes
from ccinsight.performance import check_metric, window_performance
from ccinsight.privacy import OTHER, pool_small, suppress_small
from ccinsight.stats import mean_interval, wilson
from ccinsight.survival import fit_km, greenwood_var, retention_at, survival_at, survival_table


@dataclass(frozen=True)
class ChannelFindings(Findings):
    """Hiring-channel quality for the hires of one window, as of the month's end."""

    as_of: str = fact("the analysis date: the last day of the analysis month", "date")
    window_start: str = fact("first hire date considered", "date")
    window_end: str = fact("last hire date considered (follow_up_days before as_of)", "date")
    first_hire: str = fact("first hire date in the window", "date")
    last_hire: str = fact("last hire date in the window", "date")
    follow_up_days: int = fact("every hire in the window was hired at least this long before as_of", "days")
    n_hires: int = fact("hires in the window", "count")
    overall_retention_90d: Estimate = fact("share of normal hires (outside bulk drives) still here at day 90",
                                           "share")
    channels: list = fact("per channel: hiring_channel, hires, retention_90d, low, high, retention_90d_shrunk, "
                          "cert_pass_rate, cert_low, cert_high, perf_mean, perf_low, perf_high, "
                          "days_to_certification, cost_per_retained_hire, verdict", "records")
    channels_differ_p: float | None = fact("log-rank test of equal survival across channels (whole follow-up)",
                                           "p")
    pooled_channels: list = fact("channels under min_cell_size hires pooled as 'other'", "list")
    bursts: list = fact("bulk hiring drives: channel, start, end, hires, retention_60d, "
                        "channel_normal_retention_60d", "records")
    alpha: float = fact("significance level", "number")
    notes: list = fact("what was left out and why", "list")

    def headlines(self) -> list[str]:
        o = self.overall_retention_90d
        lines = [f"{wording.count(self.n_hires)} hires in {len(self.channels)} channels (hired {self.first_hire} to "
                 f"{self.last_hire}, each followed at least {self.follow_up_days} days to {self.as_of}); outside bulk "
                 f"drives, {o.text('share')} are still here at day 90."]
        for c in self.channels:
            lines.append(f"{c['hiring_channel']}: {wording.estimate(c['retention_90d'], c['low'], c['high'], 'share')} "
                         f"still here at day 90, n = {wording.count(c['hires'])}: {c['verdict']}.")
        if len(self.channels) >= 2:
            differ = ("Channels differ" if self.channels_differ_p is not None and self.channels_differ_p < self.alpha
                      else "The data cannot tell the channels apart")
            lines.append(f"{differ} in how long their hires stay (log-rank over the whole follow-up, "
                         f"{wording.p_value(self.channels_differ_p)}).")
        for b in self.bursts:
            lines.append(f"Bulk drive ({b['channel']}, {wording.count(b['hires'])} hires from {b['start']} to "
                         f"{b['end']}): {wording.share(b['retention_60d'])} still here after 60 days, against "
                         f"{wording.share(b['channel_normal_retention_60d'])} of the channel's other hires.")
        return lines

    def details(self) -> list[str]:
        lines = []
        if self.pooled_channels:
            lines.append(f"- Channels with fewer than the minimum number of hires are pooled as '{OTHER}': "
                         f"{md(', '.join(self.pooled_channels))}.")
        if len(self.channels) < 2:
            lines.append("- All hires came through one channel: there is nothing to compare.")
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


def verdict(retention_low: float, retention_high: float, overall: float, cert_high: float | None,
            cert_overall: float | None) -> str:
    """The channel verdict rule (stated in the notebook):

    - "fix or stop": 90-day retention significantly below the overall rate (the upper end
      of its interval is under it), or certification significantly below;
    - "keep": retention significantly above the overall rate (lower end above it);
    - "watch": everything else (not distinguishable from the overall rate).
    """
    if retention_high < overall or (cert_high is not None and cert_overall is not None and cert_high < cert_overall):
        return "fix or stop"
    if retention_low > overall:
        return "keep"
    return "watch"


@dataclass(frozen=True)
class ChannelResult:
    """Hiring-channel quality for one window of hires."""

    table: pd.DataFrame
    bursts: pd.DataFrame
    differ_p: float
    pooled: tuple[str, ...]
    window: tuple[pd.Timestamp, pd.Timestamp]  # hire dates considered
    hired: tuple[pd.Timestamp, pd.Timestamp]  # first and last hire actually in it
    as_of: pd.Timestamp
    n_hires: int
    overall_retention: dict  # hires outside bulk drives: retention, low, high, n
    notes: tuple[str, ...]
    alpha: float

    def __repr__(self) -> str:
        return (f"ChannelResult({self.n_hires:,} hires in {len(self.table)} channels, hired "
                f"{self.hired[0].date()}..{self.hired[1].date()}, as of {self.as_of.date()})")

    def summary(self) -> pd.DataFrame:
        return self.table

    @property
    def ranked(self) -> pd.DataFrame:
        return self.table.sort_values("retention_90d_shrunk", ascending=False, kind="stable")

    def findings(self) -> ChannelFindings:
        """Headline numbers, typed (see :class:`ChannelFindings`)."""
        cols = ["hiring_channel", "hires", "retention_90d", "low", "high", "retention_90d_shrunk", "cert_pass_rate",
                "cert_low", "cert_high", "perf_mean", "perf_low", "perf_high", "days_to_certification",
                "cost_per_retained_hire", "verdict"]
        ranked = self.ranked
        o = self.overall_retention
        return ChannelFindings(
            as_of=self.as_of.date().isoformat(), window_start=self.window[0].date().isoformat(),
            window_end=self.window[1].date().isoformat(), first_hire=self.hired[0].date().isoformat(),
            last_hire=self.hired[1].date().isoformat(), follow_up_days=int((self.as_of - self.window[1]).days),
            n_hires=self.n_hires, overall_retention_90d=Estimate.of(o["retention"], o["low"], o["high"], o["n"]),
            channels=to_jsonable(ranked[[c for c in cols if c in ranked]]), channels_differ_p=to_jsonable(self.differ_p),
            pooled_channels=list(self.pooled), bursts=to_jsonable(self.bursts), alpha=self.alpha,
            notes=list(self.notes))

    def headline(self):
        from IPython.display import Markdown

        return Markdown(self.findings().narrative())

    def plot(self, ax=None, **kwargs):
        """One page for a recruiting manager: retention vs early performance per channel."""
        ax = new_axes(ax, figsize=(8, 5))
        t = self.table
        colours = {"keep": "tab:green", "watch": "tab:orange", "fix or stop": "tab:red"}
        has_perf = t["perf_mean"].notna().any()
        y = t["perf_mean"] if has_perf else pd.Series(np.arange(len(t)), index=t.index)
        for row, yy in zip(t.itertuples(), y):
            c = colours.get(row.verdict, "0.5")
            ax.errorbar(row.retention_90d, yy, xerr=[[row.retention_90d - row.low], [row.high - row.retention_90d]],
                        yerr=[[yy - row.perf_low], [row.perf_high - yy]] if has_perf and np.isfinite(row.perf_low)
                        else None, fmt="o", color=c, capsize=3, **kwargs)
            ax.annotate(f"{row.hiring_channel} (n={row.hires})", (row.retention_90d, yy), xytext=(6, 4),
                        textcoords="offset points", fontsize="small")
        ax.axvline(self.overall_retention["retention"], color="0.4", ls="--", lw=1)
        ax.set_xlabel("still here at day 90 (95% CI)")
        ax.set_ylabel("early performance, months 2-3 (95% CI)" if has_perf else "")
        for name, c in colours.items():
            ax.scatter([], [], color=c, label=name)
        ax.legend(title="verdict", frameon=False, fontsize="small", loc="best")
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
        ax.set_yticks(yy, [f"{c} (n={n})" for c, n in zip(t["hiring_channel"], t["hires"])])
        ax.set_xlabel("still here at day 90")
        ax.legend(frameon=False, fontsize="small")
        ax.set_title("Ranking honest about sample size")
        return ax

    def _repr_html_(self) -> str:
        from ccinsight.tables import reviewer_html

        return f"<p>{html.escape(repr(self))}</p>" + reviewer_html(
            self.ranked, intervals={"retention_90d": ("low", "high"), "cert_pass_rate": ("cert_low", "cert_high"),
                                    "perf_mean": ("perf_low", "perf_high")},
            percent={"retention_90d", "cert_pass_rate", "retention_90d_shrunk"},
            labels={"hiring_channel": "channel", "retention_90d": "still here at day 90 (95% CI)",
                    "cert_pass_rate": "certified (95% CI)", "perf_mean": "early performance (95% CI)",
                    "retention_90d_shrunk": "day-90 retention, shrunk for ranking",
                    "days_to_certification": "median days to certification", "examined": "certification results",
                    "perf_n": "with performance"}, decimals=2)


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
    metric
        Performance metric averaged over months 2-3 after training.
    min_cell_size
        Channels with fewer hires are pooled into "other" in every table and figure.
    """
    from lifelines.statistics import multivariate_logrank_test


    agents = ds["agents"]
    if "hiring_channel" not in agents or agents["hiring_channel"].isna().all():
        raise DataError("agents: there is no hiring_channel column (or it is empty), so channels cannot be compared; "
                        "map the recruitment source to hiring_channel.")
    check_metric(metric)
    as_of_ts = ds.as_of
    end = as_of_ts - pd.Timedelta(days=follow_up_days)
    start = period_mod.window_start(end, window_months)
    table = survival_table(agents, as_of_ts, None)
    table = table[(table["hire_date"] >= start) & (table["hire_date"] <= end)].copy()
    if table.empty:
        raise DataError(f"No hires between {start.date()} and {end.date()}: nothing to compare.")
    table["hiring_channel"], pooled = pool_small(table["hiring_channel"].fillna("unknown").astype(str), min_cell_size)
    notes = []
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
    rows = []
    for channel, g in table.groupby("hiring_channel", sort=True):
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
            if "certification_date" in g and len(done):
                row["days_to_certification"] = float((done["certification_date"] - done["hire_date"]).dt.days.median())
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
    # the yardstick is normal hiring: bulk drives would drag the overall down and make
    # every ordinary channel look good
    found = find_bursts(table)
    in_burst = table["agent_id"].astype(str).isin(burst_members(found))
    regular = table[~in_burst]
    overall_kmf = fit_km(regular["duration_days"], regular["event"], "all", alpha)
    overall_ci = {**retention_at(overall_kmf, 90), "n": int(len(regular))}
    overall = overall_ci["retention"]
    n_eff = out["_n_eff"].clip(lower=1).to_numpy()
    out["retention_90d_shrunk"] = shrink(out["retention_90d"].to_numpy() * n_eff, n_eff) if len(out) > 1 else \
        out["retention_90d"]
    cert_overall = float(regular["certified"].dropna().astype(float).mean()) if certs else None
    out["verdict"] = [verdict(r.low, r.high, overall, r.cert_high if certs and np.isfinite(r.cert_high) else None,
                              cert_overall) for r in out.itertuples()]
    differ_p = float(multivariate_logrank_test(table["duration_days"], table["hiring_channel"], table["event"]).p_value) \
        if out["hiring_channel"].nunique() > 1 else np.nan
    if len(out) < 2:
        notes.append("All hires came through one channel: ranking skipped.")
    burst_rows = []
    for b in found:
        inside = table["agent_id"].astype(str).isin(b.agent_ids)
        same = table["hiring_channel"] == b.channel
        drive = table[inside]
        normal = table[same & ~inside]
        k_b = fit_km(drive["duration_days"], drive["event"], "drive", alpha)
        r60 = survival_at(k_b, 60)
        normal60 = survival_at(fit_km(normal["duration_days"], normal["event"], "n", alpha), 60) \
            if len(normal) >= min_cell_size else np.nan
        burst_rows.append({"channel": b.channel, "start": b.start.date(), "end": b.end.date(), "hires": b.hires,
                           "retention_60d": r60, "channel_normal_retention_60d": normal60})
    bursts = pd.DataFrame(burst_rows, columns=["channel", "start", "end", "hires", "retention_60d",
                                               "channel_normal_retention_60d"])
    hired = (table["hire_date"].min(), table["hire_date"].max())
    return ChannelResult(table=out.drop(columns=["_n_eff"]), bursts=bursts, differ_p=differ_p, pooled=tuple(pooled),
                         window=(start, end), hired=hired, as_of=as_of_ts, n_hires=len(table), overall_retention=overall_ci,
                         notes=tuple(notes), alpha=alpha)


ANALYSIS = Analysis(
    name="hiring_channel_quality", title="Which hiring channels bring people who stay?",
    question="Which hiring channels bring people who stay, certify and perform; which bulk drives failed?",
    findings=ChannelFindings, tables=("agents",), optional_tables=("training", "performance", "channels"))
