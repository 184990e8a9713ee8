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


@pytest.mark.parametrize("cut", [{"month": "2025-06"}, {}, {"as_observed": False}],
                         ids=["rows cut at a month's end", "latest month", "not cut"])
def test_no_load_hands_out_a_kept_table(small_copy, cut):
    # whether or not the month's cut left a table new, what one notebook does to its tables
    # never reaches the next load
    first = data.load(small_copy, **cut)
    for df in first.tables.values():
        df.iloc[0] = df.iloc[-1]  # in place, every column
    second = data.load(small_copy, **cut)
    data._CHECKED.clear()
    fresh = data.load(small_copy, **cut)
    for name, df in fresh.tables.items():
        assert not first.tables[name].iloc[0].equals(df.iloc[0]), name  # the change took
        pd.testing.assert_frame_equal(second.tables[name], df)


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


# ------------------------------------------------------------------ counts a deck's check leaves for its kernels
@pytest.fixture
def counts(tmp_path, monkeypatch):
    """The folder a deck names for its run (data.COUNTS_ENV)."""
    folder = tmp_path / "counts"
    monkeypatch.setenv(data.COUNTS_ENV, str(folder))
    return folder


def _no_check(*args, **kwargs):
    raise AssertionError("the call table was checked again")


def test_a_passed_check_s_counts_are_read_back_as_they_were(small_copy, counts, monkeypatch):
    first = data.load(small_copy, as_observed=False)
    assert not counts.exists()  # a load leaves nothing: the deck leaves a passed check's counts
    data.leave_counts(first, counts)
    assert len(list(counts.glob("outbound_calls-*.parquet"))) == 1
    data._CHECKED.clear()  # as in another process: a kernel
    monkeypatch.setattr(data, "_check_held", _no_check)
    again = data.load(small_copy, as_observed=False)
    pd.testing.assert_frame_equal(again.held["outbound_calls"].by_day, first.held["outbound_calls"].by_day)
    assert again.held["outbound_calls"].columns == first.held["outbound_calls"].columns
    assert again.report.rows == first.report.rows
    assert str(again.latest_complete_month()) == str(first.latest_complete_month())
    month = data.load(small_copy, month="2025-06")  # cut at a month's end as from a check
    monkeypatch.undo()
    data._CHECKED.clear()
    pd.testing.assert_frame_equal(month.held["outbound_calls"].by_day,
                                  data.load(small_copy, month="2025-06").held["outbound_calls"].by_day)


def test_a_changed_call_or_agents_file_is_checked_again(small_copy, counts, monkeypatch):
    data.leave_counts(data.load(small_copy, as_observed=False), counts)
    data._CHECKED.clear()
    calls = small_copy / "outbound_calls.parquet"
    df = pd.read_parquet(calls)
    df.iloc[: len(df) // 2].to_parquet(calls)
    checked = []
    real = data._check_held
    monkeypatch.setattr(data, "_check_held", lambda *a: checked.append(a[0]) or real(*a))
    assert data.load(small_copy, as_observed=False).held["outbound_calls"].rows == len(df) // 2
    data.leave_counts(data.load(small_copy, as_observed=False), counts)
    agents = small_copy / "agents.parquet"
    pd.read_parquet(agents).to_parquet(agents)  # the same rows, another file
    data._CHECKED.clear()
    data.load(small_copy, as_observed=False)
    assert checked == ["outbound_calls", "outbound_calls"]


def test_a_deck_run_names_its_folder_clears_other_code_versions_and_all_with_force(tmp_path, monkeypatch):
    import os

    from ccinsight import deck

    monkeypatch.delenv(data.COUNTS_ENV, raising=False)
    current = deck.counts_folder(tmp_path)
    for name in ("older-code", current.name):
        (current.parent / name).mkdir(parents=True)
        (current.parent / name / "outbound_calls-x.parquet").write_text("x")
    with deck._counts_shared(tmp_path, force=False):
        assert os.environ[data.COUNTS_ENV] == str(current)
        assert sorted(p.name for p in current.parent.iterdir()) == [current.name]
        assert (current / "outbound_calls-x.parquet").exists()
    assert data.COUNTS_ENV not in os.environ  # only for the run
    with deck._counts_shared(tmp_path, force=True):
        assert not current.exists()  # every table checked again


def test_a_deck_s_check_leaves_the_call_counts_only_when_it_passes(small_copy, tmp_path):
    import yaml

    from ccinsight import deck

    params = tmp_path / "deck.yaml"
    params.write_text(yaml.safe_dump({"deck": "monthly", "data": str(small_copy)}))
    plan = deck.load_plan(str(params), None, None)
    deck.check_inputs(plan, plan.months, tmp_path / "out")
    assert len(list(deck.counts_folder(tmp_path / "out").glob("outbound_calls-*.parquet"))) == 1
    calls = small_copy / "outbound_calls.parquet"
    df = pd.read_parquet(calls)
    df.loc[df.index[:4], "talk_time_s"] = -5.0
    df.to_parquet(calls)
    with pytest.raises(DataError, match="talk_time_s"):
        deck.check_inputs(plan, plan.months, tmp_path / "out2")
    assert not (tmp_path / "out2").exists()
