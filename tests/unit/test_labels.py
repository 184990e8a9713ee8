"""Labels: the words readers see for columns, values and the currency, from a params file's
``labels`` section; the data and every parameter keep the contract's names."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from ccinsight import labels
from ccinsight.analyses import attrition, channels
from ccinsight.data import Dataset
from ccinsight.errors import ParameterError
from ccinsight.findings import Findings

SECTION = {"currency": "CNY", "columns": {"onboarding_program": "mentoring programme"},
           "values": {"onboarding_program": {True: "mentored", False: "not mentored"},
                      "hiring_channel": {"walk_in": "walk-in"}}}


def test_given_names_and_the_defaults_without_them():
    names = labels.parse(SECTION)
    assert names.column("onboarding_program") == "mentoring programme"
    assert names.column("hiring_channel") == "hiring channel"  # no entry: the name with spaces
    assert names.value("onboarding_program", False) == "not mentored"
    assert names.value("onboarding_program", "True") == "mentored"  # as groups hold it, text
    assert names.value("hiring_channel", "walk_in") == "walk-in"
    assert names.value("hiring_channel", "job_board") == "job board"
    assert names.value("certified", True) == "certified: yes"
    assert names.contrast("onboarding_program") == "mentored (vs not mentored)"
    assert labels.Labels().contrast("onboarding_program") == "onboarding program (yes vs no)"
    assert labels.Labels.from_json(json.loads(json.dumps(names.to_json()))) == names


@pytest.mark.parametrize("section, words", [
    ({"colour": "x"}, ["unknown key", "colour"]),
    ({"currency": 5}, ["labels.currency"]),
    ({"columns": {"onboarding_programme": "x"}}, ["onboarding_programme", "did you mean 'onboarding_program'"]),
    ({"values": {"hiring_channel": {"walk_in": ""}}}, ["labels.values.hiring_channel.walk_in", "non-empty"]),
    ({"values": ["hiring_channel"]}, ["labels.values"]),
    ("mentored", ["must be a mapping"]),
])
def test_bad_sections_are_named(section, words):
    with pytest.raises(ParameterError) as err:
        labels.parse(section, "params file p.yaml")
    for word in words:
        assert word in str(err.value)


def _agents(n=400, seed=3):
    rng = np.random.default_rng(seed)
    program = rng.random(n) < 0.5
    hire = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    tenure = rng.exponential(np.where(program, 400, 150)).round() + 1
    exit_date = hire + pd.to_timedelta(tenure, unit="D")
    return pd.DataFrame({
        "agent_id": [f"a{i}" for i in range(n)], "site": "x", "team": "t", "hire_date": hire,
        "exit_date": exit_date.where(exit_date <= pd.Timestamp("2026-06-30")), "exit_type": "voluntary",
        "hiring_channel": rng.choice(["walk_in", "job_board", "referral"], n), "cohort_id": "k", "school": None,
        "onboarding_program": program, "certified": pd.array(rng.random(n) < 0.9, dtype="boolean"),
        "certification_date": pd.NaT})


def _words(findings: Findings) -> str:
    return " ".join(findings.headlines() + findings.details())


def test_attrition_says_the_labels_and_keeps_the_data_s_values():
    ds = Dataset(root=None, tables={"agents": _agents()}, month=pd.Period("2026-06"), labels=labels.parse(SECTION))
    result = attrition.analyse(ds, window_months=None, covariates=["onboarding_program", "hiring_channel"],
                               exclude_bursts=False)
    found = result.findings()
    text = _words(found)
    assert "by mentoring programme: not mentored: " in text and "; mentored: " in text
    assert "mentored (vs not mentored)" in " ".join(result.cox["covariate"])
    assert not re.search(r"onboarding_program|hiring_channel|walk_in|job_board|\bTrue\b|\bFalse\b", text), text
    # the findings keep the data's values; the labels they carry say how to word them
    assert {g["group"] for g in found.groups} == {"True", "False"}
    assert type(found).from_json(json.loads(json.dumps(found.to_json()))).headlines() == found.headlines()
    legend = [t.get_text() for t in result.plot().get_legend().get_texts()]
    assert set(legend) == {"mentored", "not mentored"}


def test_channels_name_channels_and_the_currency_in_the_table():
    agents = _agents()
    ds = Dataset(root=None, tables={"agents": agents, "channels": pd.DataFrame(
        {"hiring_channel": ["walk_in", "job_board", "referral"], "cost_per_hire": [200.0, 800.0, 1500.0]})},
                 month=pd.Period("2026-06"), labels=labels.parse(SECTION))
    result = channels.analyse(ds, window_months=18, follow_up_days=30)
    page = result._repr_html_()
    assert "walk-in" in page and "walk_in" not in page and "job board" in page
    assert re.search(r"CNY \d{1,3}(,\d{3})*<", page)
    assert "walk_in" not in _words(result.findings())
