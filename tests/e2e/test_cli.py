"""The command as a user types it: relative paths from inside the project and from a folder
outside it, a few bad inputs end to end (exit 2, one message, no traceback, nothing
written), and --debug."""
from __future__ import annotations

import hashlib
import os
import shutil

import pytest
import yaml

from conftest import PROJECT_ROOT, run_cli

pytestmark = pytest.mark.notebook
NOTEBOOKS = PROJECT_ROOT / "notebooks"


def _files(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


def test_relative_paths_from_the_notebooks_folder(synthetic, tmp_path):
    notebooks_before = sorted(p.name for p in NOTEBOOKS.iterdir())
    result = run_cli("validate", "--data", "../data/synthetic", cwd=NOTEBOOKS)
    assert result.code == 0 and "all checks passed" in result.out, result.text
    out = os.path.relpath(tmp_path / "from-notebooks", NOTEBOOKS)  # a relative path, as typed
    assert not out.startswith("/")
    params = yaml.safe_load((PROJECT_ROOT / "params" / "monthly.yaml").read_text())
    params["notebooks"] = {"data_overview": {}}
    (tmp_path / "deck.yaml").write_text(yaml.safe_dump(params))
    result = run_cli("deck", "--params", os.path.relpath(tmp_path / "deck.yaml", NOTEBOOKS), "--out", out,
                     "--month", "2026-10", cwd=NOTEBOOKS)
    assert result.code == 0, result.text
    # the deck's data (data/synthetic in the params file) was found in the project folder
    assert (tmp_path / "from-notebooks" / "monthly" / "2026-10" / "data_overview.html").is_file()
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == notebooks_before  # nothing written beside the notebooks


def test_relative_paths_from_a_folder_outside_the_project(small_data, tmp_path):
    work = tmp_path / "analyst"
    shutil.copytree(small_data, work / "mydata")
    (work / "deck.yaml").write_text(yaml.safe_dump({"deck": "mine", "data": "mydata",
                                                    "notebooks": {"data_overview": {}}}))
    project_outputs = _files(PROJECT_ROOT / "outputs")
    result = run_cli("validate", "--data", "mydata", cwd=work)
    assert result.code == 0, result.text
    result = run_cli("run", "data_overview", "--set", "data=mydata", "--out", "overview", cwd=work)
    assert result.code == 0, result.text
    assert (work / "overview" / "data_overview.html").is_file()
    result = run_cli("deck", "--params", "deck.yaml", "--out", "decks", cwd=work)
    assert result.code == 0, result.text
    assert (work / "decks" / "mine" / "2026-10" / "index.html").is_file()
    assert _files(PROJECT_ROOT / "outputs") == project_outputs  # nothing written into the checkout


def test_a_missing_relative_path_is_named_as_typed(tmp_path):
    result = run_cli("validate", "--data", "no/such/folder", cwd=tmp_path)
    assert result.code == 2 and "does not exist" in result.err and "Traceback" not in result.text


@pytest.mark.parametrize("case", ["missing table", "unknown key", "month without data"])
def test_bad_input_through_the_command(case, small_copy, tmp_path):
    params = {"deck": "smoke", "data": str(small_copy), "notebooks": {"data_overview": {}}}
    words = {"missing table": ["training", "no file for table"], "unknown key": ["colour", "valid keys"],
             "month without data": ["2019-01", "no complete month of data"]}[case]
    if case == "missing table":
        (small_copy / "training.parquet").unlink()
    elif case == "unknown key":
        params["colour"] = "blue"
    else:
        params["month"] = "2019-01"
    (tmp_path / "deck.yaml").write_text(yaml.safe_dump(params))
    before = _files(small_copy)
    result = run_cli("deck", "--params", "deck.yaml", "--out", "out", cwd=tmp_path)
    assert result.code == 2, result.text
    assert "Traceback" not in result.text and result.err.strip().splitlines()[-1].startswith("error: ")
    for w in words:
        assert w in result.err, result.err
    assert not (tmp_path / "out").exists()
    assert _files(small_copy) == before


def test_debug_shows_the_traceback(small_copy):
    (small_copy / "training.parquet").unlink()
    result = run_cli("--debug", "validate", "--data", str(small_copy))
    assert result.code != 0 and "Traceback" in result.text


def test_hostile_params_run_no_code_and_write_no_file(small_data, tmp_path):
    """The two ways params could write a file before: a filter calling os.system, and a DuckDB
    query with COPY. Both are refused (exit 2) and no file appears."""
    import duckdb

    db = tmp_path / "hr.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE agents AS SELECT * FROM read_parquet('{small_data / 'agents.parquet'}')")
    cases = {
        "filter": {"agents": {"file": str(small_data / "agents.parquet"),
                              "filter": "@os.system('touch pwned-filter') == 0"}},
        "copy": {"agents": {"file": str(db), "query": "COPY (SELECT 1) TO 'pwned-copy.csv'"}},
        "read other files": {"agents": {"file": str(db), "query": "SELECT * FROM read_csv_auto('/etc/passwd')"}},
    }
    for name, spec in cases.items():
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump({"sources": spec}))
        result = run_cli("validate", "--params", f"{name}.yaml", cwd=tmp_path)
        assert result.code == 2 and "Traceback" not in result.text, (name, result.text)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.yaml", "filter.yaml", "hr.duckdb",
                                                            "read other files.yaml"]
