"""Faults while running: a cell that runs too long, a kernel that dies, a disk that is full.

Each ends in a clear status and message; none leaves a half-written output or touches an
earlier deck.
"""
from __future__ import annotations

import errno
import hashlib
import json
import pathlib

import nbformat
import pytest
import yaml

from ccinsight import cli
from conftest import run_cli


def _notebook(path, body: str):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("seconds: int = 60  # how long the slow cell takes")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# A notebook that misbehaves"), params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_a_cell_over_the_timeout_is_stopped_and_marked_failed(tmp_path):
    nb = _notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(seconds)")
    result = run_cli("run", str(nb), "--cell-timeout", "2", "--out", str(tmp_path / "out"), timeout=120)
    assert result.code == 1 and "Traceback" not in result.text, result.text
    assert "cell 3 (`import time`) ran longer than the per-cell timeout of 2 s" in result.err
    page = (tmp_path / "out" / "slow.html").read_text()
    assert "failed: cell 3" in page and "This run failed" in page


def test_a_dead_kernel_is_reported_as_such(tmp_path):
    nb = _notebook(tmp_path / "dies.ipynb", "import os\nos._exit(1)")
    result = run_cli("run", str(nb), "--out", str(tmp_path / "out"), timeout=120)
    assert result.code == 1 and "Traceback" not in result.text, result.text
    assert "the kernel died while running cell 3" in result.err
    assert (tmp_path / "out" / "dies.ipynb").exists()


def _fingerprint(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def small_deck(small_data, tmp_path):
    params = tmp_path / "deck.yaml"
    params.write_text(yaml.safe_dump({"deck": "faults", "data": str(small_data), "month": "2026-06",
                                      "notebooks": {"data_overview": {}}}))
    out = tmp_path / "out"
    assert cli.main(["deck", "--params", str(params), "--out", str(out)]) == 0
    return params, out


@pytest.mark.parametrize("error,words", [
    (OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
    (PermissionError(errno.EACCES, "Permission denied"), "Permission denied"),
])
def test_a_failed_write_is_one_sentence_and_keeps_the_earlier_deck(small_deck, monkeypatch, capsys, error, words):
    params, out = small_deck
    before = _fingerprint(out)
    real = pathlib.Path.write_text

    def failing(self, *args, **kwargs):
        if self.name == "manifest.json":
            error.filename = str(self)
            raise error
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", failing)
    capsys.readouterr()
    code = cli.main(["deck", "--params", str(params), "--out", str(out), "--force"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2
    assert err.startswith("error: Could not write the deck for 2026-06") and words in err
    assert "left as it was" in err and "Traceback" not in err
    assert _fingerprint(out) == before  # the earlier deck is intact, no temporary folder is left
    manifest = json.loads((out / "faults" / "2026-06" / "manifest.json").read_text())
    assert manifest["month"] == "2026-06"
