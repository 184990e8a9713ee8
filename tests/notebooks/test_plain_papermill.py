"""The notebooks as plain papermill users run them: every parameter known, no warnings."""
from __future__ import annotations

import logging
import warnings

import nbformat
import pytest

from conftest import NOTEBOOKS_DIR

pytestmark = pytest.mark.notebook

SCRIPTS = NOTEBOOKS_DIR / "script_duration_vs_acceptance.ipynb"


def test_valid_names_run_without_a_warning(small_data, tmp_path, caplog):
    import papermill

    out = tmp_path / "scripts.ipynb"
    with caplog.at_level(logging.WARNING, logger="papermill"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        papermill.execute_notebook(str(SCRIPTS), str(out), progress_bar=False,
                                   parameters={"data": str(small_data), "month": "2026-09", "new_version": None})
    assert [r.getMessage() for r in caplog.records if r.name.startswith("papermill")] == []
    assert [str(w.message) for w in caught if "papermill" in (w.filename or "")] == []
    executed = nbformat.read(out, as_version=4)
    assert executed.metadata.papermill.parameters["month"] == "2026-09"
    assert executed.metadata.kernelspec.name == "ccinsight"
    assert not [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


def test_a_typo_still_warns(tmp_path, caplog):
    import papermill

    with caplog.at_level(logging.WARNING, logger="papermill"):
        papermill.execute_notebook(str(SCRIPTS), str(tmp_path / "x.ipynb"), parameters={"monht": "2026-09"},
                                   prepare_only=True)
    assert "Passed unknown parameter: monht" in caplog.text
