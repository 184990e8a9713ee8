"""The call table of a SQL source, mapped and aggregated in its database (ccinsight.pushdown):
the same findings as the pandas mapping of the same export, filters that keep the same rows,
and mistakes reported as the file path reports them. SQLite here; PostgreSQL in
tests/e2e/test_postgres.py."""
from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
import yaml

from ccinsight import filters, pushdown
from ccinsight.analyses import scripts
from ccinsight.errors import DataError
from ccinsight.findings import to_jsonable
from ccinsight.sources import parse


@pytest.fixture(scope="module")
def dialler(small_data, tmp_path_factory):
    """The small centre's calls as a dialler might export them: one outcome column, talk
    time in minutes, script versions as codes, and a row of test calls to filter out."""
    calls = pd.read_parquet(small_data / "outbound_calls.parquet")
    result = np.select([calls["converted"], calls["accepted"]], ["SALE", "HEARD"],
                       default=calls["refusal_reason"].astype(str).str.upper())
    export = pd.DataFrame({"id": calls["call_id"], "agent": calls["agent_id"],
                           "campaign": calls["campaign"].astype(str),
                           "version": calls["script_version"].map({"verbatim": "V", "keyword": "K"}).astype(str),
                           "started_at": calls["started_at"], "talk_min": calls["talk_time_s"] / 60,
                           "result": result, "test_call": 0})
    folder = tmp_path_factory.mktemp("dialler")
    path = folder / "calls.db"
    june = export["started_at"] >= "2026-06-01"
    export[~june].to_csv(folder / "calls-1.csv", sep=";", index=False)  # a dialler's monthly exports: a glob
    export[june].to_csv(folder / "calls-2.csv", sep=";", index=False)
    export.to_parquet(folder / "calls.parquet")
    with sqlite3.connect(path) as con:
        export.to_sql("calls", con, index=False)
        # test calls in the month analysed, all sales: the filter must leave them out
        con.execute("INSERT INTO calls SELECT id + 10000000, agent, campaign, version, started_at, talk_min, "
                    "'SALE', 1 FROM calls WHERE started_at >= '2026-06-01' LIMIT 500")
    return path


def _spec(path, **more) -> dict:
    spec = {"url": f"sqlite:///{path}", "table": "calls", "filter": "not test_call == 1",
            "columns": {"call_id": "id", "agent_id": "agent", "script_version": "version",
                        "talk_time_s": "talk_min"},
            "units": {"talk_time_s": "minutes"},
            "values": {"script_version": {"V": "verbatim", "K": "keyword"}},
            "outcome": {"column": "result", "accepted": ["SALE", "HEARD"], "converted": "SALE"}}
    return {"outbound_calls": spec | more}


def _strip(findings) -> dict:
    return {k: v for k, v in to_jsonable(findings).items() if not k.startswith("data_")}


def _as_files(path, pattern: str, **more) -> dict:
    spec = _spec(path, **more)["outbound_calls"]
    spec = {k: v for k, v in spec.items() if k not in ("url", "table")} | {"file": str(path.parent / pattern)}
    return {"outbound_calls": spec | ({"sep": ";"} if pattern.endswith(".csv") else {})}


@pytest.mark.parametrize("where", ["sqlite", "csv glob", "parquet"])
def test_pushed_down_findings_equal_the_pandas_mapping_of_the_same_export(dialler, monkeypatch, where):
    sources = {"sqlite": lambda: _spec(dialler), "csv glob": lambda: _as_files(dialler, "calls-*.csv"),
               "parquet": lambda: _as_files(dialler, "calls.parquet")}[where]()
    if where != "sqlite":  # the files hold no test calls
        sources["outbound_calls"].pop("filter")
    assert pushdown.not_pushed(parse(sources)["outbound_calls"]) is None
    pushed = scripts.analyse(sources=sources, month="2026-06")
    assert "aggregated where it lies" in " ".join(pushed.provenance()["data_notes"])
    assert pushed.provenance()["data_sources"]["outbound_calls"] == parse(sources)["outbound_calls"].label
    monkeypatch.setattr(pushdown, "not_pushed", lambda src: "read whole for the comparison")
    read_whole = scripts.analyse(sources=sources, month="2026-06")
    assert _strip(pushed.findings()) == _strip(read_whole.findings())
    assert pushed.findings().n_calls > 1000


def test_an_unmapped_value_is_reported_with_counts_and_examples(dialler):
    sources = _spec(dialler, values={"script_version": {"V": "verbatim"}})
    with pytest.raises(DataError) as err:
        scripts.analyse(sources=sources, month="2026-06")
    text = str(err.value)
    assert "values.script_version" in text and "'K' (" in text and "rows)" in text


def test_mappings_the_database_cannot_run_are_read_whole(dialler):
    src = parse(_spec(dialler, units={"talk_time_s": "mm:ss"}))["outbound_calls"]
    assert "mm:ss" in pushdown.not_pushed(src)
    src = parse(_spec(dialler, date_format="%d/%m/%Y %H:%M"))["outbound_calls"]
    assert "date_format" in pushdown.not_pushed(src)


@pytest.mark.parametrize("expression", [
    "x > 1", "not x > 1", "x > 1 or s == 'b'", "s in ['a', None]", "s not in ['a']", "-x < -1 and flag",
    "not flag", "1 < x <= 3", "x == None", "s != None",
])
def test_a_filter_keeps_the_same_rows_in_sql_as_in_pandas(expression):
    import sqlalchemy as sa

    frame = pd.DataFrame({"x": [0, 1, 2, 3, None, 5], "s": ["a", "b", None, "b", "a", "c"],
                          "flag": [1, 0, None, 1, 1, 0]})
    engine = sa.create_engine("sqlite://")
    frame.assign(row=range(len(frame))).to_sql("t", engine, index=False)
    table = sa.table("t", *[sa.column(c) for c in ("x", "s", "flag", "row")])
    condition = filters.to_sql(expression, "test", lambda name: table.c[name])
    with engine.connect() as con:
        kept = sorted(r[0] for r in con.execute(sa.select(table.c.row).where(condition)))
    expected = list(np.flatnonzero(filters.apply(frame.astype({"flag": "boolean"}), expression, "test")))
    assert kept == expected, expression


def test_a_repeated_call_id_is_reported_as_for_a_file(dialler, tmp_path):
    calls = pd.read_parquet(dialler.parent / "calls.parquet")
    pd.concat([calls, calls.head(3)]).to_parquet(tmp_path / "calls.parquet")
    sources = _as_files(tmp_path / "calls.parquet", "calls.parquet")
    sources["outbound_calls"].pop("filter")
    with pytest.raises(DataError) as err:
        scripts.analyse(sources=sources, month="2026-06")
    assert "call_id" in str(err.value) and "6 rows" in str(err.value) and "duplicate values" in str(err.value)


def test_a_mapped_column_the_export_lacks_is_named_with_the_closest_match(dialler):
    sources = _spec(dialler, columns={"call_id": "id", "agent_id": "agent", "script_version": "version",
                                      "talk_time_s": "talk_minutes"})
    with pytest.raises(DataError) as err:
        scripts.analyse(sources=sources, month="2026-06")
    assert "'talk_minutes'" in str(err.value) and "did you mean 'talk_min'" in str(err.value)


def test_bad_values_are_counted_where_they_lie_with_the_contracts_words(dialler, tmp_path):
    """Empty agent ids, talk times out of range and converted-not-accepted calls: the same
    problems, rows and words as the contract's check of the same calls read whole."""
    calls = pd.read_parquet(dialler.parent / "calls.parquet")
    calls.loc[calls.index[:4], "agent"] = None
    calls.loc[calls.index[10:13], "talk_min"] = -1.0
    calls.to_parquet(tmp_path / "calls.parquet")
    sources = _as_files(tmp_path / "calls.parquet", "calls.parquet")
    sources["outbound_calls"].pop("filter")
    with pytest.raises(DataError) as pushed:
        scripts.analyse(sources=sources, month="2026-06")
    from ccinsight import data

    with pytest.raises(DataError) as whole:
        data.load(None, ["outbound_calls"], sources=sources | {"outbound_calls": sources["outbound_calls"]
                                                              | {"date_format": "%Y-%m-%d %H:%M:%S"}})
    for text in (str(pushed.value), str(whole.value)):
        assert "agent_id" in text and "4 rows" in text and "empty values" in text
        assert "talk_time_s" in text and "values not above 0 and at most 7200 (3 rows; e.g. -60.0)" in text


def test_validate_with_params_checks_mapped_calls_where_they_lie(dialler, tmp_path, capsys):
    """`ccinsight validate --params`: the calls are not loaded, and a bad value is reported
    with the rows and words of the check of the calls read whole (exit 2, no raise)."""
    calls = pd.read_parquet(dialler.parent / "calls.parquet")
    calls.loc[calls.index[10:13], "talk_min"] = -1.0
    calls.to_parquet(tmp_path / "calls.parquet")
    sources = _as_files(tmp_path / "calls.parquet", "calls.parquet")
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"sources": sources}))
    from ccinsight import cli

    assert cli.main(["validate", "--params", str(params)]) == 2
    out = capsys.readouterr().out
    assert "values not above 0 and at most 7200 (3 rows; e.g. -60.0)" in out
    calls.loc[calls.index[10:13], "talk_min"] = 1.0
    calls.to_parquet(tmp_path / "calls.parquet")
    assert cli.main(["validate", "--params", str(params)]) == 0
    out = capsys.readouterr().out
    assert "no call was loaded" in out and f"outbound_calls {len(calls):,} rows" in out
