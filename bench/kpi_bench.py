"""Benchmark: where the KPI scorecard spends its time on a data set's queue_intervals.

Loads the data as of the analysis month, then times each step of
``ccinsight.analyses.kpi`` (median of ``--repeat`` runs, in one process): the queue and
agent measures, the control charts, the Erlang C staffing (and how many site half hours it
solved), the overload check, and the whole ``analyse``. Prints one line per step.

Usage: .venv/bin/python bench/kpi_bench.py [--data data/synthetic] [--month 2026-10] [--repeat 3]
"""
from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

from ccinsight import data as ccdata
from ccinsight.analyses import kpi


def timed(fn, repeat: int, before=None):
    times = []
    for _ in range(repeat):
        if before:
            before()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="data/synthetic")
    ap.add_argument("--month", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ds = ccdata.load(args.data, ["queue_intervals", "agents"], month=args.month)
    q, agents, as_of = ds["queue_intervals"], ds["agents"], ds.as_of
    last = as_of.to_period("M")
    window = pd.period_range(last - 11, last, freq="M")
    print(f"data: {len(q):,} queue rows, {len(agents):,} agents; month {last}, 12 months charted")
    t, measures = timed(lambda: pd.concat([kpi.queue_measures(q, window), kpi.agent_measures(agents, window, as_of)]),
                        args.repeat)
    print(f"measures        {t:6.2f} s  ({len(measures):,} scope-month-KPI rows)")
    t, _ = timed(lambda: [kpi.control(s, kpi.METRICS[m].chart)
                          for (_, _, m), s in measures.groupby(["level", "scope", "metric"])], args.repeat)
    print(f"control charts  {t:6.2f} s")
    t, staffed = timed(lambda: kpi.staffing(q, agents, window, 0.8, 20.0), args.repeat)
    print(f"Erlang C        {t:6.2f} s  ({int(staffed['intervals'].sum()):,} site half hours)")
    occ = measures[(measures["level"] == "team") & (measures["metric"] == "occupancy")]
    t, _ = timed(lambda: kpi.overload_then_exits(occ, agents, window, 0.85, 3), args.repeat)
    print(f"overload check  {t:6.2f} s")
    t, _ = timed(lambda: kpi.analyse(ds), args.repeat)
    print(f"analyse (all)   {t:6.2f} s")


if __name__ == "__main__":
    main()
