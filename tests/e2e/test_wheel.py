"""The package as released: a built wheel, installed into a fresh venv, runs the analyses
from an empty folder (no checkout, no registered kernel, no project folder)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ccinsight import __version__
from ccinsight.analyses import REGISTRY
from conftest import PROJECT_ROOT

pytestmark = pytest.mark.notebook
UV = Path(sys.executable).parent / "uv"


def _run(*cmd, cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A wheel built as a release would be (sdist, then the wheel from it), in a fresh venv."""
    work = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "build", "--outdir", work / "dist", PROJECT_ROOT, cwd=work)
    wheel = next((work / "dist").glob("ccinsight-*.whl"))
    _run(UV, "venv", "--quiet", "--python", sys.executable, work / "venv", cwd=work)
    _run(UV, "pip", "install", "--quiet", "--python", work / "venv" / "bin" / "python", wheel, cwd=work)
    return work


def test_the_wheel_carries_every_notebook_and_template(installed):
    wheel = next((installed / "dist").glob("ccinsight-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"ccinsight/notebooks/{a}.ipynb" for a in REGISTRY} <= set(names)
    assert "ccinsight/templates/reviewer/index.html.j2" in names


def test_synth_and_run_from_an_empty_folder(installed):
    empty = installed / "empty"
    empty.mkdir()
    home = installed / "home"  # no user-level Jupyter kernels or settings from this machine
    home.mkdir()
    env = {"PATH": f"{installed / 'venv' / 'bin'}:/usr/bin:/bin", "HOME": str(home)}
    assert _run("ccinsight", "--version", cwd=empty, env=env).stdout.strip() == f"ccinsight {__version__}"
    _run("ccinsight", "synth", "--out", "d", cwd=empty, env=env)
    run = _run("ccinsight", "run", "attrition_survival", "--data", "d", "--out", "o", cwd=empty, env=env)
    assert "Done in" in run.stdout
    assert {p.name for p in (empty / "o").iterdir() if not p.name.startswith(".")} == {
        "attrition_survival.ipynb", "attrition_survival.html", "findings.json"}
    found = json.loads((empty / "o" / "findings.json").read_text())
    agents = __import__("pandas").read_parquet(empty / "d" / "agents.parquet")
    assert 0 < found["n_hires"] <= len(agents)
    # the code that ran is the installed wheel's, not this checkout's
    code = "import ccinsight, sys; print(ccinsight.__file__)"
    where = _run(installed / "venv" / "bin" / "python", "-c", code, cwd=empty, env=env).stdout
    assert str(installed / "venv") in where and str(PROJECT_ROOT) not in where
    assert sorted(p.name for p in empty.iterdir() if not p.name.startswith(".")) == ["d", "o"]
    assert os.stat(empty / "d").st_mode & 0o777 == os.stat(empty / "o").st_mode & 0o777
