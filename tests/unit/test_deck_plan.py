"""The deck's params file, validated as a whole before anything runs (in-process)."""
from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from ccinsight import deck
from ccinsight.credentials import redact
from ccinsight.errors import ParameterError
from conftest import deck_params


@pytest.mark.parametrize("changes,match", [
    ({"colour": "blue"}, "unknown key.*valid keys: deck, data, sources, labels, month"),
    ({"min_cell_size": "five"}, "'min_cell_size' must be int"),
    ({"month": "2026-13"}, "is not a month; write it as YYYY-MM"),
    ({"month": "October"}, "is not a month"),
    ({"notebooks": {"churn_model": {}}}, "unknown notebook section 'churn_model'; valid: data_overview"),
    ({"notebooks": {"training_vs_performance": {"metrc": "qa_score"}}}, "did you mean 'metric'"),
    ({"notebooks": {"training_vs_performance": {"min_cohort_size": "8"}}}, "must be int"),
    ({"notebooks": {"attrition_survival": {"month": "2026-01"}}}, "the deck sets data, sources, labels, month"),
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
                              "attrition_survival", "effective_seats", "kpi_scorecard", "hiring_channel_quality"}


def test_only_one_of_two_runs_publishes_a_month(tmp_path):
    final, first, second = tmp_path / "2026-10", tmp_path / ".a", tmp_path / ".b"
    for folder, text in ((first, "first"), (second, "second")):
        folder.mkdir()
        (folder / "index.html").write_text(text)
    assert deck.publish(first, final, force=False) is False
    with pytest.raises(FileExistsError):  # the caller keeps the deck in place and exits 0
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


# --------------------------------------------------------------------------- faults inside the notebooks' runs
def _fake_result(task, **changes):
    return {"notebook": task["notebook"], "month": task["month"], "status": "ok", "error": None, "findings": {},
            "start": "", "end": "", "duration_s": 0.1, "output_error": None, **changes}


class _Executor:
    """Runs deck tasks in-process through ``fn`` (no kernels)."""

    def __init__(self, fn):
        self.fn = fn

    def run(self, tasks):
        for t in tasks:
            yield self.fn(t)


def _plan(tmp_path, small_data):
    return deck.load_plan(deck_params(tmp_path, data=str(small_data), month="2026-06",
                                      notebooks={"data_overview": {}}))


def test_a_full_disk_in_a_notebook_is_one_sentence_and_writes_no_deck(tmp_path, small_data):
    import errno

    from ccinsight.errors import OutputError

    plan = _plan(tmp_path, small_data)
    full = _Executor(lambda t: _fake_result(t, status="failed", error="No space left on device", output_error={
        "errno": errno.ENOSPC, "strerror": "No space left on device", "filename": str(tmp_path / "x.ipynb")}))
    with pytest.raises(OutputError, match="Could not write the deck for 2026-06 to .*No space left on device"):
        deck.build_month(plan, plan.months[0], tmp_path / "out", full, False, None, lambda _: None)
    # nothing but the month's lock file (kept for the next run to take)
    assert [p.name for p in (tmp_path / "out").rglob("*") if p.is_file()] == [".2026-06.lock"]


def test_run_task_reports_a_full_disk_and_inputs_that_changed(tmp_path, monkeypatch):
    import errno

    from ccinsight import audit, runner

    data = tmp_path / "data"
    data.mkdir()
    (data / "agents.csv").write_text("agent_id\na1\n")
    inputs = audit.input_files(str(data), None, ["agents"])
    task = {"notebook": "data_overview", "month": "2026-06", "parameters": {}, "out": str(tmp_path / "o"),
            "where": "w", "inputs": inputs}

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "x.ipynb")

    monkeypatch.setattr(runner, "run", full)
    r = deck.run_task(task)
    assert r["status"] == "failed" and r["output_error"]["errno"] == errno.ENOSPC
    monkeypatch.setattr(runner, "run", lambda *a, **k: runner.RunResult(
        "data_overview", tmp_path, {}, {"n": 1}, "ok", 0.1))
    assert deck.run_task(task)["status"] == "ok"
    (data / "agents.csv").write_text("agent_id\na2\n")  # replaced while the deck ran
    r = deck.run_task(task)
    assert r["status"] == "failed" and "agents.csv changed while the deck ran" in r["error"]


def test_an_input_is_hashed_once_per_version_of_the_file(tmp_path, monkeypatch):
    # a deck worker hashes every input before and after each notebook: an unchanged file is
    # read once, a changed one again, even with its size and modification time put back
    import os

    from ccinsight import readers

    reads = []
    real = readers._sha256
    monkeypatch.setattr(readers, "_sha256", lambda path: reads.append(path) or real(path))
    monkeypatch.setattr(readers, "_FOUND", {})
    path = tmp_path / "agents.csv"
    path.write_text("agent_id\na1\n")
    readers.sha256(path), readers.sha256(path)
    assert len(reads) == 2  # just written: it could change again within its timestamps' tick
    monkeypatch.setattr(readers, "SETTLED_S", 0.0)  # as if written long ago
    first = readers.sha256(path)
    assert readers.sha256(path) == first and len(reads) == 3
    st = path.stat()
    path.write_text("agent_id\na2\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert readers.sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest() != first
    assert len(reads) == 4


def test_a_backfill_sends_every_month_s_notebooks_to_the_workers_at_once(tmp_path, small_data):
    """Months x notebooks go to one pool (no idle workers at each month's end), and each
    month is still put together after the month before, whose findings its page compares with."""
    plan = deck.load_plan(deck_params(tmp_path, data=str(small_data), notebooks={"data_overview": {},
                                                                                "attrition_survival": {}}))
    months = (pd.Period("2026-05", freq="M"), pd.Period("2026-06", freq="M"), pd.Period("2026-07", freq="M"))
    batches = []

    class Recording(_Executor):
        def run(self, tasks):
            batches.append([(t["month"], t["notebook"]) for t in tasks])
            # the last month's notebooks finish first: the decks must still be put together in month order
            yield from (self.fn(t) for t in sorted(tasks, key=lambda t: t["month"], reverse=True))

    out = tmp_path / "out"
    built = deck.build_months(plan, months, out, Recording(_fake_result), False, None, lambda _: None)
    assert len(batches) == 1 and len(batches[0]) == 6
    assert [r.month for r in built] == ["2026-05", "2026-06", "2026-07"] and not any(r.failed for r in built)
    for month in months[1:]:
        manifest = json.loads((out / plan.name / str(month) / "manifest.json").read_text())
        before = out / plan.name / str(month - 1) / "findings.json"
        assert manifest["previous_findings"] == hashlib.sha256(before.read_bytes()).hexdigest()
