"""Notebooks run on mapped sources: what a notebook skips for lack of data, and the worked
examples on the public data sets in ../shared/data, checked against plain pandas and
statsmodels computed here from the raw files."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from statsmodels.duration.survfunc import SurvfuncRight

from conftest import SHARED_DATA, example_params, run_cli

pytestmark = pytest.mark.notebook

BANK = SHARED_DATA / "bank-full.csv"
HR = SHARED_DATA / "HRDataset_v14.csv"
needs_shared = pytest.mark.skipif(not (BANK.is_file() and HR.is_file()),
                                  reason=f"public data sets not found in {SHARED_DATA} (set CCINSIGHT_SHARED_DATA)")


def _write_params(tmp_path, spec: dict, **more) -> str:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"sources": spec, **more}))
    return str(path)


def test_a_notebook_says_what_it_skipped_for_lack_of_data(small_data, tmp_path):
    spec = {"agents": {"file": str(small_data / "agents.parquet")}}
    out = tmp_path / "run"
    result = run_cli("run", "attrition_survival", "--params", _write_params(tmp_path, spec), "--set",
                     "month=2026-06", "--out", str(out))
    assert result.code == 0, result.text
    found = json.loads((out / "findings.json").read_text())
    assert set(found["data_skipped"]) == {"training", "performance"}
    page = (out / "attrition_survival.html").read_text()
    record = page[page.index('<details class="run-record">'):]  # the run record, an appendix at the end
    assert "skipped for lack of data" in record and "training (no source given in the params)" in record
    body = page[:page.index('<details class="run-record">')]
    assert "training score left out of the Cox model" in body  # what it means, where the findings are


@needs_shared
def test_bank_marketing_example_matches_plain_pandas(tmp_path):
    out = tmp_path / "bank"
    params = example_params("bank_marketing.yaml", tmp_path)
    result = run_cli("run", "script_duration_vs_acceptance", "--params", params,
                     "--out", str(out))
    assert result.code == 0, result.text
    found = json.loads((out / "findings.json").read_text())
    bank = pd.read_csv(BANK)
    bank = bank[bank["duration"] > 0].reset_index(drop=True)
    # no year in the export: rows run in time order from 2008, a new year whenever the month
    # goes back; the calls end on 17 November 2010, so October 2010 is the last complete month
    month = bank["month"].map({m: i for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)})
    year = 2008 + (month.diff().fillna(0) < 0).cumsum()
    assert (year.iloc[-1], month.iloc[-1], bank["day"].iloc[-1]) == (2010, 11, 17)
    bank = bank[~((year == 2010) & (month == 11))]
    assert found["n_calls"] == len(bank) == 45_133 and found["period"] == "2008-05..2010-10"
    bins = (np.minimum(bank["duration"], 600) // 30 * 30).rename("bin")
    plain = (bank["outcome"] == "yes").groupby(bins).agg(["size", "mean"])
    plain = plain[plain["size"] >= 5]
    curve = pd.DataFrame(found["acceptance_curve"]).set_index("bin_start_s")
    assert curve.index.tolist() == plain.index.tolist()
    np.testing.assert_array_equal(curve["n"], plain["size"])
    np.testing.assert_allclose(curve["rate"], plain["mean"], rtol=1e-12)
    over5 = bank[bank["duration"] > 300]
    assert found["acceptance_over_5min"]["n"] == len(over5)
    assert found["acceptance_over_5min"]["value"] == pytest.approx((over5["outcome"] == "yes").mean())
    # realised duration follows interest: the report must not turn it into a script length
    assert found["longest_script_s"] is None and found["rising"] is True
    page = (out / "script_duration_vs_acceptance.html").read_text()
    assert "Acceptance rises with talk time here" in page
    assert "so it cannot set a script length" in page
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
    # tiny recruitment sources are pooled until "other" is no small group either, and no
    # group is hidden, so none can be recovered by subtracting the shown ones from the total
    sizes = {g["group"]: g["n"] for g in found["groups"]}
    assert min(sizes.values()) >= 5 and sum(sizes.values()) == found["n_hires"]
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
    assert min(r["hires"] for r in rows.values()) >= 5 and sum(r["hires"] for r in rows.values()) == found["n_hires"]
    for name, r in rows.items():
        members = found["pooled_channels"] + ["other"] if name == "other" else [name]
        mask = window & channel.isin(members)
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
        "attrition_survival": "ok", "effective_seats": "ok", "hiring_channel_quality": "ok"}
