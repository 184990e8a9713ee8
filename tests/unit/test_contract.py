"""The data contract: broken inputs each get exit 2 and a message naming table and column.

Every case breaks a private copy of the small synthetic data set in one way and runs
``ccinsight validate`` as a user would. The message must name the table and column,
the process must exit 2 without a traceback, and the input files must be unchanged.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from ccinsight import contract
from conftest import cli


def _edit(folder, table, fn):
    path = folder / f"{table}.parquet"
    df = pd.read_parquet(path)
    df = fn(df)
    path.unlink()
    df.to_parquet(path, index=False)


def _to_csv(folder, table, fn=lambda df: df, **csv_kw):
    path = folder / f"{table}.parquet"
    df = fn(pd.read_parquet(path))
    path.unlink()
    df.to_csv(folder / f"{table}.csv", index=False, **csv_kw)


def _set(table, column, row, value):
    def fn(df):
        df = df.copy()
        df[column] = df[column].astype(object)
        df.loc[row, column] = value
        return df
    return table, fn


def _first_exited(df):
    return df.index[df["exit_date"].notna()][0]


CASES = {
    "missing column": ("agents", "hire_date",
                       lambda f: _edit(f, "agents", lambda d: d.drop(columns="hire_date"))),
    "misspelt column": ("agents", "hire_date",
                        lambda f: _edit(f, "agents", lambda d: d.rename(columns={"hire_date": "hire_dt"}))),
    "unparseable date": ("agents", "hire_date",
                         lambda f: _to_csv(f, "agents", lambda d: d.assign(
                             hire_date=d["hire_date"].dt.strftime("%Y-%m-%d").where(d.index != 3, "soon")))),
    "impossible date": ("training", "training_end_date",
                        lambda f: _to_csv(f, "training", lambda d: d.assign(
                            training_end_date=d["training_end_date"].dt.strftime("%Y-%m-%d")
                            .where(d.index != 0, "2025-02-30")))),
    "exit before hire": ("agents", "exit_date",
                         lambda f: _edit(f, "agents", lambda d: d.assign(exit_date=d["exit_date"].where(
                             d.index != _first_exited(d), d["hire_date"] - pd.Timedelta(days=3))))),
    "hire date in the future": ("agents", "hire_date",
                                lambda f: _edit(f, "agents", lambda d: d.assign(hire_date=d["hire_date"].where(
                                    d.index != 0, pd.Timestamp("2099-01-01"))))),
    "score out of range": ("training", "training_score",
                           lambda f: _edit(f, "training", lambda d: d.assign(
                               training_score=d["training_score"].where(d.index != 1, 150.0)))),
    "negative talk time": ("outbound_calls", "talk_time_s",
                           lambda f: _edit(f, "outbound_calls", lambda d: d.assign(
                               talk_time_s=d["talk_time_s"].where(d.index != 5, -12.0)))),
    "zero talk time": ("outbound_calls", "talk_time_s",
                       lambda f: _edit(f, "outbound_calls", lambda d: d.assign(
                           talk_time_s=d["talk_time_s"].where(d.index != 5, 0.0)))),
    "absurd talk time": ("outbound_calls", "talk_time_s",
                         lambda f: _edit(f, "outbound_calls", lambda d: d.assign(
                             talk_time_s=d["talk_time_s"].where(d.index != 5, 99999.0)))),
    "missing talk time": ("outbound_calls", "talk_time_s",
                          lambda f: _edit(f, "outbound_calls", lambda d: d.assign(
                              talk_time_s=d["talk_time_s"].where(d.index != 5, np.nan)))),
    "duplicate agent id": ("agents", "agent_id",
                           lambda f: _edit(f, "agents", lambda d: d.assign(
                               agent_id=d["agent_id"].where(d.index != 1, d["agent_id"].iloc[0])))),
    "duplicate call id": ("outbound_calls", "call_id",
                          lambda f: _edit(f, "outbound_calls", lambda d: d.assign(
                              call_id=d["call_id"].where(d.index != 1, d["call_id"].iloc[0])))),
    "duplicate agent-month": ("performance", "month",
                              lambda f: _edit(f, "performance", lambda d: pd.concat([d, d.iloc[[0]]]))),
    "calls by unknown agents": ("outbound_calls", "agent_id",
                                lambda f: _edit(f, "outbound_calls", lambda d: d.assign(
                                    agent_id=d["agent_id"].where(d.index != 2, "A99999")))),
    "performance before hire": ("performance", "month",
                                lambda f: _edit(f, "performance", lambda d: d.assign(
                                    month=d["month"].where(d.index != 0, pd.Timestamp("2000-01-01"))))),
    "unknown exit type": ("agents", "exit_type",
                          lambda f: _edit(f, "agents", lambda d: d.assign(
                              exit_type=d["exit_type"].where(d.index != _first_exited(d), "fired")))),
    "boolean that is not": ("outbound_calls", "accepted",
                            lambda f: _to_csv(f, "outbound_calls", lambda d: d.assign(
                                accepted=d["accepted"].astype(str).where(d.index != 4, "maybe")))),
    "rate above one": ("performance", "conversion_rate",
                       lambda f: _edit(f, "performance", lambda d: d.assign(
                           conversion_rate=d["conversion_rate"].where(d.index != 0, 1.7)))),
    "text in a number column": ("performance", "qa_score",
                                lambda f: _to_csv(f, "performance", lambda d: d.assign(
                                    qa_score=d["qa_score"].astype(str).where(d.index != 0, "good")))),
    "converted but not accepted": ("outbound_calls", "converted",
                                   lambda f: _edit(f, "outbound_calls", lambda d: d.assign(
                                       converted=d["converted"] | (d.index == d.index[~d["accepted"]][0])))),
    "empty agent id": ("agents", "agent_id",
                       lambda f: _to_csv(f, "agents", lambda d: d.assign(
                           agent_id=d["agent_id"].where(d.index != 2, "")))),
    "header-only table": ("training", None,
                          lambda f: _to_csv(f, "training", lambda d: d.iloc[0:0])),
    "empty file": ("performance", None,
                   lambda f: ((f / "performance.parquet").unlink(), (f / "performance.csv").write_bytes(b""))),
    "not UTF-8": ("agents", None,
                  lambda f: _to_csv(f, "agents", lambda d: d.assign(site=d["site"].where(d.index != 0, "Zürich")),
                                    encoding="latin-1")),
    "truncated parquet": ("outbound_calls", None,
                          lambda f: (f / "outbound_calls.parquet").write_bytes(
                              (f / "outbound_calls.parquet").read_bytes()[:5000])),
    "missing table": ("training", None, lambda f: (f / "training.parquet").unlink()),
    "time-zone offsets in a CSV": ("outbound_calls", "started_at",
                                   lambda f: _to_csv(f, "outbound_calls", lambda d: d.assign(
                                       started_at=d["started_at"].astype(str).where(
                                           d.index > 1, d["started_at"].astype(str) + "+02:00")))),
    "time zone in Parquet": ("outbound_calls", "started_at",
                             lambda f: _edit(f, "outbound_calls", lambda d: d.assign(
                                 started_at=d["started_at"].dt.tz_localize("UTC")))),
    "infinite talk time": ("outbound_calls", "talk_time_s",
                           lambda f: _edit(f, "outbound_calls", lambda d: d.assign(
                               talk_time_s=d["talk_time_s"].where(d.index != 4, float("inf"))))),
    "NUL character in a site": ("agents", "site", lambda f: _edit(f, *_set("agents", "site", 1, "Dalian\x00Berlin"))),
    "year 2999": ("training", "training_end_date",
                  lambda f: _to_csv(f, "training", lambda d: d.assign(
                      training_end_date=d["training_end_date"].astype(str).where(d.index != 0, "2999-01-31")))),
    "a 2 MB text value": ("agents", "team",
                          lambda f: _edit(f, "agents", lambda d: d.assign(
                              team=d["team"].where(d.index != 0, "t" * 2_000_000)))),
}


def _queue(folder, **changes):
    """A queue_intervals file of two clean half hours, with ``changes`` applied to the second."""
    df = pd.DataFrame({"interval_start": pd.to_datetime(["2026-09-01 09:00", "2026-09-01 09:30"]),
                       "queue": "sales", "site": "Dalian", "team": "T01", "offered": [40, 38],
                       "answered": [36, 35], "abandoned": [4, 3], "answered_in_sl": [30, 31],
                       "handle_time_s": [8640.0, 8400.0], "agents_staffed": [6.0, 6.0], "agents_on_calls": [4.8, 4.7]})
    for column, value in changes.items():
        df.loc[1, column] = value
    df.to_parquet(folder / "queue_intervals.parquet", index=False)


QUEUE_CASES = {
    "queue: answered and abandoned above offered": ("answered", {"answered": 37}, "more than offered"),
    "queue: answered within SL above answered": ("answered_in_sl", {"answered_in_sl": 36}, "within the service level"),
    "queue: on calls above staffed": ("agents_on_calls", {"agents_on_calls": 6.5}, "more agents on calls"),
    "queue: interval off the half hour": ("interval_start", {"interval_start": pd.Timestamp("2026-09-01 09:40")},
                                          "hour or half hour"),
    "queue: negative offered": ("offered", {"offered": -1}, "negative"),
}


@pytest.mark.parametrize("case", sorted(QUEUE_CASES))
def test_broken_queue_intervals_are_named(case, small_copy):
    column, changes, words = QUEUE_CASES[case]
    _queue(small_copy, **changes)
    result = cli("validate", "--data", str(small_copy))
    assert result.code == 2 and "Traceback" not in result.text, result.text
    assert f"queue_intervals.{column}" in result.text and words in result.text and "1 row" in result.text, result.text


def test_clean_queue_intervals_pass_and_are_cut_at_the_month_end(small_copy):
    from ccinsight import data

    _queue(small_copy)
    assert cli("validate", "--data", str(small_copy)).code == 0
    ds = data.load(small_copy, ["agents", "queue_intervals"], month="2026-08")
    assert len(ds["queue_intervals"]) == 0  # September's intervals are not known at the end of August
    assert len(data.load(small_copy, ["agents", "queue_intervals"], month="2026-09")["queue_intervals"]) == 2


def _fingerprint(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_input_gets_a_clear_message(case, small_copy):
    table, column, breaker = CASES[case]
    breaker(small_copy)
    before = _fingerprint(small_copy)
    result = cli("validate", "--data", str(small_copy))  # in-process: an escaping exception fails here
    assert result.code == 2, result.text
    assert table in result.text, result.text
    if column:
        assert column in result.text, result.text
    assert _fingerprint(small_copy) == before, "validate modified its input"


def test_clean_data_exits_zero(small_data):
    result = cli("validate", "--data", str(small_data))
    assert result.code == 0, result.text
    assert "all checks passed" in result.text


def test_misspelt_column_names_the_closest_match(small_copy):
    _edit(small_copy, "agents", lambda d: d.rename(columns={"hire_date": "hire_dt"}))
    assert "did you mean 'hire_dt'" in cli("validate", "--data", str(small_copy)).text


def test_every_problem_reported_at_once(small_copy):
    _edit(small_copy, "training", lambda d: d.assign(training_score=d["training_score"].where(d.index != 1, 150.0)))
    _edit(small_copy, "outbound_calls", lambda d: d.assign(talk_time_s=d["talk_time_s"].where(d.index != 5, -1.0)))
    text = cli("validate", "--data", str(small_copy)).text
    assert "training.training_score" in text and "outbound_calls.talk_time_s" in text
    assert "2 problem(s)" in text


def test_message_counts_rows_and_shows_examples(small_copy):
    def bad_scores(d):
        d = d.copy()
        d.loc[[1, 2, 3], "training_score"] = [150.0, 160.0, -4.0]
        return d

    _edit(small_copy, "training", bad_scores)
    text = cli("validate", "--data", str(small_copy)).text
    assert "3 rows" in text
    assert "150" in text and "-4" in text


def test_validate_returns_typed_tables_without_touching_input():
    raw = pd.DataFrame({"hiring_channel": ["referral", "campus"], "cost_per_hire": ["1500", "400"]})
    copy = raw.copy()
    typed, report = contract.validate({"channels": raw})
    assert report.ok, str(report)
    assert typed["channels"]["cost_per_hire"].dtype == "float64"
    pd.testing.assert_frame_equal(raw, copy)


@pytest.mark.parametrize("text,expected", [("yes", True), ("No", False), ("1", True), ("false", False)])
def test_boolean_words(text, expected):
    f = contract.TABLES["outbound_calls"].field("accepted")
    out, bad = contract.coerce_column(f, pd.Series([text], dtype=object))
    assert not bad.any() and out.iloc[0] == expected


def _agents_frame(**changes) -> pd.DataFrame:
    base = {"agent_id": ["a1", "a2", "a3"], "site": ["s", "s", "s"], "team": ["t", "t", "t"],
            "hire_date": ["2025-01-02", "2025-02-03", "2025-03-04"], "exit_date": [None, None, None],
            "exit_type": [None, None, None], "hiring_channel": ["referral"] * 3, "cohort_id": ["k"] * 3,
            "onboarding_program": [True, False, True], "certified": [None, None, None],
            "certification_date": [None, None, None]}
    base.update(changes)
    return pd.DataFrame(base)


@pytest.mark.parametrize("changes,words", [
    ({"hire_date": ["2025-01-02T09:00:00+02:00", "2025-02-03T10:00:00Z", "2025-03-04"]},
     "hire_date in agents.csv: values with a time-zone offset or Z: "),
    ({"hire_date": ["1900-01-01", "2999-12-31", "2025-03-04"]}, "dates outside 1950-2100 (a typing slip?) (2 rows"),
    ({"site": ["s", "Berlin\x00Dalian", "s"]}, "site in agents.csv: text holding NUL characters"),
    ({"site": ["s", ["a", "b"], {"x": 1}]}, "site in agents.csv: values that are lists or mappings, not text (2 rows"),
    ({"team": ["t", "t" * 2_000_000, "t"]}, "team in agents.csv: text values longer than 1,000 characters (1 row"),
])
def test_odd_values_are_named_not_misread(changes, words):
    _, report = contract.validate({"agents": _agents_frame(**changes)}, {"agents": "agents.csv"})
    assert not report.ok and words in str(report), str(report)
    assert len(str(report)) < 2000  # examples are excerpts


def test_time_zones_are_refused_in_parquet_too(small_copy):
    calls = pd.read_parquet(small_copy / "outbound_calls.parquet")
    calls["started_at"] = calls["started_at"].dt.tz_localize("Europe/Berlin", ambiguous="NaT", nonexistent="NaT")
    calls.to_parquet(small_copy / "outbound_calls.parquet", index=False)
    result = cli("validate", "--data", str(small_copy))
    assert result.code == 2 and "outbound_calls.started_at" in result.text
    assert "date-times with a time zone (Europe/Berlin)" in result.text


def test_infinities_are_refused(small_copy):
    calls = pd.read_parquet(small_copy / "outbound_calls.parquet")
    calls.loc[3, "talk_time_s"] = float("inf")
    calls.to_parquet(small_copy / "outbound_calls.parquet", index=False)
    result = cli("validate", "--data", str(small_copy))
    assert result.code == 2 and "outbound_calls.talk_time_s" in result.text and "infinite (1 row" in result.text
