"""Benchmark: the deck's wall time against the same notebooks' code as plain scripts.

Exports each deck notebook's code (nbconvert's PythonExporter, parameters at their
defaults, which analyse the same latest month) and runs the scripts one after another
with plain Python; then runs `ccinsight deck` on the same data. Alternates the two
`--repeat` times and prints the median wall times and their ratio (deck / scripts).
The target (issue 7) is a ratio at or below 1.0 on a 2-core machine.

Usage: .venv/bin/python bench/deck_bench.py [--repeat 3] [--jobs N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbconvert import PythonExporter

from ccinsight.analyses import REGISTRY
from ccinsight.config import notebooks_dir, project_root


def export_scripts(folder: Path) -> list[Path]:
    scripts = []
    for name in REGISTRY:
        nb = nbformat.read(notebooks_dir() / f"{name}.ipynb", as_version=4)
        code, _ = PythonExporter().from_notebook_node(nb)
        path = folder / f"{name}.py"
        path.write_text(code)
        scripts.append(path)
    return scripts


def time_scripts(scripts: list[Path]) -> float:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    for script in scripts:
        subprocess.run([sys.executable, str(script)], cwd=project_root(), env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def time_deck(out: Path, jobs: int | None) -> float:
    cmd = [sys.executable, "-m", "ccinsight", "deck", "--out", str(out), "--force"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    start = time.perf_counter()
    subprocess.run(cmd, cwd=project_root(), check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None, help="deck --jobs (default: the number of cores)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scripts = export_scripts(Path(tmp))
        deck_times, script_times = [], []
        for _ in range(args.repeat):
            script_times.append(time_scripts(scripts))
            deck_times.append(time_deck(Path(tmp) / "out", args.jobs))
    s, d = statistics.median(script_times), statistics.median(deck_times)
    print(f"cores: {os.cpu_count()}, notebooks: {len(list(REGISTRY))}, repeats: {args.repeat}")
    print(f"plain scripts, one after another: median {s:6.1f} s  (runs: {', '.join(f'{x:.1f}' for x in script_times)})")
    print(f"ccinsight deck:                   median {d:6.1f} s  (runs: {', '.join(f'{x:.1f}' for x in deck_times)})")
    print(f"ratio deck / scripts: {d / s:.2f} (target <= 1.0: {'met' if d / s <= 1.0 else 'NOT met'})")


if __name__ == "__main__":
    main()
