"""Checked tables kept in the process (data._CHECKED): the same tables and problems as a
first read, every load its own copy, a changed file read again."""
from __future__ import annotations

import pandas as pd
import pytest

from ccinsight import data
from ccinsight.kernels import KEPT_TABLES_BYTES
from ccinsight.errors import DataError


@pytest.fixture(autouse=True)
def _empty(monkeypatch):
    monkeypatch.setattr(data, "CHECKED_BYTES", KEPT_TABLES_BYTES)  # as in a deck's kept kernel
    data._CHECKED.clear()
    yield
    data._CHECKED.clear()


def test_a_second_load_is_the_first_one_s_tables_in_copies(small_copy):
    first = data.load(small_copy, month="2025-06")
    kept = len(data._CHECKED)
    assert kept == 6  # five tables and the counted call table
    first.tables["agents"].loc[:, "site"] = "changed by an analysis"
    second = data.load(small_copy, month="2025-06")
    assert len(data._CHECKED) == kept
    assert not (second.tables["agents"]["site"] == "changed by an analysis").any()
    data._CHECKED.clear()
    fresh = data.load(small_copy, month="2025-06")
    for name, df in fresh.tables.items():
        pd.testing.assert_frame_equal(second.tables[name], df)
    pd.testing.assert_frame_equal(second.held["outbound_calls"].by_day, fresh.held["outbound_calls"].by_day)
    assert second.report.rows == fresh.report.rows and second.notes == fresh.notes


def test_a_changed_file_is_read_again_and_its_problems_reported(small_copy):
    data.load(small_copy)
    path = small_copy / "agents.parquet"
    agents = pd.read_parquet(path)
    agents.loc[agents.index[:3], "hire_date"] = pd.NaT
    agents.to_parquet(path)
    for _ in range(2):  # the failing table is kept too: the same message again
        with pytest.raises(DataError, match=r"agents.*hire_date"):
            data.load(small_copy)


def test_tables_over_the_budget_are_not_kept(small_copy, monkeypatch):
    monkeypatch.setattr(data, "CHECKED_BYTES", 1)
    data.load(small_copy)
    assert not data._CHECKED


def test_nothing_is_kept_outside_a_kept_kernel(small_copy, monkeypatch):
    monkeypatch.setattr(data, "CHECKED_BYTES", 0)
    data.load(small_copy)
    assert not data._CHECKED
