"""`ccinsight run`: checked parameters, executed notebook, reviewer HTML, findings.json."""
from __future__ import annotations

import json

import nbformat
import pandas as pd
import pytest

from conftest import run_cli

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def overview_run(small_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "overview"
    result = run_cli("run", "data_overview", "--set", f"data={small_data}", "--out", str(out))
    assert result.code == 0, result.text
    return out


def test_writes_the_three_files(overview_run):
    assert sorted(p.name for p in overview_run.iterdir()) == [
        ".data_overview.lock", "data_overview.html", "data_overview.ipynb", "findings.json"]  # no temporary left


def test_findings_match_the_tables(overview_run, small_data):
    found = json.loads((overview_run / "findings.json").read_text())
    agents = pd.read_parquet(small_data / "agents.parquet")
    calls = pd.read_parquet(small_data / "outbound_calls.parquet", columns=["started_at"])
    month_end = pd.Timestamp("2026-10-31")  # the latest complete month of the small data
    assert found["month"] == "2026-10"
    assert found["n_hires"] == int((agents["hire_date"] <= month_end).sum())
    assert found["n_exits"] == int((agents["exit_date"] <= month_end).sum())  # exits after it are not known yet
    assert found["n_calls"] == int((calls["started_at"] < month_end + pd.Timedelta(days=1)).sum())
    assert found["n_cohorts"] == agents.loc[agents["hire_date"] <= month_end, "cohort_id"].nunique()
    assert found["first_data_month"] == str(agents["hire_date"].min().to_period("M"))


def test_html_shows_no_code_but_the_run_record(overview_run, small_data):
    html = (overview_run / "data_overview.html").read_text()
    assert "ccdata.load" not in html and "set_theme()" not in html
    assert 'class="highlight' not in html  # no syntax-highlighted source
    assert "Run record" in html and str(small_data) in html
    assert "findings recorded" not in html
    assert "cdnjs" not in html and "<script src=\"http" not in html
    assert "<img" in html  # the figure is embedded


def test_executed_notebook_records_parameters(overview_run, small_data):
    nb = nbformat.read(overview_run / "data_overview.ipynb", as_version=4)
    assert nb.metadata["papermill"]["parameters"] == {"data": str(small_data)}
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1


def test_misspelt_parameter_refused_before_anything_runs(tmp_path):
    out = tmp_path / "never"
    result = run_cli("run", "data_overview", "--set", "dta=data/synthetic", "--out", str(out))
    assert result.code == 2
    assert "unknown parameter 'dta'" in result.err and "did you mean 'data'" in result.err
    assert "Traceback" not in result.text
    assert not out.exists()


def test_wrong_type_refused(tmp_path):
    result = run_cli("run", "data_overview", "--set", "data=5", "--out", str(tmp_path / "x"))
    assert result.code == 2 and "must be str" in result.err


def test_unknown_notebook_lists_available():
    result = run_cli("run", "no_such_notebook")
    assert result.code == 2 and "data_overview" in result.err


def test_bad_data_inside_a_notebook_exits_2_with_the_message(tmp_path, small_copy):
    (small_copy / "training.parquet").unlink()
    result = run_cli("run", "data_overview", "--set", f"data={small_copy}", "--out", str(tmp_path / "o"))
    assert result.code == 2
    assert "no file for table(s) training" in result.err
    assert (tmp_path / "o" / "data_overview.ipynb").exists()


def test_failed_cell_keeps_the_executed_notebook_and_names_the_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('x: int = 1  # a number')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Fails"), params,
                nbformat.v4.new_code_cell("y = x + 1"), nbformat.v4.new_code_cell("1 / 0")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "fails.ipynb"
    nbformat.write(nb, path)
    out = tmp_path / "out"
    result = run_cli("run", str(path), "--out", str(out))
    assert result.code == 1
    assert "ZeroDivisionError" in result.err and "cell 3 (`1 / 0`)" in result.err
    executed = nbformat.read(out / "fails.ipynb", as_version=4)
    assert any(o.get("output_type") == "error" for c in executed.cells for o in c.get("outputs", []))
    assert "ZeroDivisionError" in (out / "fails.html").read_text()
