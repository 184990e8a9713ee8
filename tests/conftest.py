"""Shared fixtures: small generated data sets and a CLI runner."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from ccinsight import synth

#: The checkout under test; tests run with it as the current folder unless they say otherwise.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
SYNTHETIC_DIR = PROJECT_ROOT / "data" / "synthetic"
OUTPUTS_DIR = PROJECT_ROOT / "outputs"


def _shared_data() -> Path:
    """Where the public data sets are: ``$CCINSIGHT_SHARED_DATA``, ``../shared/data`` beside the
    checkout, or beside the checkout this one was cloned from (CI tests a fresh clone)."""
    if os.environ.get("CCINSIGHT_SHARED_DATA"):
        return Path(os.environ["CCINSIGHT_SHARED_DATA"]).resolve()
    here = PROJECT_ROOT.parent / "shared" / "data"
    if here.is_dir():
        return here
    origin = subprocess.run(["git", "-C", str(PROJECT_ROOT), "remote", "get-url", "origin"],
                            capture_output=True, text=True).stdout.strip()
    if origin and Path(origin).is_dir():
        cloned_from = Path(origin).resolve().parent / "shared" / "data"
        if cloned_from.is_dir():
            return cloned_from
    return here


SHARED_DATA = _shared_data()


def example_params(name: str, folder: Path) -> str:
    """``params/examples/NAME``, its ``../shared/data`` paths pointed at SHARED_DATA when the
    data sets are elsewhere (a copy written to FOLDER; the committed file is never changed)."""
    path = PROJECT_ROOT / "params" / "examples" / name
    if SHARED_DATA == PROJECT_ROOT.parent / "shared" / "data":
        return str(path.relative_to(PROJECT_ROOT))
    copy = folder / name
    copy.write_text(path.read_text().replace("../shared/data/", f"{SHARED_DATA}/"))
    return str(copy)


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 600) -> CliResult:
    """Run ``ccinsight ARGS`` in a fresh process, as a user would."""
    proc = subprocess.run([sys.executable, "-m", "ccinsight", *args], capture_output=True, text=True,
                          cwd=cwd or PROJECT_ROOT, env={**os.environ, **(env or {})}, timeout=timeout)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def wilson_by_hand(successes, n, z: float = 1.959963984540054):
    """The Wilson score interval from its formula (Wilson 1927), for checking the library call."""
    import numpy as np

    k, n = np.asarray(successes, float), np.asarray(n, float)
    p = k / n
    centre = (p + z ** 2 / (2 * n)) / (1 + z ** 2 / n)
    half = z / (1 + z ** 2 / n) * np.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2))
    return centre - half, centre + half


def deck_params(tmp_path: Path, **changes) -> Path:
    """``params/monthly.yaml`` with ``changes``, written to ``tmp_path/deck.yaml``."""
    import yaml

    base = yaml.safe_load((PROJECT_ROOT / "params" / "monthly.yaml").read_text())
    base.update(changes)
    path = tmp_path / "deck.yaml"
    path.write_text(yaml.safe_dump(base))
    return path


def cli(*args: str, cwd: Path | None = None) -> CliResult:
    """Run ``ccinsight ARGS`` in this process (the unit tier): same code path, exit code and
    output as the command, without a new interpreter. An exception that escapes the command
    fails the test."""
    import contextlib
    import io

    from ccinsight.cli import main

    out, err, before = io.StringIO(), io.StringIO(), os.getcwd()
    try:
        os.chdir(cwd or PROJECT_ROOT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit_:  # --help, argparse errors
                code = exit_.code
    finally:
        os.chdir(before)
    return CliResult(code, out.getvalue(), err.getvalue())


def run_findings(notebook: str, out: Path, *args: str) -> dict:
    """Run a notebook through the CLI and return the findings it recorded."""
    result = run_cli("run", notebook, "--out", str(out), *args)
    assert result.code == 0, result.text
    return json.loads((out / "findings.json").read_text())


@pytest.fixture(scope="session")
def small_data(tmp_path_factory) -> Path:
    """A 5% synthetic contact center, generated once per test session (read-only)."""
    out = tmp_path_factory.mktemp("synth") / "small"
    synth.generate(out, seed=7, scale=0.05)
    return out


@pytest.fixture
def small_copy(small_data, tmp_path) -> Path:
    """A private copy of the small data set that a test may break."""
    import shutil

    dst = tmp_path / "data"
    shutil.copytree(small_data, dst)
    return dst


@pytest.fixture(scope="session")
def synthetic() -> Path:
    """The default synthetic data set (generated by `make`; generated here if missing)."""
    if not synth.is_current(SYNTHETIC_DIR):
        synth.generate(SYNTHETIC_DIR)
    return SYNTHETIC_DIR


@pytest.fixture(scope="session")
def truth(synthetic) -> dict:
    return json.loads((synthetic / "truth.json").read_text())


@pytest.fixture(scope="session")
def tables(synthetic) -> dict[str, pd.DataFrame]:
    """The default synthetic tables read straight from Parquet (no ccinsight code)."""
    return {p.stem: pd.read_parquet(p) for p in synthetic.glob("*.parquet")}


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, installed by the test set-up when missing."""
    path = shutil.which("chromium")
    if path is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, capture_output=True, timeout=900)
        path = shutil.which("chromium")
    if path is None:
        pytest.skip("Chromium is not installed and could not be installed (needs root and apt-get); "
                    "install Debian's 'chromium' package to run the deck page test.")
    return path
