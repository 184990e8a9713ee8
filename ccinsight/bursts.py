"""Bulk hiring drives: many hires from one channel within a few weeks.

Both the attrition analysis (which keeps drives out of its programme comparison) and the
hiring-channel analysis (which judges drives apart from the channel's normal hiring) use
this one detector.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


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


def burst_members(bursts: list[Burst]) -> set[str]:
    """Agent IDs of every hire in any of ``bursts``."""
    return {a for b in bursts for a in b.agent_ids}
