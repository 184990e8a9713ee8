"""The deck's params file, validated as a whole before anything runs (in-process)."""
from __future__ import annotations

import pytest

from ccinsight import deck
from ccinsight.credentials import redact
from ccinsight.errors import ParameterError
from conftest import deck_params


@pytest.mark.parametrize("changes,match", [
    ({"colour": "blue"}, "unknown key.*valid keys: deck, data, sources, month"),
    ({"min_cell_size": "five"}, "'min_cell_size' must be int"),
    ({"month": "2026-13"}, "is not a month; write it as YYYY-MM"),
    ({"month": "October"}, "is not a month"),
    ({"notebooks": {"churn_model": {}}}, "unknown notebook section 'churn_model'; valid: data_overview"),
    ({"notebooks": {"training_vs_performance": {"metrc": "qa_score"}}}, "did you mean 'metric'"),
    ({"notebooks": {"training_vs_performance": {"min_cohort_size": "8"}}}, "must be int"),
    ({"notebooks": {"attrition_survival": {"month": "2026-01"}}}, "the deck sets data, sources, month"),
    ({"notebooks": {"training_vs_performance": {"min_cell_size": 3}}}, "sets min_cell_size"),
])
def test_params_file_is_validated_before_anything_runs(tmp_path, changes, match):
    with pytest.raises(ParameterError, match=match):
        deck.load_plan(deck_params(tmp_path, **changes))


def test_months_range():
    assert [str(m) for m in deck.parse_months("2025-11:2026-02")] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    with pytest.raises(ParameterError, match="ends before it starts"):
        deck.parse_months("2026-02:2025-11")


def test_secrets_are_redacted():
    assert redact({"url": "postgresql://ana:s3cret@db/x", "db_password": "x", "n": 1}) == {
        "url": "postgresql://ana:***@db/x", "db_password": "***", "n": 1}


def test_every_notebook_gets_the_shared_values(tmp_path):
    plan = deck.load_plan(deck_params(tmp_path, min_cell_size=7))
    assert all(values["min_cell_size"] == 7 and values["data"] == "data/synthetic" for values in plan.runs.values())
    assert set(plan.runs) == {"data_overview", "training_vs_performance", "script_duration_vs_acceptance",
                              "attrition_survival", "hiring_channel_quality"}
