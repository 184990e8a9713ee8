"""Benchmark: the script analysis' data work on a large call table.

Writes N outbound calls (default 20 million, over two months) as Parquet into a temporary
folder, then runs in separate processes, several times each, and prints the median wall
time and peak memory (max RSS) of:

  reference  one DuckDB pass counting calls by talk-time second and script version
  pandas     reading the same columns into pandas
  ccinsight  ccinsight.analyses.scripts.analyse() on the folder (all its data work and models)

The target (issue 4): ccinsight within 3x the reference, and under 1 GB peak memory.

Usage: .venv/bin/python bench/scripts_bench.py [--calls 20000000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CHILD = r"""
import json, resource, sys, time
kind, folder = sys.argv[1], sys.argv[2]
path = folder + "/outbound_calls.parquet"
t = time.perf_counter()
if kind == "reference":
    import duckdb
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SELECT CAST(round(talk_time_s) AS BIGINT) s, script_version, count(*), "
                             f"count(*) FILTER (WHERE accepted) FROM read_parquet('{path}') GROUP BY ALL").df()
elif kind == "pandas":
    import pandas as pd
    pd.read_parquet(path, columns=["started_at", "talk_time_s", "script_version", "accepted", "converted",
                                   "refusal_reason"])
else:
    from ccinsight.analyses import scripts
    scripts.analyse(folder)
print(json.dumps({"seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_calls(folder: Path, n: int, seed: int = 1) -> None:
    """N calls over September and October 2026, in chunks (bounded memory)."""
    rng = np.random.default_rng(seed)
    writer = None
    chunk = 2_000_000
    start = np.datetime64("2026-09-01T00:00:00")
    for first in range(0, n, chunk):
        m = min(chunk, n - first)
        keyword = rng.random(m) < 0.5
        talk = np.clip(np.rint(rng.gamma(6, np.where(keyword, 165, 221) / 6)), 10, 1800)
        accepted = rng.random(m) < 1 / (1 + np.exp(-(1.2 - 0.35 * (talk - 180) / 60)))
        started = start + (np.sort(rng.integers(0, 61 * 86400, m))).astype("timedelta64[s]")
        table = pa.table({
            "call_id": pa.array(np.arange(first, first + m, dtype=np.int64)),
            "agent_id": pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, 800, m).astype(np.int32)),
                                                       pa.array([f"A{i + 10001}" for i in range(800)])),
            "campaign": pa.DictionaryArray.from_arrays(pa.array(np.zeros(m, np.int32)), pa.array(["c"])),
            "script_version": pa.DictionaryArray.from_arrays(pa.array(keyword.astype(np.int32)),
                                                             pa.array(["verbatim", "keyword"])),
            "started_at": pa.array(started.astype("datetime64[ns]")),
            "talk_time_s": pa.array(talk),
            "accepted": pa.array(accepted),
            "converted": pa.array(accepted & (rng.random(m) < 0.6)),
            "refusal_reason": pa.DictionaryArray.from_arrays(
                pa.array(np.where(accepted, -1, 0).astype(np.int32), mask=accepted), pa.array(["not_interested"])),
        })
        writer = writer or pq.ParquetWriter(folder / "outbound_calls.parquet", table.schema)
        writer.write_table(table, row_group_size=1_000_000)
    writer.close()


def measure(kind: str, folder: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", CHILD, kind, str(folder)], capture_output=True, text=True,
                             check=True)
        runs.append(json.loads(out.stdout[out.stdout.rindex("{"):]))  # after any progress output
    return {"seconds": statistics.median(r["seconds"] for r in runs), "peak_mb": max(r["peak_mb"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        write_calls(folder, args.calls)
        size_mb = (folder / "outbound_calls.parquet").stat().st_size / 2 ** 20
        print(f"wrote {args.calls:,} calls ({size_mb:.0f} MB Parquet) in {time.perf_counter() - t:.1f} s")
        results = {k: measure(k, folder, args.repeat) for k in ("reference", "pandas", "ccinsight")}
    ref = results["reference"]["seconds"]
    print(f"{'run':<10} {'median s':>9} {'x reference':>12} {'peak MB':>8}")
    for kind, r in results.items():
        print(f"{kind:<10} {r['seconds']:9.2f} {r['seconds'] / ref:12.2f} {r['peak_mb']:8.0f}")
    ok = results["ccinsight"]["seconds"] <= 3 * ref and results["ccinsight"]["peak_mb"] < 1024
    print(f"target (ccinsight <= 3x reference, < 1024 MB): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
