"""Bring your own data: foreign-shaped exports mapped onto the contract by params alone.

Each mapping test writes an export the way another system would (other names, separator,
encoding, date format, values, units), maps it back with a ``sources`` section and
compares what ccinsight loaded with the synthetic tables it came from. The examples on
``../shared/data`` are in ``tests/notebooks/test_sources_examples.py``.
"""
from __future__ import annotations

import re

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from ccinsight import data, sources
from ccinsight.errors import ParameterError
from conftest import cli


def _agents_export(small_data, path):
    """The small synthetic agents as an HR system might export them."""
    agents = pd.read_parquet(small_data / "agents.parquet")
    export = pd.DataFrame({
        "Employee No": agents["agent_id"],
        "Location": agents["site"] + " é",  # non-ASCII text in a Latin-1 file
        "Team": agents["team"],
        "Start": agents["hire_date"].dt.strftime("%d/%m/%Y"),
        "Leaving date": agents["exit_date"].dt.strftime("%d/%m/%Y"),
        "Reason": agents["exit_type"].map({"voluntary": "Resigned", "involuntary": "Dismissed"}),
        "Source": agents["hiring_channel"].str.upper(),
        "Class": agents["cohort_id"],
        "Mentored": agents["onboarding_program"].map({True: "Y", False: "N"}),
        "Certified": agents["certified"].map({True: "Pass", False: "Fail"}),
        "Cert date": agents["certification_date"].dt.strftime("%d/%m/%Y"),
    })
    export.to_csv(path, sep=";", encoding="latin-1", index=False)
    return agents


def _agents_source(path):
    channels = ["referral", "job_board", "campus", "agency", "walk_in", "social_media", "rehire", "drive"]
    return {"agents": {
        "file": str(path), "sep": ";", "encoding": "latin-1", "date_format": "%d/%m/%Y",
        "columns": {"agent_id": "Employee No", "site": "Location", "team": "Team", "hire_date": "Start",
                    "exit_date": "Leaving date", "exit_type": "Reason", "hiring_channel": "Source",
                    "cohort_id": "Class", "onboarding_program": "Mentored", "certified": "Certified",
                    "certification_date": "Cert date"},
        "values": {"exit_type": {"Resigned": "voluntary", "Dismissed": "involuntary"},
                   "hiring_channel": {c.upper(): c for c in channels},
                   "onboarding_program": {"Y": True, "N": False},
                   "certified": {"Pass": True, "Fail": False}},
    }}


def test_a_foreign_hr_export_maps_back_onto_the_contract(small_data, tmp_path):
    path = tmp_path / "hr export.csv"
    agents = _agents_export(small_data, path)
    before = path.read_bytes()
    ds = data.load(None, ["agents"], sources=_agents_source(path), as_observed=False)
    got = ds["agents"]
    assert path.read_bytes() == before  # the export is never modified
    pd.testing.assert_series_equal(got["agent_id"].astype(str), agents["agent_id"].astype(str), check_names=False)
    assert (got["site"] == agents["site"] + " é").all()
    for col in ("hire_date", "exit_date", "certification_date"):
        pd.testing.assert_series_equal(got[col], agents[col].astype("datetime64[ns]"), check_names=False)
    assert got["exit_type"].fillna("-").tolist() == agents["exit_type"].fillna("-").tolist()
    assert got["hiring_channel"].tolist() == agents["hiring_channel"].tolist()
    assert got["onboarding_program"].astype(bool).tolist() == agents["onboarding_program"].astype(bool).tolist()
    assert got["certified"].astype("boolean").equals(agents["certified"].astype("boolean"))


def test_globs_excel_and_duckdb_sources(small_data, tmp_path):
    calls = pd.read_parquet(small_data / "outbound_calls.parquet")
    half = len(calls) // 2
    calls.iloc[:half].to_csv(tmp_path / "calls-1.csv", index=False)
    calls.iloc[half:].to_csv(tmp_path / "calls-2.csv", index=False)
    training = pd.read_parquet(small_data / "training.parquet")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.register("t", training.rename(columns={"training_score": "final_score"}))
        con.execute("CREATE TABLE trainees AS SELECT * FROM t")
    costs = pd.DataFrame({"Channel": ["referral", "job_board"], "Cost": [300.0, 900.0]})
    with pd.ExcelWriter(tmp_path / "costs.xlsx") as xl:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(xl, sheet_name="Cover", index=False)
        costs.to_excel(xl, sheet_name="Costs 2026", index=False)
    spec = {
        "outbound_calls": {"file": str(tmp_path / "calls-*.csv")},
        "training": {"file": str(tmp_path / "warehouse.duckdb"), "table": "trainees",
                     "columns": {"agent_id": "agent_id", "cohort_id": "cohort_id", "training_score": "final_score",
                                 "training_end_date": "training_end_date"}},
        "channels": {"file": str(tmp_path / "costs.xlsx"), "sheet": "Costs 2026",
                     "columns": {"hiring_channel": "Channel", "cost_per_hire": "Cost"}},
    }
    ds = data.load(None, ["outbound_calls", "training", "channels"], sources=spec)
    # the calls are counted by DuckDB over the glob's files, not loaded (ccinsight.pushdown)
    per_month = calls["started_at"].dt.to_period("M").value_counts().sort_index()
    assert ds.held["outbound_calls"].per_month().to_dict() == per_month.to_dict()
    np.testing.assert_allclose(ds["training"]["training_score"], training["training_score"])
    assert ds["channels"].set_index("hiring_channel")["cost_per_hire"].to_dict() == {"referral": 300.0,
                                                                                     "job_board": 900.0}


def test_durations_outcomes_and_tenure_are_derived(tmp_path):
    dialer = pd.DataFrame({
        "id": [1, 2, 3, 4],
        "when": ["2026-10-01 09:00:00", "2026-10-01 10:00:00", "2026-10-02 11:30:00", "2026-10-03 12:00:00"],
        "length": ["3:05", "0:45", "1:02:03", "12:00"],
        "disposition": ["SALE", "NOT INTERESTED", "CALLBACK", "HUNG UP"],
    })
    dialer.to_csv(tmp_path / "dialer.csv", index=False)
    spec = {"outbound_calls": {
        "file": str(tmp_path / "dialer.csv"), "row_id": "call_id",
        "columns": {"started_at": "when", "talk_time_s": "length"}, "units": {"talk_time_s": "mm:ss"},
        "outcome": {"column": "disposition", "accepted": ["SALE", "NOT INTERESTED", "CALLBACK"],
                    "converted": ["SALE"]},
        "constants": {"agent_id": "a1", "campaign": "c", "script_version": "v1"}}}
    calls = data.load(None, ["outbound_calls"], sources=spec, as_observed=False)["outbound_calls"]
    assert calls["talk_time_s"].tolist() == [185.0, 45.0, 3723.0, 720.0]
    assert calls["accepted"].tolist() == [True, True, True, False]
    assert calls["converted"].tolist() == [True, False, False, False]
    # one refusal value is no reason; several are (the disposition codes)
    assert calls["refusal_reason"].isna().all()
    dialer.loc[1, "disposition"] = "WRONG NUMBER"
    dialer.to_csv(tmp_path / "dialer.csv", index=False)
    calls = data.load(None, ["outbound_calls"], sources=spec, as_observed=False)["outbound_calls"]
    assert calls["refusal_reason"].fillna("").tolist() == ["", "WRONG NUMBER", "", "HUNG UP"]
    assert calls["call_id"].tolist() == [1, 2, 3, 4]

    hr = pd.DataFrame({"emp": ["e1", "e2", "e3"], "months": [2, 14, 0.5], "status": ["left", "active", "left"]})
    hr.to_csv(tmp_path / "hr.csv", index=False)
    spec = {"agents": {"file": str(tmp_path / "hr.csv"), "columns": {"agent_id": "emp"},
                       "tenure": {"column": "months", "unit": "months", "left": "status", "left_values": ["left"],
                                  "as_of": "2026-10-31"},
                       "constants": {"site": "s", "team": "t", "exit_type": None, "hiring_channel": "x",
                                     "cohort_id": "c", "onboarding_program": False, "certified": None,
                                     "certification_date": None}}}
    ds = data.load(None, ["agents"], sources=spec, validate=False)
    agents = ds["agents"]
    days = (pd.Timestamp("2026-10-31") - agents["hire_date"]).dt.days.tolist()
    assert days == [round(2 * 365.25 / 12), round(14 * 365.25 / 12), round(0.5 * 365.25 / 12)]
    assert agents["exit_date"].notna().tolist() == [True, False, True]
    assert any("no calendar" in n for n in ds.notes)
    assert ds.snapshot == pd.Timestamp("2026-10-31") and not ds.calendar


def _write_params(tmp_path, spec: dict, **more) -> str:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"sources": spec, **more}))
    return str(path)


def _clean_exit_2(result) -> str:
    """Exit 2 with a message (in-process: an exception escaping the command fails the test)."""
    assert result.code == 2 and ("problem(s) found" in result.out or result.err.startswith("error: ")), result.text
    return result.text


def test_a_misspelt_mapped_column_names_file_column_and_closest_match(small_data, tmp_path):
    path = tmp_path / "hr export.csv"
    _agents_export(small_data, path)
    spec = _agents_source(path)
    spec["agents"]["columns"]["hiring_channel"] = "Sourse"
    text = _clean_exit_2(cli("validate", "--params", _write_params(tmp_path, spec)))
    assert "hr export.csv" in text and "'Sourse'" in text and "did you mean 'Source'" in text
    assert "Columns found: Employee No, Location, Team, Start" in text


def test_unmapped_values_are_listed_with_counts(small_data, tmp_path):
    path = tmp_path / "hr export.csv"
    agents = _agents_export(small_data, path)
    spec = _agents_source(path)
    del spec["agents"]["values"]["hiring_channel"]["REFERRAL"]
    text = _clean_exit_2(cli("validate", "--params", _write_params(tmp_path, spec)))
    n = int((agents["hiring_channel"] == "referral").sum())
    assert f"'REFERRAL' ({n} rows)" in text and "values.hiring_channel" in text and "column 'Source'" in text


def test_a_wrong_date_format_names_the_column_and_shows_values(small_data, tmp_path):
    path = tmp_path / "hr export.csv"
    _agents_export(small_data, path)
    spec = _agents_source(path)
    spec["agents"]["date_format"] = "%m/%d/%Y"  # the export is day-first
    text = _clean_exit_2(cli("validate", "--params", _write_params(tmp_path, spec)))
    assert re.search(r"column 'Start'.*do not match date_format %m/%d/%Y \([\d,]+ rows; e\.g\. '\d\d/\d\d/\d{4}'",
                     text), text
    assert "empty values" not in text  # the same rows are not reported twice


@pytest.mark.parametrize("spec,match", [
    ({"agent": {"file": "x.csv"}}, "unknown table 'agent' (did you mean 'agents'?)"),
    ({"agents": {"file": "x.csv", "colums": {}}}, "unknown key 'colums' (did you mean 'columns'?)"),
    ({"agents": {"file": "x.csv", "url": "sqlite://"}}, "exactly one of 'file'"),
    ({"agents": {"url": "postgresql://me:hunter2@db/hr", "table": "t"}}, "credentials never go in params files"),
    ({"agents": {"url": "sqlite://"}}, "needs 'table' or 'query'"),
    ({"agents": {"file": "x.csv", "units": {"hire_date": "fortnights"}}}, "unknown unit 'fortnights'"),
    ({"agents": {"file": "x.csv", "columns": {"hire_day": "Start"}}}, "did you mean 'hire_date'"),
])
def test_bad_sources_sections_are_refused_before_reading(spec, match):
    with pytest.raises(ParameterError, match=re.escape(match)):
        sources.parse(spec, "params file mine.yaml")


def test_a_literal_password_never_reaches_the_message(tmp_path):
    text = _clean_exit_2(cli("validate", "--params", _write_params(
        tmp_path, {"agents": {"url": "postgresql+psycopg://me:hunter2@127.0.0.1:1/hr", "table": "agents"}})))
    assert "hunter2" not in text and "me:***@" in text


def test_a_missing_environment_variable_is_named(tmp_path):
    text = _clean_exit_2(cli("validate", "--params", _write_params(
        tmp_path, {"agents": {"url": "postgresql+psycopg://me:${CCI_TEST_UNSET}@127.0.0.1:1/hr", "table": "a"}})))
    assert "CCI_TEST_UNSET" in text and "not set" in text




# --------------------------------------------------------------------------- ../shared/data examples









def test_one_outcome_value_is_a_list_of_one_not_its_letters(tmp_path):
    pd.DataFrame({"when": ["2026-10-01 09:00:00", "2026-10-01 10:00:00"], "length": [60, 90],
                  "disposition": ["heard", "hung up"]}).to_csv(tmp_path / "d.csv", index=False)
    spec = {"outbound_calls": {"file": str(tmp_path / "d.csv"), "row_id": "call_id",
                               "columns": {"started_at": "when", "talk_time_s": "length"},
                               "outcome": {"column": "disposition", "accepted": "heard"},
                               "constants": {"agent_id": "a1", "campaign": "c", "script_version": "v1"}}}
    calls = data.load(None, ["outbound_calls"], sources=spec, validate=False)["outbound_calls"]
    assert calls["accepted"].tolist() == [True, False]


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://me@db/hr?password=hunter2",
    "postgresql+psycopg://me@db/hr?sslmode=require&sslpassword=hunter2",
    "mssql+pyodbc://db/hr?driver=x&Pwd=hunter2",
    "postgresql+psycopg://me@db/hr?api_key=hunter2",
])
def test_a_literal_secret_anywhere_in_a_url_is_refused_and_never_shown(url):
    with pytest.raises(ParameterError, match="credentials never go in params files") as err:
        sources.parse({"agents": {"url": url, "table": "t"}}, "params file p.yaml")
    assert "hunter2" not in str(err.value) and "***" in str(err.value)


def test_secret_query_parameters_are_redacted_and_env_values_encoded(monkeypatch):
    from ccinsight.credentials import expand_env, redact_url

    assert redact_url("postgresql://me:pw@db/hr?sslpassword=x&sslmode=require") == \
        "postgresql://me:***@db/hr?sslpassword=***&sslmode=require"
    monkeypatch.setenv("CCI_PW", "Sup3r@Pw/:%40z")
    assert expand_env("postgresql://me:${CCI_PW}@db:5432/hr", "w") == "postgresql://me:Sup3r%40Pw%2F%3A%2540z@db:5432/hr"


def test_a_filter_on_a_column_with_units_compares_seconds(tmp_path):
    dialer = pd.DataFrame({"id": [1, 2, 3], "when": ["2026-10-01 09:00:00"] * 3, "Gesprächsdauer": ["3:05", "0:00", "1:02"],
                           "outcome": ["y", "n", "n"]})
    dialer.to_csv(tmp_path / "dialer.csv", index=False)
    spec = {"outbound_calls": {
        "file": str(tmp_path / "dialer.csv"), "row_id": "call_id", "filter": "Gesprächsdauer > 60",
        "columns": {"started_at": "when", "talk_time_s": "Gesprächsdauer"}, "units": {"talk_time_s": "mm:ss"},
        "outcome": {"column": "outcome", "accepted": ["y"], "converted": ["y"]},
        "constants": {"agent_id": "a1", "campaign": "c", "script_version": "v1"}}}
    ds = data.load(None, ["outbound_calls"], sources=spec, as_observed=False)
    assert ds["outbound_calls"]["talk_time_s"].tolist() == [185.0, 62.0]
    assert ds["outbound_calls"]["refusal_reason"].isna().all()  # "n" is not a reason
    assert any("no refusal reason" in n for n in ds.notes)


def test_a_separator_longer_than_one_character_is_refused():
    """pandas would read it as a regular expression (and fail in its own words)."""
    from ccinsight.sources import parse

    with pytest.raises(ParameterError, match="sep must be one character"):
        parse({"agents": {"file": "hr.csv", "sep": "agent_id"}}, "params file p.yaml")
