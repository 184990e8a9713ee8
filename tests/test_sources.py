"""Bring your own data: foreign-shaped exports mapped onto the contract by params alone.

Each mapping test writes an export the way another system would (other names, separator,
encoding, date format, values, units), maps it back with a ``sources`` section and
compares what ccinsight loaded with the synthetic tables it came from. The examples on
``../shared/data`` are checked against computations written here with pandas and
statsmodels.
"""
from __future__ import annotations

import hashlib
import json
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from statsmodels.duration.survfunc import SurvfuncRight

from ccinsight import data, sources
from ccinsight.errors import DataError, ParameterError
from conftest import SHARED_DATA, example_params, run_cli

HR = SHARED_DATA / "HRDataset_v14.csv"
BANK = SHARED_DATA / "bank-full.csv"
needs_shared = pytest.mark.skipif(not (HR.exists() and BANK.exists()),
                                  reason=f"the public data sets are absent ({SHARED_DATA}; set CCINSIGHT_SHARED_DATA "
                                         "to run these example tests)")


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
    ds = data.load(None, ["agents"], sources=_agents_source(path))
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
    assert len(ds["outbound_calls"]) == len(calls)
    assert ds["outbound_calls"]["accepted"].sum() == calls["accepted"].sum()
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
    calls = data.load(None, ["outbound_calls"], sources=spec)["outbound_calls"]
    assert calls["talk_time_s"].tolist() == [185.0, 45.0, 3723.0, 720.0]
    assert calls["accepted"].tolist() == [True, True, True, False]
    assert calls["converted"].tolist() == [True, False, False, False]
    assert calls["refusal_reason"].fillna("").tolist() == ["", "", "", "HUNG UP"]
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
    assert any("leavers are placed" in n for n in ds.notes)


def _write_params(tmp_path, spec: dict, **more) -> str:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"sources": spec, **more}))
    return str(path)


def _clean_exit_2(result) -> str:
    assert result.code == 2, result.text
    assert "Traceback" not in result.text
    return result.text


def test_a_misspelt_mapped_column_names_file_column_and_closest_match(small_data, tmp_path):
    path = tmp_path / "hr export.csv"
    _agents_export(small_data, path)
    spec = _agents_source(path)
    spec["agents"]["columns"]["hiring_channel"] = "Sourse"
    text = _clean_exit_2(run_cli("validate", "--params", _write_params(tmp_path, spec)))
    assert "hr export.csv" in text and "'Sourse'" in text and "did you mean 'Source'" in text
    assert "Columns found: Employee No, Location, Team, Start" in text


def test_unmapped_values_are_listed_with_counts(small_data, tmp_path):
    path = tmp_path / "hr export.csv"
    agents = _agents_export(small_data, path)
    spec = _agents_source(path)
    del spec["agents"]["values"]["hiring_channel"]["REFERRAL"]
    text = _clean_exit_2(run_cli("validate", "--params", _write_params(tmp_path, spec)))
    n = int((agents["hiring_channel"] == "referral").sum())
    assert f"'REFERRAL' ({n} rows)" in text and "values.hiring_channel" in text and "column 'Source'" in text


def test_a_wrong_date_format_names_the_column_and_shows_values(small_data, tmp_path):
    path = tmp_path / "hr export.csv"
    _agents_export(small_data, path)
    spec = _agents_source(path)
    spec["agents"]["date_format"] = "%m/%d/%Y"  # the export is day-first
    text = _clean_exit_2(run_cli("validate", "--params", _write_params(tmp_path, spec)))
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
    text = _clean_exit_2(run_cli("validate", "--params", _write_params(
        tmp_path, {"agents": {"url": "postgresql+psycopg://me:hunter2@127.0.0.1:1/hr", "table": "agents"}})))
    assert "hunter2" not in text and "me:***@" in text


def test_a_missing_environment_variable_is_named(tmp_path):
    text = _clean_exit_2(run_cli("validate", "--params", _write_params(
        tmp_path, {"agents": {"url": "postgresql+psycopg://me:${CCI_TEST_UNSET}@127.0.0.1:1/hr", "table": "a"}})))
    assert "CCI_TEST_UNSET" in text and "not set" in text


def test_a_notebook_says_what_it_skipped_for_lack_of_data(small_data, tmp_path):
    spec = {"agents": {"file": str(small_data / "agents.parquet")}}
    out = tmp_path / "run"
    result = run_cli("run", "attrition_survival", "--params", _write_params(tmp_path, spec), "--set",
                     "as_of=2026-06-30", "--out", str(out))
    assert result.code == 0, result.text
    found = json.loads((out / "findings.json").read_text())
    assert set(found["data_skipped"]) == {"training", "performance"}
    page = (out / "attrition_survival.html").read_text()
    top = page[:page.index("Survival curves")]
    assert "skipped for lack of data" in top and "training (no source given in the params)" in top
    assert "training_score left out of the Cox model" in page


# --------------------------------------------------------------------------- ../shared/data examples
@needs_shared
def test_bank_marketing_example_matches_plain_pandas(tmp_path):
    out = tmp_path / "bank"
    params = example_params("bank_marketing.yaml", tmp_path)
    result = run_cli("run", "script_duration_vs_acceptance", "--params", params,
                     "--out", str(out))
    assert result.code == 0, result.text
    found = json.loads((out / "findings.json").read_text())
    bank = pd.read_csv(BANK)
    bank = bank[bank["duration"] > 0]
    assert found["n_calls"] == len(bank) == 45_208
    bins = (np.minimum(bank["duration"], 600) // 30 * 30).rename("bin")
    plain = (bank["outcome"] == "yes").groupby(bins).agg(["size", "mean"])
    plain = plain[plain["size"] >= 5]
    curve = pd.DataFrame(found["acceptance_curve"]).set_index("bin_start_s")
    assert curve.index.tolist() == plain.index.tolist()
    np.testing.assert_array_equal(curve["n"], plain["size"])
    np.testing.assert_allclose(curve["rate"], plain["mean"], rtol=1e-12)
    over5 = bank[bank["duration"] > 300]
    assert found["calls_over_5min"] == len(over5)
    assert found["acceptance_over_5min"] == pytest.approx((over5["outcome"] == "yes").mean())
    # realised duration follows interest: the report must not turn it into a script length
    assert found["max_minutes_for_target"] is None
    page = (out / "script_duration_vs_acceptance.html").read_text()
    assert "Acceptance <strong>rises</strong> with talk time" in page
    assert "not</strong> evidence that longer scripts sell more" in page
    assert "no time of day" in page and "Only one script version" in page


def _hr_survival(as_of: str):
    hr = pd.read_csv(HR, encoding="utf-8-sig")
    hire = pd.to_datetime(hr["DateofHire"], format="%m/%d/%y")
    gone = pd.to_datetime(hr["DateofTermination"], format="%m/%d/%y")
    as_of = pd.Timestamp(as_of)
    left = gone.notna() & (gone <= as_of)
    days = (gone.where(left, as_of) - hire).dt.days
    return hr, days, left.astype(int)


@needs_shared
def test_hr_example_attrition_matches_statsmodels(tmp_path):
    out = tmp_path / "hr"
    params = example_params("hr_dataset.yaml", tmp_path)
    result = run_cli("run", "attrition_survival", "--params", params, "--out", str(out))
    assert result.code == 0, result.text
    found = json.loads((out / "findings.json").read_text())
    hr, days, event = _hr_survival("2018-10-31")
    assert found["n_hires"] == len(hr) == 311 and found["n_exits"] == event.sum() and found["excluded_hires"] == 0
    sf = SurvfuncRight(days.to_numpy(float), event.to_numpy())
    at = {row["day"]: row for row in found["survival_curve"]}
    for t in (90, 365):
        expected = sf.surv_prob[sf.surv_times <= t][-1] if (sf.surv_times <= t).any() else 1.0
        assert at[t]["survival"] == pytest.approx(expected, abs=1e-9)
        assert at[t]["at_risk"] == int((days >= t).sum())
    # tiny recruitment sources are pooled; an "other" still under 5 is shown nowhere
    sizes = {g["group"]: g["n"] for g in found["groups"]}
    assert min(sizes.values()) >= 5 and "other" not in sizes
    assert set(found["data_skipped"]) == {"training", "performance"}


@needs_shared
def test_hr_example_channels_match_statsmodels(tmp_path):
    out = tmp_path / "hr"
    result = run_cli("run", "hiring_channel_quality", "--params", example_params("hr_dataset.yaml", tmp_path),
                     "--out", str(out))
    assert result.code == 0, result.text
    found = json.loads((out / "findings.json").read_text())
    hr, days, event = _hr_survival("2018-10-31")
    mapping = yaml.safe_load(open("params/examples/hr_dataset.yaml"))["sources"]["agents"]["values"]["hiring_channel"]
    channel = hr["RecruitmentSource"].str.strip().map(mapping)
    hire = pd.to_datetime(hr["DateofHire"], format="%m/%d/%y")
    window = hire <= pd.Timestamp("2018-10-31") - pd.Timedelta(days=60)
    rows = {r["hiring_channel"]: r for r in found["channels"]}
    assert min(r["hires"] for r in rows.values()) >= 5 and "other" not in rows
    for name, r in rows.items():
        mask = window & (channel == name)
        sf = SurvfuncRight(days[mask].to_numpy(float), event[mask].to_numpy())
        before = sf.surv_times <= 90
        expected = sf.surv_prob[before][-1] if before.any() else 1.0
        assert r["hires"] == int(mask.sum())
        assert r["retention_90d"] == pytest.approx(expected, abs=1e-9)


@needs_shared
def test_hr_example_runs_as_a_deck_with_its_sources_fingerprinted(tmp_path):
    result = run_cli("deck", "--params", example_params("hr_dataset.yaml", tmp_path), "--out", str(tmp_path))
    assert result.code == 0, result.text
    folder = tmp_path / "hr-example" / "2018-10"
    manifest = json.loads((folder / "manifest.json").read_text())
    [source] = manifest["inputs"]
    assert source["table"] == "agents" and source["file"].endswith("shared/data/HRDataset_v14.csv")
    assert source["sha256"] == hashlib.sha256(HR.read_bytes()).hexdigest()
    assert {n["notebook"]: n["status"] for n in manifest["notebooks"]} == {
        "attrition_survival": "ok", "hiring_channel_quality": "ok"}
