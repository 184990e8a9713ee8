"""One notion of the period: months, the latest complete month, and the data as they stood
at a month's end (checked on a hand-built fixture, row by row)."""
from __future__ import annotations

import pandas as pd
import pytest

from ccinsight import data, period
from ccinsight.errors import DataError, ParameterError

AS_OF = pd.Timestamp("2026-08-31")


def test_months_are_strict():
    assert period.parse_month("2026-08") == pd.Period("2026-08", freq="M")
    for bad in ("2026-13", "Aug 2026", "2026-8", None, 202608):
        with pytest.raises(ParameterError, match="YYYY-MM"):
            period.parse_month(bad)
    assert [str(m) for m in period.parse_months("2025-11:2026-02")] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    with pytest.raises(ParameterError, match="ends before it starts"):
        period.parse_months("2026-02:2025-11")


@pytest.mark.parametrize("last_day,expected", [("2026-10-31", "2026-10"), ("2026-10-30", "2026-09"),
                                               ("2026-11-01", "2026-10"), ("2024-02-29", "2024-02")])
def test_latest_complete_month(last_day, expected):
    assert str(period.latest_complete_month(pd.Timestamp(last_day))) == expected


def test_window_start_counts_calendar_months():
    assert period.window_start(AS_OF, 1) == pd.Timestamp("2026-08-01")
    assert period.window_start(AS_OF, 24) == pd.Timestamp("2024-09-01")


def _tables():
    d = pd.to_datetime
    agents = pd.DataFrame({
        "agent_id": ["stays", "left_before", "leaves_after", "hired_after", "cert_after", "hired_on_last_day"],
        "hire_date": d(["2026-01-05", "2026-02-01", "2026-03-01", "2026-09-01", "2026-07-01", "2026-08-31"]),
        "exit_date": d([None, "2026-05-01", "2026-09-15", None, None, None]),
        "exit_type": [None, "voluntary", "involuntary", None, None, None],
        "certified": pd.array([True, False, True, None, True, None], dtype="boolean"),
        "certification_date": d(["2026-03-05", "2026-04-01", "2026-05-01", None, "2026-09-01", None])})
    training = pd.DataFrame({"agent_id": ["stays", "cert_after"], "training_end_date": d(["2026-02-01", "2026-09-02"])})
    performance = pd.DataFrame({"agent_id": ["stays"] * 3, "month": d(["2026-07-01", "2026-08-01", "2026-09-01"])})
    calls = pd.DataFrame({"call_id": [1, 2, 3], "started_at": d(["2026-08-31 23:59", "2026-09-01 00:00",
                                                                 "2026-08-01 09:00"])})
    return {"agents": agents, "training": training, "performance": performance, "outbound_calls": calls}


def test_the_data_as_they_stood_at_the_end_of_the_month():
    tables = _tables()
    originals = {k: v.copy() for k, v in tables.items()}
    seen, notes = period.as_observed(tables, AS_OF)
    for name, frame in tables.items():  # inputs untouched
        pd.testing.assert_frame_equal(frame, originals[name])
    a = seen["agents"].set_index("agent_id")
    assert list(a.index) == ["stays", "left_before", "leaves_after", "cert_after", "hired_on_last_day"]
    assert a.loc["left_before", "exit_date"] == pd.Timestamp("2026-05-01")
    assert a.loc["left_before", "exit_type"] == "voluntary"
    assert pd.isna(a.loc["leaves_after", "exit_date"]) and pd.isna(a.loc["leaves_after", "exit_type"])
    assert pd.isna(a.loc["cert_after", "certified"]) and pd.isna(a.loc["cert_after", "certification_date"])
    assert a.loc["leaves_after", "certified"] == True  # noqa: E712 - certified in May, known by August
    assert seen["training"]["agent_id"].tolist() == ["stays"]
    assert seen["performance"]["month"].dt.strftime("%Y-%m").tolist() == ["2026-07", "2026-08"]
    assert seen["outbound_calls"]["call_id"].tolist() == [1, 3]
    assert len(notes) == 4  # agents, training, performance and calls each lost rows


def test_loading_a_month_cuts_the_data_and_refuses_an_incomplete_month(small_data):
    full = data.load(small_data, as_observed=False)
    latest = full.latest_complete_month()
    earlier = data.load(small_data, month=str(latest - 3))
    assert earlier.as_of == (latest - 3).end_time.normalize()
    assert earlier["agents"]["hire_date"].max() <= earlier.as_of
    assert (earlier["performance"]["month"].dt.to_period("M") <= latest - 3).all()
    assert earlier.latest_complete_month() == latest - 3  # cut data end where the month ends
    with pytest.raises(DataError, match="not complete"):
        data.load(small_data, month=str(latest + 1))
