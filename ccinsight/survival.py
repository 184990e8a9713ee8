"""Survival of hires over tenure: the helpers the attrition and hiring-channel analyses share.

Tenure is counted in days from ``hire_date``; hires still employed at the analysis date
``as_of`` are censored there. Estimators come from lifelines (Kaplan-Meier with log-log
intervals); where no exit happened by a horizon, the exact (Clopper-Pearson) interval of
statsmodels stands in for the collapsed log-log one.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ccinsight.errors import DataError
from ccinsight.period import window_start
from ccinsight.stats import mover_difference

TENURE_UNITS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12, "years": 365.25}


def dates_from_tenure(tenure: pd.Series, left: pd.Series, as_of: pd.Timestamp, unit: str = "days"
                      ) -> tuple[pd.Series, pd.Series]:
    """Hire and exit dates for an export that has only a tenure length and a left flag.

    ``hire_date`` is ``as_of - tenure``; leavers are placed as if they left on ``as_of``.
    Durations and events, all a survival curve uses, are exact; calendar dates of
    leavers are not.
    """
    as_of = pd.Timestamp(as_of)
    days = pd.to_timedelta((pd.to_numeric(tenure, errors="coerce") * TENURE_UNITS[unit]).round(), unit="D")
    hire = (as_of - days).dt.normalize()
    exit_ = pd.Series(as_of, index=tenure.index).where(left.astype(bool))
    return hire, exit_


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


def fit_km(durations: pd.Series, events: pd.Series, label: str, alpha: float = 0.05):
    """A lifelines Kaplan-Meier fit."""
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter(alpha=alpha).fit(durations, events, label=label)


def km_steps(durations, events) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier S(t) as a step function, the steps of a lifelines fit's
    ``survival_function_``: times from 0 (every distinct duration) and S at each.

    scipy's ``ecdf`` of right-censored data computes it about 15 times faster than a
    lifelines fit, which matters where it is refitted hundreds of times (bootstrap draws of
    the seat projection); use :func:`fit_km` where intervals or event tables are needed.
    """
    from scipy import stats

    left = np.asarray(events).astype(bool)
    res = stats.ecdf(stats.CensoredData.right_censored(np.asarray(durations, float), ~left))
    times, surv = np.asarray(res.sf.quantiles, float), np.asarray(res.sf.probabilities, float)
    if times[0] > 0:  # S(0) = 1 unless someone left on day 0
        times, surv = np.concatenate([[0.0], times]), np.concatenate([[1.0], surv])
    return times, surv


def step_at(frame: pd.DataFrame, t: float) -> pd.Series:
    """Value of a right-continuous step function (indexed by time) at ``t``."""
    return frame.loc[:t].iloc[-1]


def survival_at(kmf, t: float) -> float:
    """S(t) of a lifelines fit."""
    return float(step_at(kmf.survival_function_, t).iloc[0])


def greenwood_var(kmf, t: float) -> float:
    """Greenwood variance of S(t) from a lifelines fit's event table."""
    et = kmf.event_table.loc[:t]
    d, n = et["observed"], et["at_risk"]
    terms = np.where(n > d, d / (n * (n - d)), np.inf)
    s = survival_at(kmf, t)
    return s ** 2 * float(np.sum(terms[d > 0])) if (d > 0).any() else 0.0


def attrition_at(kmf, t: float) -> dict:
    """Attrition 1 - S(t) with the fit's (log-log) confidence interval.

    With no exit by ``t`` the log-log interval collapses to a point; the interval is then
    the exact (Clopper-Pearson) one for 0 exits among the hires followed through ``t``.
    """
    s = survival_at(kmf, t)
    if s == 1.0:
        from statsmodels.stats.proportion import proportion_confint

        followed = int((np.asarray(kmf.durations) >= t).sum())
        if followed == 0:
            return {"attrition": 0.0, "low": np.nan, "high": np.nan}
        _, high = proportion_confint(0, followed, alpha=kmf.alpha, method="beta")
        return {"attrition": 0.0, "low": 0.0, "high": float(high)}
    ci = step_at(kmf.confidence_interval_survival_function_, t)
    return {"attrition": 1 - s, "low": 1 - float(ci.iloc[1]), "high": 1 - float(ci.iloc[0])}


def retention_at(kmf, t: float) -> dict:
    """Share still employed S(t) with its interval (the mirror of :func:`attrition_at`)."""
    a = attrition_at(kmf, t)
    return {"retention": 1 - a["attrition"], "low": 1 - a["high"], "high": 1 - a["low"]}


def survival_difference(kmf_a, kmf_b, t: float) -> dict:
    """S_a(t) - S_b(t) with a MOVER interval from each group's own interval, as shown in
    the group table.

    A Wald interval from Greenwood variances collapses when a group has no exit by ``t``
    (variance 0) and then claims a precision the data do not have; MOVER uses that group's
    exact interval instead, and keeps the asymmetry of the log-log intervals.
    """
    a, b = retention_at(kmf_a, t), retention_at(kmf_b, t)
    d, low, high = mover_difference(a["retention"], a["low"], a["high"], b["retention"], b["low"], b["high"])
    return {"difference": d, "low": low, "high": high}


def fixed_time_test(kmf_a, kmf_b, t: float) -> float:
    """p-value of S_a(t) = S_b(t): the log(-log S) chi-square test of Klein et al. (2007),
    which lifelines implements as ``survival_difference_at_fixed_point_in_time_test``.

    lifelines interpolates the variance linearly between event times; the Kaplan-Meier
    variance is a step function, so this takes Greenwood's value at ``t`` (the two agree
    whenever ``t`` is on both fits' timelines). NaN where a survival is 0 or 1 at ``t``.
    """
    from scipy.stats import chi2

    sa, sb = survival_at(kmf_a, t), survival_at(kmf_b, t)
    if not (0 < sa < 1 and 0 < sb < 1):
        return float("nan")
    var = greenwood_var(kmf_a, t) / (sa * np.log(sa)) ** 2 + greenwood_var(kmf_b, t) / (sb * np.log(sb)) ** 2
    if var <= 0:
        return float("nan")
    x = (np.log(-np.log(sa)) - np.log(-np.log(sb))) ** 2 / var
    return float(chi2.sf(x, 1))
