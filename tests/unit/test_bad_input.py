"""The bad-input corpus: every malformed input is refused by the deck's input checks (the
ones ``ccinsight deck`` runs before any notebook starts) with a message saying what is wrong
and where, and no input modified. ``tests/e2e/test_cli.py`` runs a handful of the cases
through the command itself (exit 2, no traceback, no deck written).

Data cases are the contract corpus of ``test_contract.CASES``; params cases break the
deck's params file. ``docs/bad-input.md`` lists what each case gets; a test keeps it
complete. Property-based tests then throw random contract violations at the validator.
"""
from __future__ import annotations

import hashlib
import re
import string

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from ccinsight import contract, deck
from ccinsight.errors import CCInsightError
from conftest import PROJECT_ROOT
from test_contract import CASES as DATA_CASES

MONTH = "2026-06"


def _deck_params(folder, **changes) -> dict:
    base = yaml.safe_load((PROJECT_ROOT / "params" / "monthly.yaml").read_text())
    base.update({"data": str(folder), "month": MONTH, "deck": "corpus"})
    base.update(changes)
    return base


def _write(path, params: dict) -> None:
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def _mapped_source(tmp_path, folder):
    pd.read_parquet(folder / "agents.parquet").rename(columns={"site": "Location"}).to_csv(tmp_path / "hr.csv",
                                                                                          index=False)
    return {"agents": {"file": str(tmp_path / "hr.csv"), "columns": {"site": "Locaton"}}}


# name -> (build the params file in tmp_path for data folder, words the message must hold)
PARAMS_CASES = {
    "params: unknown key": (lambda p, d: _write(p, _deck_params(d, colour="blue")), ["colour", "valid keys"]),
    "params: wrong type": (lambda p, d: _write(p, _deck_params(d, min_cell_size="five")), ["min_cell_size", "int"]),
    "params: bad month": (lambda p, d: _write(p, _deck_params(d, month="2026-13")), ["2026-13", "YYYY-MM"]),
    "params: month with no data": (lambda p, d: _write(p, _deck_params(d, month="2019-01")),
                                   ["2019-01", "no complete month of data", "covers"]),
    "params: deck name climbing out with ..": (lambda p, d: _write(p, _deck_params(d, deck="../../escape")),
                                               ["../../escape", "deck name"]),
    "params: data path outside the project by ..": (lambda p, d: _write(p, _deck_params(d, data="../../../etc")),
                                                    ["etc", "no file for table"]),
    "params: unknown notebook section": (lambda p, d: _write(p, _deck_params(d, notebooks={"churn": {}})),
                                         ["churn", "unknown notebook section"]),
    "params: parameter of the wrong type": (
        lambda p, d: _write(p, _deck_params(d, notebooks={"attrition_survival": {"seats_needed": "fifty"}})),
        ["seats_needed", "must be int", "attrition_survival"]),
    "params: not UTF-8": (lambda p, d: p.write_bytes("data: données\n".encode("latin-1")), ["not UTF-8"]),
    "params: not YAML": (lambda p, d: p.write_text("month: [2026-06\n"), ["not valid YAML", "line"]),
    "params: a list, not a mapping": (lambda p, d: p.write_text("- month\n- data\n"), ["must be a mapping"]),
    "params: labels for a column the contract lacks": (
        lambda p, d: _write(p, _deck_params(d, labels={"values": {"hiring_chanel": {"walk_in": "walk-in"}}})),
        ["labels.values", "hiring_chanel", "hiring_channel"]),
    "params: sources for an unknown table": (
        lambda p, d: _write(p, _deck_params(d, sources={"agent": {"file": "x.csv"}})), ["agent", "agents"]),
    "params: a filter that would run code": (
        lambda p, d: _write(p, _deck_params(d, sources={"agents": {
            "file": str(d / "agents.parquet"), "filter": "@os.system('touch pwned') == 0"}})),
        ["filter", "not a column expression"]),
    "params: a query that would drop a table": (
        lambda p, d: _write(p, _deck_params(d, sources={"agents": {
            "url": "sqlite:///hr.db", "query": "SELECT 1; DROP TABLE agents"}})),
        ["query", "more than one statement"]),
    "params: a password in a URL's query string": (
        lambda p, d: _write(p, _deck_params(d, sources={"agents": {
            "url": "postgresql+psycopg://me@db/hr?sslpassword=hunter2", "table": "agents"}})),
        ["credentials never go in params files", "sslpassword=***"]),
    "params: a key given twice": (lambda p, d: p.write_text(f"data: {d}\nmin_cell_size: 5\nmin_cell_size: 1\n"),
                                  ["given twice", "line 3"]),
    "params: an alias bomb": (
        lambda p, d: p.write_text("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                                  "c: [*b, *b, *b, *b, *b, *b, *b, *b]\n"), ["aliases", "line 2"]),
    "params: min_cell_size below the floor": (lambda p, d: _write(p, _deck_params(d, min_cell_size=1)),
                                              ["min_cell_size 1", "floor of 3"]),
    "params: a mapped column the file lacks": (
        lambda p, d: _write(p, _deck_params(d, sources=_mapped_source(p.parent, d))),
        ["Locaton", "did you mean 'Location'", "hr.csv"]),
}


def _fingerprint(folder) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _documented() -> dict[str, tuple[str, str]]:
    doc = (PROJECT_ROOT / "docs" / "bad-input.md").read_text()
    rows = re.findall(r"^\| ([^|]+?) \| (-?\d+) \| (.*) \|$", doc, flags=re.M)
    return {name: (code, message) for name, code, message in rows}


def doc_row(case: str, message: str, data, tmp) -> str:
    """The docs/bad-input.md row of a case: paths as <data> and <tmp>, one line, cut at 400."""
    from ccinsight.config import display_path

    for real, shown in ((data, "<data>"), (tmp, "<tmp>")):  # as printed: absolute, or relative to the project
        message = message.replace(str(real), shown).replace(display_path(real), shown)
    text = " ".join(message.split()).replace("|", "&#124;")
    if len(text) > 400:
        text = text[:400].rsplit(" ", 1)[0] + " ..."
    return f"| {case} | 2 | {text} |"


def assert_documented(case: str, message: str, data, tmp) -> None:
    row = doc_row(case, message, data, tmp)
    code, text = _documented()[case]
    assert f"| {case} | {code} | {text} |" == row, f"docs/bad-input.md should read:\n{row}"


def refusal(params) -> str:
    """The message the deck's input checks refuse ``params`` with (they must refuse it)."""
    with pytest.raises(CCInsightError) as err:
        plan = deck.load_plan(params)
        deck.check_inputs(plan, plan.months)
    return str(err.value)


def test_the_corpus_has_at_least_30_distinct_inputs():
    assert len(DATA_CASES) + len(PARAMS_CASES) >= 30


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data_never_starts_a_deck(case, small_copy, tmp_path):
    table, column, breaker = DATA_CASES[case]
    breaker(small_copy)
    params = tmp_path / "deck.yaml"
    _write(params, _deck_params(small_copy))
    before = _fingerprint(small_copy)
    message = refusal(params)
    for word in [table] + ([column] if column else []):
        assert word in message, f"{word!r} not in: {message}"
    assert _fingerprint(small_copy) == before
    assert_documented(case, message, small_copy, tmp_path)


@pytest.mark.parametrize("case", sorted(PARAMS_CASES))
def test_bad_params_never_start_a_deck(case, small_copy, tmp_path):
    build, words = PARAMS_CASES[case]
    params = tmp_path / "deck.yaml"
    build(params, small_copy)
    before, params_before = _fingerprint(small_copy), params.read_bytes()
    message = refusal(params)
    for word in words:
        assert word in message, f"{word!r} not in: {message}"
    assert _fingerprint(small_copy) == before and params.read_bytes() == params_before
    assert_documented(case, message, small_copy, tmp_path)


def test_docs_list_what_every_bad_input_gets():
    doc = (PROJECT_ROOT / "docs" / "bad-input.md").read_text()
    listed = set(re.findall(r"^\| ([^|]+?) \|", doc, flags=re.M)) - {"input", "---"}
    assert listed == set(DATA_CASES) | set(PARAMS_CASES)


# --------------------------------------------------------------------------- property-based
@pytest.fixture(scope="module")
def clean_tables(small_data) -> dict[str, pd.DataFrame]:
    return {t: pd.read_parquet(small_data / f"{t}.parquet").head(60) for t in
            ("agents", "training", "performance", "outbound_calls")}


junk = st.one_of(st.text(alphabet=string.printable, min_size=1, max_size=8), st.floats(allow_nan=True),
                 st.integers(-10**12, 10**12), st.sampled_from(["", " ", "2025-02-30", "NaN", "true", "-1", "1e309"]))


@st.composite
def violation(draw, tables):
    """A contract table with one random violation: a dropped, renamed or retyped
    column, junk values in some rows, a duplicated key or no rows at all."""
    name = draw(st.sampled_from(sorted(tables)))
    df = tables[name].copy()
    table = contract.TABLES[name]
    required = [f.name for f in table.fields if f.required]
    kind = draw(st.sampled_from(["drop", "rename", "junk", "duplicate", "empty", "nulls"]))
    col = draw(st.sampled_from(required))
    if kind == "drop":
        df = df.drop(columns=col)
    elif kind == "rename":
        df = df.rename(columns={col: col + draw(st.sampled_from(["_x", "s", " ", "2"]))})
    elif kind == "junk":
        rows = draw(st.lists(st.integers(0, len(df) - 1), min_size=1, max_size=5, unique=True))
        df[col] = df[col].astype(object)
        for r in rows:
            df.iloc[r, df.columns.get_loc(col)] = draw(junk)
    elif kind == "duplicate":
        df = pd.concat([df, df.iloc[[draw(st.integers(0, len(df) - 1))]]], ignore_index=True)
    elif kind == "empty":
        df = df.iloc[0:0]
    else:
        nullable = {f.name for f in table.fields if f.nullable}
        col = draw(st.sampled_from([c for c in required if c not in nullable]))
        df[col] = df[col].astype(object)
        df.iloc[0, df.columns.get_loc(col)] = None
    return name, kind, col, df


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_violations_are_reported_not_crashed(clean_tables, data):
    name, kind, col, df = data.draw(violation(clean_tables))
    frame_before = df.copy()
    typed, report = contract.validate({name: df}, {name: f"{name}.csv"})  # must not raise
    pd.testing.assert_frame_equal(df, frame_before)  # the input frame is never modified
    text = str(report)
    if kind in ("drop", "rename", "empty", "nulls"):
        assert not report.ok and name in text
    if kind in ("drop", "rename", "nulls"):
        assert col in text
    if kind == "duplicate":  # every table's key is unique
        assert not report.ok and "duplicate" in text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True),
                          st.integers(-10**15, 10**15), st.booleans(), st.none()), min_size=1, max_size=30))
def test_every_column_type_survives_any_values(values):
    s = pd.Series(values, dtype=object)
    for f in {f.dtype: f for t in contract.TABLES.values() for f in t.fields}.values():
        out, bad = contract.coerce_column(f, s)  # must not raise
        assert len(out) == len(s) and len(bad) == len(s)
        assert not bad[s.isna()].any()  # empty is never "unparseable"
        assert np.asarray(bad, dtype=bool).dtype == bool
