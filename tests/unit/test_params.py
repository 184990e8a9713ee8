"""Notebook parameters: read from the parameters cell, checked strictly before a run."""
from __future__ import annotations

import nbformat
import pytest

from ccinsight import params
from ccinsight.errors import ParameterError


def _notebook(tmp_path, source: str):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


SOURCE = '''month: Optional[str] = None  # analysis month YYYY-MM
min_cell_size: int = 5  # smallest group shown
target: float = 0.7  # acceptance target
metrics: list[str] = ["qa_score"]  # metrics to show
'''


def test_reads_names_types_defaults_and_help(tmp_path):
    accepted = params.notebook_parameters(_notebook(tmp_path, SOURCE))
    assert list(accepted) == ["month", "min_cell_size", "target", "metrics"]
    assert accepted["month"].type_text == "Optional[str]"
    assert accepted["month"].kind == "str or None" and accepted["metrics"].kind == "list of str"
    assert accepted["month"].default is None
    assert accepted["target"].default == 0.7
    assert accepted["min_cell_size"].help == "smallest group shown"


@pytest.mark.parametrize("given", [
    {"month": "2026-10"}, {"month": None}, {"target": 1}, {"min_cell_size": 3}, {"metrics": ["aht_s"]},
])
def test_accepts_values_of_the_right_type(tmp_path, given):
    accepted = params.notebook_parameters(_notebook(tmp_path, SOURCE))
    assert params.check_parameters(given, accepted, "test") == {
        k: float(v) if k == "target" else v for k, v in given.items()}


@pytest.mark.parametrize("given", [
    {"month": 202610}, {"min_cell_size": "five"}, {"min_cell_size": True}, {"target": "high"},
    {"metrics": "aht_s"}, {"metrics": [1, 2]},
])
def test_refuses_wrong_types(tmp_path, given):
    accepted = params.notebook_parameters(_notebook(tmp_path, SOURCE))
    with pytest.raises(ParameterError, match="must be"):
        params.check_parameters(given, accepted, "test")


def test_refuses_unknown_names_listing_valid_ones(tmp_path):
    accepted = params.notebook_parameters(_notebook(tmp_path, SOURCE))
    with pytest.raises(ParameterError) as err:
        params.check_parameters({"min_cel_size": 5}, accepted, "test")
    text = str(err.value)
    assert "did you mean 'min_cell_size'" in text
    assert "month: str or None" in text and "target: float" in text


def test_parameters_cell_must_hold_literals(tmp_path):
    with pytest.raises(ParameterError, match="literal"):
        params.notebook_parameters(_notebook(tmp_path, "a: int = 1\nb: int = a + 1  # derived\n"))


@pytest.mark.parametrize("line", [
    "month: str | None = None  # analysis month",  # papermill's inspector skips `X | None`
    "month: Optional[str] = None  # None = the latest month",  # a second '=' hides the line from papermill
])
def test_refuses_lines_papermill_cannot_read(tmp_path, line):
    with pytest.raises(ParameterError, match="papermill cannot read line 1"):
        params.notebook_parameters(_notebook(tmp_path, line + "\n"))


def test_missing_parameters_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nbformat.write(nb, tmp_path / "x.ipynb")
    with pytest.raises(ParameterError, match="no cell tagged 'parameters'"):
        params.notebook_parameters(tmp_path / "x.ipynb")


def test_set_values_are_read_as_yaml():
    assert params.parse_assignments(["a=5", "b=0.5", "c=null", "d=2026-10", "e=text", "f=2026-10-01"]) == {
        "a": 5, "b": 0.5, "c": None, "d": "2026-10", "e": "text", "f": "2026-10-01"}


def test_set_needs_key_and_value():
    with pytest.raises(ParameterError, match="key=value"):
        params.parse_assignments(["month"])


@pytest.mark.parametrize("content,match", [
    ("- a\n- b\n", "mapping"), ("a: [1,\n", "not valid YAML"), (b"\xff\xfe\x00a", "not UTF-8"),
])
def test_bad_params_files(tmp_path, content, match):
    path = tmp_path / "p.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ParameterError, match=match):
        params.read_params_file(path)
