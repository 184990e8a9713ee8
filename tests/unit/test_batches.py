"""Large tables are checked a batch of rows at a time and kept as their files.

The contract check of a table read in batches must find what the check of the whole
table finds (the whole-table check, with pandera's uniqueness rule, is the independent
reference), and the counts kept for the data overview must equal pandas' counts of the
whole table.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ccinsight import contract, data, period, readers, synth


def _broken_calls(folder) -> pd.DataFrame:
    """Break the calls in rows far apart, so every rule is broken in more than one batch."""
    path = folder / "outbound_calls.parquet"
    calls = pd.read_parquet(path)
    calls["talk_time_s"] = calls["talk_time_s"].where(~calls.index.isin([5, 2_500, 40_000]), -1.0)
    calls.loc[[7, 30_000], "agent_id"] = ["NOBODY-1", "NOBODY-2"]
    calls.loc[[11, 31_000], "accepted"] = False
    calls.loc[[11, 31_000], "converted"] = True
    calls.loc[[20_000, 45_000], "call_id"] = calls.loc[[3, 12], "call_id"].to_numpy()  # duplicates across batches
    path.unlink()
    calls.to_parquet(path, index=False)
    return calls


def _found(report: contract.ValidationReport) -> set[tuple]:
    return {(p.table, p.column, p.rule, p.n_rows) for p in report.problems}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_table_checked_in_batches_reports_what_the_whole_table_check_reports(fmt, small_copy, monkeypatch):
    calls = _broken_calls(small_copy)
    if fmt == "csv":
        (small_copy / "outbound_calls.parquet").unlink()
        calls.to_csv(small_copy / "outbound_calls.csv", index=False)
    monkeypatch.setattr(readers, "BATCH_ROWS", 1_000)  # the small set's ~50,000 calls in about 50 batches
    batched = data.load(small_copy, validate=False).report
    whole = {n: readers.read_table(readers.table_file(small_copy, n), n) for n in contract.TABLES
             if readers.table_file(small_copy, n)}
    _, reference = contract.validate(whole)
    assert _found(batched) == _found(reference)
    assert ("outbound_calls", "call_id", "duplicate values in a column that must be unique",
            int(calls["call_id"].duplicated(keep=False).sum())) in _found(batched)
    assert ("outbound_calls", "agent_id", "agents that are not in the agents table", 2) in _found(batched)  # planted
    assert batched.rows == reference.rows


def test_a_clean_table_checked_in_batches_passes_with_every_row_counted(small_data, monkeypatch):
    monkeypatch.setattr(readers, "BATCH_ROWS", 777)
    report = data.load(small_data, validate=False).report
    assert report.ok, str(report)
    assert report.rows["outbound_calls"] == len(pd.read_parquet(small_data / "outbound_calls.parquet"))


def test_the_counts_kept_for_a_held_table_equal_pandas_counts_at_the_month_end(small_data):
    ds = data.load(small_data)  # cut at the latest complete month
    calls = pd.read_parquet(small_data / "outbound_calls.parquet")
    seen, notes = period.as_observed({"outbound_calls": calls}, ds.as_of)
    seen = seen["outbound_calls"]
    held = ds.held["outbound_calls"]
    assert held.rows == len(seen)
    assert held.first == seen["started_at"].min().normalize()
    assert held.last == seen["started_at"].max().normalize()
    pd.testing.assert_series_equal(held.missing(), seen.isna().sum().astype(int), check_names=False)
    per_month = seen["started_at"].dt.to_period("M").value_counts().sort_index()
    assert held.per_month().to_dict() == per_month.to_dict()
    assert [n for n in ds.notes if n.startswith("outbound_calls")] == notes


def test_a_held_table_is_not_loaded_into_memory(small_data):
    ds = data.load(small_data)
    assert "outbound_calls" in ds and "outbound_calls" not in ds.tables
    with pytest.raises(Exception, match="kept as its file"):
        ds["outbound_calls"]


def test_the_generator_writes_calls_in_chunks_numbered_on(tmp_path, monkeypatch):
    monkeypatch.setattr(synth, "CALL_CHUNK", 700)  # months of the small set hold 1,000-2,000 calls
    result = synth.generate(tmp_path / "chunked", scale=0.05)
    calls = pd.read_parquet(tmp_path / "chunked" / "outbound_calls.parquet")
    assert len(calls) == synth.Plan().scaled(0.05).calls == result.rows["outbound_calls"]
    assert np.array_equal(np.sort(calls["call_id"].to_numpy()), np.arange(1, len(calls) + 1))
    assert calls["started_at"].dt.to_period("M").is_monotonic_increasing  # chunks of a month stay in it
    assert data.load(tmp_path / "chunked", validate=False).report.ok
