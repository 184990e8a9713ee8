"""Benchmark: how `ccinsight synth`, `validate` and `deck` grow with the number of calls.

For each scale (1 = the default data, about a million calls) it generates the synthetic
centre once into ``--root`` (kept between runs; regenerated when stale), then times
`ccinsight validate` and a cold `ccinsight deck --force` on it, each a separate process
under GNU time for its wall time and peak memory (the largest resident set of the
process and of any one of its workers); with ``--mapped`` also a cold deck whose tables are
mapped through ``sources`` (the calls counted by DuckDB, :mod:`ccinsight.pushdown`). Then,
on the default scale: an unchanged rerun of the deck (no --force), and a 12-month backfill
against one month's deck, alternated ``--pairs`` times (the median ratio: a shared machine's
load drifts between runs).

Targets (issue 16): validate and deck on 20M calls peak under 1 GB, on 100M calls
complete under 2 GB; wall time no worse than linear in calls from 5M up; an unchanged
rerun under 3 s; a 12-month backfill at most 4x one month's deck.

Usage: .venv/bin/python bench/scale_bench.py [--scales 1 5 20 100] [--root DIR] [--no-backfill] [--mapped]
       [--pairs 3]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from ccinsight.config import project_root


def measured(cmd: list[str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, peak resident MB, exit code) of one command under GNU time."""
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, capture_output=True, text=True)
    text = done.stderr
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
    if done.returncode:
        print(f"  ! {' '.join(cmd[2:])} exited {done.returncode}: {text.strip().splitlines()[0][:200]}")
    return seconds, peak, done.returncode


def params_for(data: Path, folder: Path, mapped: bool = False) -> Path:
    """The monthly deck's params with ``data`` pointed at another folder; ``mapped``: every
    table through ``sources`` instead, the calls as a dialler might name their columns."""
    values = yaml.safe_load((project_root() / "params" / "monthly.yaml").read_text())
    values["data"] = str(data)
    values["month"] = None
    if mapped:
        values["sources"] = {p.stem: {"file": str(p)} for p in sorted(data.glob("*.parquet"))}
        values["sources"]["outbound_calls"]["columns"] = {"talk_time_s": "talk_time_s", "started_at": "started_at"}
    path = folder / f"monthly-{data.name}{'-mapped' if mapped else ''}.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 5, 20, 100])
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "ccinsight-scale",
                        help="where the generated data sets are kept between runs")
    parser.add_argument("--no-backfill", action="store_true", help="skip the rerun and backfill figures")
    parser.add_argument("--pairs", type=int, default=3, help="one month / 12 months pairs alternated (default 3)")
    parser.add_argument("--mapped", action="store_true",
                        help="also a cold deck with every table mapped through sources (the calls counted by DuckDB)")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "ccinsight"]
    root = args.root.absolute()
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for scale in args.scales:
        data = root / f"scale-{scale:g}"
        synth = measured([*cli, "synth", "--scale", f"{scale:g}", "--out", str(data), "--if-stale"], root)
        validate = measured([*cli, "validate", "--data", str(data)], root)
        params = params_for(data, root)
        deck = measured([*cli, "deck", "--params", str(params), "--out", str(root / f"out-{scale:g}"), "--force"],
                        root)
        rows.append({"scale": scale, "calls (M)": scale, "synth s": synth[0], "synth MB": synth[1],
                     "validate s": validate[0], "validate MB": validate[1], "deck s": deck[0], "deck MB": deck[1],
                     "ok": not (synth[2] or validate[2] or deck[2])})
        if args.mapped:
            mapped = measured([*cli, "deck", "--params", str(params_for(data, root, mapped=True)), "--out",
                               str(root / f"out-{scale:g}-mapped"), "--force"], root)
            rows[-1] |= {"mapped deck s": mapped[0], "mapped deck MB": mapped[1]}
            rows[-1]["ok"] = rows[-1]["ok"] and not mapped[2]
        print(pd.DataFrame(rows[-1:]).round(1).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    table["validate s per M calls"] = table["validate s"] / table["calls (M)"]
    table["deck s per M calls"] = table["deck s"] / table["calls (M)"]
    print("\nsynth, validate and cold deck by scale (1 = 1M calls; MB = peak resident set of the largest process;"
          " synth 's' is 0 when the data were kept from an earlier run):")
    print(table.round(2).to_string(index=False))
    if args.no_backfill:
        return
    data = root / "scale-1"
    params = params_for(data, root)
    out = root / "out-backfill"
    again = None
    latest = pd.Period(subprocess.run([*cli, "validate", "--data", str(data)], capture_output=True, text=True)
                       .stdout.split("months ")[-1].split(" to ")[-1][:7], freq="M")
    span = f"{latest - 11}:{latest}"
    pairs = []
    for _ in range(args.pairs):
        one = measured([*cli, "deck", "--params", str(params), "--out", str(out), "--force"], root)
        if again is None:
            again = measured([*cli, "deck", "--params", str(params), "--out", str(out)], root)
        twelve = measured([*cli, "deck", "--params", str(params), "--out", str(out), "--months", span, "--force"],
                          root)
        pairs.append((one, twelve))
        print(f"one month {one[0]:.1f} s (peak {one[1]:.0f} MB), 12 months {span} {twelve[0]:.1f} s "
              f"(peak {twelve[1]:.0f} MB): {twelve[0] / one[0]:.2f}x", flush=True)
    ratios = sorted(twelve[0] / one[0] for one, twelve in pairs)
    print(f"\nunchanged rerun: {again[0]:.2f} s (target < 3 s)")
    print(f"12-month backfill / one month's deck, median of {len(pairs)} alternated pairs: "
          f"{ratios[len(ratios) // 2]:.2f}x (target <= 4x; all: {', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    main()
