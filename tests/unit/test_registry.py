"""The registry of analyses: every entry complete, notebooks taking the deck's shared
parameters, findings declared, documented and checked, findings keys named only by their
analysis, and the deck's month-over-month arrows drawn only beyond noise."""
from __future__ import annotations

import ast
import dataclasses
import re

import pytest

from ccinsight import contract, deck, params
from ccinsight.analyses import REGISTRY
from ccinsight.analysis import SHARED_PARAMETERS
from ccinsight.findings import PROVENANCE_KEYS, Estimate, FindingsError
from conftest import PROJECT_ROOT, cli

ANALYSES = list(REGISTRY.values())


@pytest.mark.parametrize("analysis", ANALYSES, ids=lambda a: a.name)
def test_every_analysis_has_a_notebook_taking_the_shared_parameters(analysis):
    accepted = params.notebook_parameters(analysis.notebook)
    assert set(SHARED_PARAMETERS) <= set(accepted), f"{analysis.name} must take {SHARED_PARAMETERS}"
    assert accepted["month"].default is None and accepted["min_cell_size"].default == 5
    assert set(analysis.tables) | set(analysis.optional_tables) <= set(contract.TABLES)
    for t in analysis.tracked:  # a tracked metric carries its interval
        field = next(f for f in dataclasses.fields(analysis.findings) if f.name == t.field)
        assert "Estimate" in str(field.type)


def test_every_notebook_is_registered():
    on_disk = {p.stem for p in (PROJECT_ROOT / "notebooks").glob("*.ipynb")}
    assert on_disk == set(REGISTRY)


def test_list_prints_every_analysis_and_its_parameters():
    result = cli("list")
    assert result.code == 0
    for a in ANALYSES:
        assert f"{a.name}: {a.title}" in result.out
    assert "min_cell_size: int = 5" in result.out and "group_by: str = 'onboarding_program'" in result.out


def test_docs_list_every_findings_field():
    doc = (PROJECT_ROOT / "docs" / "findings.md").read_text()
    for a in ANALYSES:
        body = doc.split(f"## `{a.name}`", 1)[1].split("\n## ", 1)[0]
        rows = re.findall(r"^\| `([a-z0-9_]+)` \| ([^|]+) \| ([a-z]+) \|", body, flags=re.M)
        expected = [(f["name"], f["type"], f["unit"]) for f in a.findings.schema()]
        assert [(n, t.strip(), u) for n, t, u in rows] == expected, a.name


def _some_findings(cls):
    """A findings instance with a plausible value of each field's type."""
    values = {}
    for f in dataclasses.fields(cls):
        text = str(f.type)
        values[f.name] = (Estimate(0.5, 0.4, 0.6, 10) if "Estimate" in text else [] if text.startswith("list")
                          else {} if text.startswith("dict") else True if text.startswith("bool")
                          else 1 if text.startswith("int") else 0.5 if text.startswith("float") else "x")
    return cls(**values)


@pytest.mark.parametrize("analysis", ANALYSES, ids=lambda a: a.name)
def test_findings_round_trip_and_misfits_are_refused(analysis):
    cls = analysis.findings
    found = _some_findings(cls)
    as_json = found.to_json()
    assert cls.from_json(as_json) == found
    name = dataclasses.fields(cls)[0].name
    with pytest.raises(FindingsError, match=f"missing {name}"):
        cls.from_json({k: v for k, v in as_json.items() if k != name})
    with pytest.raises(FindingsError, match="undeclared renamed_key"):
        cls.from_json({**as_json, "renamed_key": 1})
    with pytest.raises(FindingsError, match=name):
        cls.from_json({**as_json, name: object()})


PERIOD_WORDS = {"as_of", "month"}


def _string_constants(path) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)}


def test_findings_keys_are_named_only_by_their_analysis():
    """No module but an analysis' own names its findings keys as strings (the deck, runner
    and CLI go through the registry). Names that are also contract columns, parameters or
    provenance keys, table names or words of the period (as_of) are words of those, not findings keys,
    and are left out of the scan.
    The generator (synth.py) is left out too: truth.json names planted effects in its own
    words, which tests compare with findings."""
    generic = set(PROVENANCE_KEYS) | set(contract.TABLES) | {c for t in contract.TABLES.values() for c in t.columns} | PERIOD_WORDS
    for a in ANALYSES:
        generic |= set(params.notebook_parameters(a.notebook))
    modules = {p: _string_constants(p) for p in (PROJECT_ROOT / "ccinsight").rglob("*.py") if p.name != "synth.py"}
    home = {a.name: PROJECT_ROOT / "ccinsight" / "analyses" / f"{a.findings.__module__.rsplit('.', 1)[1]}.py"
            for a in ANALYSES}
    declared = {home[a.name]: {f.name for f in dataclasses.fields(a.findings)} for a in ANALYSES}
    for a in ANALYSES:
        keys = {f.name for f in dataclasses.fields(a.findings)} - generic
        for path, strings in modules.items():
            named = keys & strings - declared.get(path, set())  # a key an analysis declares itself is its own
            assert not named, f"{path.relative_to(PROJECT_ROOT)} names {a.name} findings {named}"


# --------------------------------------------------------------------------- arrows
def _estimate(value, low, high):
    return {"value": value, "low": low, "high": high, "n": 100}


def test_an_arrow_only_beyond_noise():
    # 90-day attrition 10.2% (8.2-12.7) last month, 4.9% (3.5-6.9) now: MOVER by hand
    now, before = _estimate(0.049, 0.035, 0.069), _estimate(0.102, 0.082, 0.127)
    d = 0.049 - 0.102
    low = d - ((0.049 - 0.035) ** 2 + (0.127 - 0.102) ** 2) ** 0.5
    high = d + ((0.069 - 0.049) ** 2 + (0.102 - 0.082) ** 2) ** 0.5
    assert high < 0  # the intervals separate the two months
    [(css, text)] = deck.changes("attrition_survival", {"attrition_90d": now}, {"attrition_90d": before})
    assert css == "good" and "&#9660;" in text  # attrition down is good
    assert f"{100 * d:+.1f} points (95% CI {100 * low:+.1f} points to {100 * high:+.1f} points)" in text
    # overlapping months: no coloured arrow, the words say so
    [(css, text)] = deck.changes("attrition_survival", {"attrition_90d": _estimate(0.080, 0.064, 0.093)},
                                 {"attrition_90d": _estimate(0.077, 0.064, 0.092)})
    assert css == "flat" and "no clear change" in text


def test_no_previous_month_no_arrows():
    assert deck.changes("attrition_survival", {"attrition_90d": _estimate(0.1, 0.08, 0.12)}, None) == []


def test_contract_doc_lists_every_analysis_and_its_tables():
    doc = (PROJECT_ROOT / "docs" / "data-contract.md").read_text()
    section = doc.split("## How the notebooks use the tables", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (.+) \|$", section, flags=re.M))
    assert list(rows) == list(REGISTRY)
    for a in ANALYSES:
        for table in a.tables + a.optional_tables:
            assert table in rows[a.name], (a.name, table)
