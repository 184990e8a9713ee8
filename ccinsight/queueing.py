"""Erlang C: the waiting probability, service level and agents an inbound queue needs.

Shared by the KPI scorecard (agents each half hour needed for the service-level target)
and the synthetic centre (how its queues behave). Erlang B is the Poisson(a) probability
of ``n`` over that of at most ``n`` (scipy), so one value costs the same for 10 agents as
for 5,000, and whole arrays of intervals are solved at once. pyworkforce's ``ErlangC``
gives the same numbers (the tests compare them) with a Python loop over every agent for
every value, which took three minutes for one month's KPI scorecard on 20M calls.
"""
from __future__ import annotations

import numpy as np


def erlang_c(n, a) -> np.ndarray:
    """P(a caller waits) with ``n`` agents at an offered load of ``a`` Erlangs (1 where
    ``n <= a``: the queue grows without end)."""
    from scipy.stats import poisson

    n, a = np.asarray(n, float), np.asarray(a, float)
    stable = n > a
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        b = np.where(stable, poisson.pmf(n, a) / poisson.cdf(n, a), 1.0)
        out = n * b / (n - a * (1 - b))
    return np.where(stable, np.clip(np.nan_to_num(out, nan=1.0), 0, 1), 1.0)


def service_level(n, a, aht_s, threshold_s) -> np.ndarray:
    """Share of calls answered within ``threshold_s`` seconds with ``n`` agents at ``a``
    Erlangs and a mean handle time of ``aht_s`` seconds (no abandonment); 0 where ``n <= a``."""
    n, a = np.asarray(n, float), np.asarray(a, float)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(n > a, 1 - erlang_c(n, a) * np.exp(-(n - a) * threshold_s / np.asarray(aht_s, float)), 0.0)


def required_agents(offered, aht_s, sl_target: float, threshold_s: float, interval_s: float = 1800) -> np.ndarray:
    """The fewest agents with which ``sl_target`` of the ``offered`` calls of an interval of
    ``interval_s`` seconds are answered within ``threshold_s`` (0 where nothing is offered
    or the handle time is unknown). Arrays in, an integer array out."""
    offered, aht = np.broadcast_arrays(np.asarray(offered, float), np.asarray(aht_s, float))
    live = (offered > 0) & (aht > 0)
    a = np.where(live, offered * np.where(live, aht, 0) / interval_s, 0.0)
    n = np.where(live, np.floor(a) + 1, 0.0)  # the fewest agents with which the queue does not grow
    short = live & (service_level(n, a, np.where(live, aht, 1.0), threshold_s) < sl_target)
    while short.any():  # the service level rises with every agent added: step those still short
        n = n + short
        short[short] = service_level(n[short], a[short], aht[short], threshold_s) < sl_target
    return n.astype(np.int64)
