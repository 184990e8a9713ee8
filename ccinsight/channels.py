"""Hiring-channel quality: who stays, certifies and performs, by channel.

This module also owns bulk-hiring detection (:func:`find_bursts`), which the attrition
analysis uses to keep one-off hiring drives out of its programme comparison.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Burst:
    """Many hires from one channel within a few weeks."""

    channel: str
    start: pd.Timestamp
    end: pd.Timestamp
    hires: int
    agent_ids: tuple[str, ...]


def find_bursts(agents: pd.DataFrame, window_days: int = 42, min_hires: int = 50, factor: float = 3.0,
                channel_col: str = "hiring_channel") -> list[Burst]:
    """Find hiring bursts: at least ``min_hires`` hires from one channel within
    ``window_days``, and at least ``factor`` times that channel's usual count for a window
    of that length (its hires over the whole period, spread evenly).

    Overlapping windows merge into one burst; its hires are the channel's hires from the
    first to the last day of the merged windows.
    """
    bursts: list[Burst] = []
    span_days = max(1, (agents["hire_date"].max() - agents["hire_date"].min()).days)
    for channel, g in agents.dropna(subset=["hire_date"]).groupby(channel_col, sort=True):
        dates = np.sort(g["hire_date"].to_numpy())
        usual = len(dates) * window_days / span_days
        ends = np.searchsorted(dates, dates + np.timedelta64(window_days, "D"), side="left")
        counts = ends - np.arange(len(dates))
        hot = np.flatnonzero((counts >= min_hires) & (counts >= factor * usual))
        intervals: list[list] = []
        for i in hot:
            start, end = dates[i], dates[ends[i] - 1]
            if intervals and start <= intervals[-1][1]:
                intervals[-1][1] = max(intervals[-1][1], end)
            else:
                intervals.append([start, end])
        for start, end in intervals:
            members = g[(g["hire_date"] >= start) & (g["hire_date"] <= end)]
            bursts.append(Burst(str(channel), pd.Timestamp(start), pd.Timestamp(end), len(members),
                                tuple(members["agent_id"].astype(str))))
    return bursts
