"""Hiring-channel quality: who stays, certifies and performs, by channel.

This module also owns bulk-hiring detection (:func:`find_bursts`), which the attrition
analysis uses to keep one-off hiring drives out of its programme comparison.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccinsight.errors import DataError, ParameterError
from ccinsight.plotting import new_axes
from ccinsight.privacy import OTHER, pool_small, suppress_small


@dataclass(frozen=True)
class Burst:
    """Many hires from one channel within a few weeks."""

    channel: str
    start: pd.Timestamp
    end: pd.Timestamp
    hires: int
    agent_ids: tuple[str, ...]


def find_bursts(agents: pd.DataFrame, min_hires: int = 50, factor: float = 3.0, min_day: int = 10,
                gap_days: int = 21, channel_col: str = "hiring_channel") -> list[Burst]:
    """Find bulk hiring drives: days on which one channel hired at least ``min_day`` people
    and ``factor`` times its usual (median) count per hiring day, merged when less than
    ``gap_days`` apart, kept when together they reach ``min_hires`` hires.

    Only the hires of those bulk days belong to the burst, so the channel's regular hires
    around it are not mixed in.
    """
    bursts: list[Burst] = []
    for channel, g in agents.dropna(subset=["hire_date"]).groupby(channel_col, sort=True):
        per_day = g.groupby("hire_date").size().sort_index()
        big = per_day[per_day >= max(min_day, factor * per_day.median())]
        if big.empty:
            continue
        run_id = (big.index.to_series().diff().dt.days.fillna(0) >= gap_days).cumsum()
        for _, days in big.groupby(run_id.to_numpy()):
            if days.sum() < min_hires:
                continue
            members = g[g["hire_date"].isin(days.index)]
            bursts.append(Burst(str(channel), days.index.min(), days.index.max(), len(members),
                                tuple(members["agent_id"].astype(str))))
    return bursts


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


def _mean_interval(values: pd.Series, alpha: float) -> tuple[float, float, float]:
    from scipy import stats

    v = values.dropna()
    if len(v) < 2:
        return (float(v.mean()) if len(v) else np.nan), np.nan, np.nan
    m, se = float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v)))
    t = stats.t.ppf(1 - alpha / 2, len(v) - 1)
    return m, m - t * se, m + t * se


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
    overall_retention: float  # hires outside bulk drives
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

    def findings(self) -> dict:
        ranked = self.ranked
        cols = ["hiring_channel", "hires", "retention_90d", "low", "high", "retention_90d_shrunk", "cert_pass_rate",
                "cert_low", "cert_high", "perf_mean", "perf_low", "perf_high", "days_to_certification",
                "cost_per_retained_hire", "verdict"]
        rankable = len(ranked) >= 2
        return {
            "channels": ranked[[c for c in cols if c in ranked]],
            "channels_differ_p": self.differ_p,
            "best_channel": ranked["hiring_channel"].iloc[0] if rankable else None,
            "worst_channel": ranked["hiring_channel"].iloc[-1] if rankable else None,
            "bursts": self.bursts,
            "pooled_channels": list(self.pooled),
            "n_hires": self.n_hires,
            "overall_retention_90d": self.overall_retention,
            "window_start": self.window[0].date(), "window_end": self.window[1].date(), "as_of": self.as_of.date(),
            "first_hire": self.hired[0].date(), "last_hire": self.hired[1].date(),
        }

    def headline(self):
        from IPython.display import Markdown

        return Markdown(self.narrative())

    def narrative(self) -> str:
        f = self.findings()
        pct = lambda x: "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.0f}%"  # noqa: E731
        lines = [f"**{f['n_hires']:,} hires in {len(self.table)} channels** (hired {f['first_hire']} to "
                 f"{f['last_hire']}, all at least {(self.as_of - self.window[1]).days} days before {f['as_of']}); "
                 f"outside bulk drives, {pct(self.overall_retention)} of hires are still here at day 90."]
        if f["pooled_channels"]:
            lines.append(f"- Channels with fewer than the minimum number of hires are pooled as '{OTHER}': "
                         f"{', '.join(f['pooled_channels'])}.")
        if f["best_channel"] is None:
            lines.append("- All hires came through one channel: there is nothing to rank.")
        else:
            r = self.ranked.set_index("hiring_channel")
            for name in (f["best_channel"], f["worst_channel"]):
                row = r.loc[name]
                lines.append(f"- **{name}**: {int(row['hires'])} hires, {pct(row['retention_90d'])} still here at day 90 "
                             f"(95% CI {pct(row['low'])}-{pct(row['high'])}), certification {pct(row['cert_pass_rate'])}"
                             f" → **{row['verdict']}**.")
            differ = "differ" if f["channels_differ_p"] < self.alpha else "do not differ significantly"
            lines.append(f"- Channels {differ} in how long their hires stay (log-rank p = {f['channels_differ_p']:.2g}).")
        for b in self.bursts.itertuples():
            lines.append(f"- **Bulk drive**: {b.hires} {b.channel} hires from {b.start} to {b.end}; "
                         f"**{pct(b.retention_60d)} still here after 60 days**, against "
                         f"{pct(b.channel_normal_retention_60d)} for the channel's other hires.")
        lines.append("\nJudge channels by who stays, certifies and performs, not by how many they deliver.")
        return "\n".join(lines + [f"\n*{n}*" for n in self.notes])

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
        ax.axvline(self.overall_retention, color="0.4", ls="--", lw=1)
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
        ax.axvline(self.overall_retention, color="0.4", ls="--", lw=1, label="overall")
        ax.set_yticks(yy, [f"{c} (n={n})" for c, n in zip(t["hiring_channel"], t["hires"])])
        ax.set_xlabel("still here at day 90")
        ax.legend(frameon=False, fontsize="small")
        ax.set_title("Ranking honest about sample size")
        return ax

    def _repr_html_(self) -> str:
        from ccinsight.tables import reviewer_html

        return f"<p>{self!r}</p>" + reviewer_html(
            self.ranked, intervals={"retention_90d": ("low", "high"), "cert_pass_rate": ("cert_low", "cert_high"),
                                    "perf_mean": ("perf_low", "perf_high")},
            percent={"retention_90d", "cert_pass_rate", "retention_90d_shrunk"},
            labels={"hiring_channel": "channel", "retention_90d": "still here at day 90 (95% CI)",
                    "cert_pass_rate": "certified (95% CI)", "perf_mean": "early performance (95% CI)",
                    "retention_90d_shrunk": "day-90 retention, shrunk for ranking",
                    "days_to_certification": "median days to certification", "examined": "certification results",
                    "perf_n": "with performance"}, decimals=2)


def analyse(ds, as_of: str | None = None, window_months: int = 12, follow_up_days: int = 60,
            metric: str = "conversion_rate", min_cell_size: int = 5, alpha: float = 0.05) -> ChannelResult:
    """Hiring-channel quality: retention, certification, early performance, cost, bursts.

    Parameters
    ----------
    ds
        Loaded data: ``agents`` (required), ``training`` and ``performance`` (for early
        performance), ``channels`` (optional, for cost per retained hire).
    as_of
        Analysis date; default the end of the latest complete month in the data.
    window_months, follow_up_days
        Hires of the ``window_months`` months ending ``follow_up_days`` before ``as_of``.
    metric
        Performance metric averaged over months 2-3 after training.
    min_cell_size
        Channels with fewer hires are pooled into "other" in every table and figure.
    """
    from lifelines.statistics import multivariate_logrank_test

    from ccinsight.attrition import attrition_at, fit_km, greenwood_var, survival_table, window_start
    from ccinsight.stats import wilson
    from ccinsight.training import check_metric, window_performance

    agents = ds["agents"]
    if "hiring_channel" not in agents or agents["hiring_channel"].isna().all():
        raise DataError("agents: there is no hiring_channel column (or it is empty), so channels cannot be compared; "
                        "map the recruitment source to hiring_channel.")
    check_metric(metric)
    try:
        as_of_ts = pd.Timestamp(as_of) if as_of else ds.latest_complete_month().end_time.normalize()
    except ValueError:
        raise ParameterError(f"as_of {as_of!r} is not a date (expected YYYY-MM-DD).") from None
    end = as_of_ts - pd.Timedelta(days=follow_up_days)
    start = window_start(end, window_months)
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
        a = attrition_at(kmf, 90)
        row = {"hiring_channel": channel, "hires": len(g), "retention_90d": 1 - a["attrition"],
               "low": 1 - a["high"], "high": 1 - a["low"]}
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
            row["perf_mean"], row["perf_low"], row["perf_high"] = _mean_interval(vals, alpha)
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
    in_burst = table["agent_id"].astype(str).isin({a for b in found for a in b.agent_ids})
    regular = table[~in_burst]
    overall_kmf = fit_km(regular["duration_days"], regular["event"], "all", alpha)
    overall = 1 - attrition_at(overall_kmf, 90)["attrition"]
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
        r60 = 1 - attrition_at(k_b, 60)["attrition"]
        normal60 = 1 - attrition_at(fit_km(normal["duration_days"], normal["event"], "n", alpha), 60)["attrition"] \
            if len(normal) >= min_cell_size else np.nan
        burst_rows.append({"channel": b.channel, "start": b.start.date(), "end": b.end.date(), "hires": b.hires,
                           "retention_60d": r60, "channel_normal_retention_60d": normal60})
    bursts = pd.DataFrame(burst_rows, columns=["channel", "start", "end", "hires", "retention_60d",
                                               "channel_normal_retention_60d"])
    hired = (table["hire_date"].min(), table["hire_date"].max())
    return ChannelResult(table=out.drop(columns=["_n_eff"]), bursts=bursts, differ_p=differ_p, pooled=tuple(pooled),
                         window=(start, end), hired=hired, as_of=as_of_ts, n_hires=len(table), overall_retention=overall,
                         notes=tuple(notes), alpha=alpha)
