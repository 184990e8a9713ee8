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


def test_only_one_of_two_runs_publishes_a_month(tmp_path):
    final, first, second = tmp_path / "2026-10", tmp_path / ".a", tmp_path / ".b"
    for folder, text in ((first, "first"), (second, "second")):
        folder.mkdir()
        (folder / "index.html").write_text(text)
    assert deck.publish(first, final, force=False) is False
    with pytest.raises(ParameterError, match="Another run published a deck for 2026-10"):
        deck.publish(second, final, force=False)
    assert (final / "index.html").read_text() == "first" and not second.exists()
    third = tmp_path / ".c"
    third.mkdir()
    (third / "index.html").write_text("third")
    assert deck.publish(third, final, force=True) is True and (final / "index.html").read_text() == "third"


def test_the_default_pseudonym_key_is_said_on_the_terminal_and_in_the_record(monkeypatch):
    from ccinsight.privacy import KEY_ENV, pseudonym_key_source

    monkeypatch.delenv(KEY_ENV, raising=False)
    assert "built-in default" in pseudonym_key_source()
    monkeypatch.setenv(KEY_ENV, "s3cret")
    assert pseudonym_key_source() == f"${KEY_ENV}" and "s3cret" not in pseudonym_key_source()
