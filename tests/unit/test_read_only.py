"""Sources are read, never changed: one SELECT per query, read-only connections where the
database enforces them (SQLite and DuckDB files here; PostgreSQL in tests/e2e/test_postgres.py)."""
from __future__ import annotations

import sqlite3

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa

from ccinsight import readers, sources
from ccinsight.errors import ParameterError


@pytest.mark.parametrize("query,words", [
    ("DROP TABLE agents", "must be a SELECT, not DROP"),
    ("SELECT 1; DROP TABLE agents", "more than one statement"),
    ("COMMIT; DROP TABLE hr.keepme; SELECT * FROM hr.agents", "more than one statement"),
    ("COPY (SELECT 1) TO 'leak.csv'", "must be a SELECT, not COPY"),
    ("WITH gone AS (DELETE FROM agents RETURNING *) SELECT * FROM gone", "holds DELETE"),
    ("SELECT 1 /* ; */ ; ATTACH 'x.db'", "more than one statement"),
    ("INSTALL httpfs", "must be a SELECT, not INSTALL"),
])
def test_anything_but_one_select_is_refused_before_connecting(query, words):
    with pytest.raises(ParameterError, match=words):
        sources.parse({"agents": {"url": "sqlite:///nowhere.db", "query": query}}, "params file p.yaml")


def test_one_select_passes_with_its_quoted_text_intact():
    q = "SELECT * FROM agents WHERE note = 'a; DROP TABLE x' -- trailing\n;"
    assert readers.check_select(q, "q").startswith("SELECT * FROM agents WHERE note = 'a; DROP TABLE x'")


def test_sqlite_sources_are_opened_read_only(tmp_path):
    db = tmp_path / "hr.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE agents (agent_id TEXT)")
        con.execute("INSERT INTO agents VALUES ('a1')")
    before = db.read_bytes()
    engine = readers._read_only_engine(f"sqlite:///{db}")
    with engine.connect() as con, pytest.raises(sa.exc.OperationalError, match="readonly"):
        con.execute(sa.text("INSERT INTO agents VALUES ('a2')"))  # even past the query check
    engine.dispose()
    frame = sources.read(sources.parse({"agents": {"url": f"sqlite:///{db}", "query": "SELECT * FROM agents"}}),
                         ["agents"])[0]["agents"]
    assert frame["agent_id"].tolist() == ["a1"] and db.read_bytes() == before


def test_duckdb_sources_reach_no_other_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "hr.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE agents AS SELECT 'a1' AS agent_id")
    pd.DataFrame({"x": [1]}).to_csv(tmp_path / "other.csv", index=False)
    src = sources.parse({"agents": {"file": str(db), "query": "SELECT * FROM read_csv_auto('other.csv')"}})["agents"]
    with pytest.raises(Exception, match="(?i)external access|disabled|permission"):
        readers.read_source(src)
    ok = sources.parse({"agents": {"file": str(db), "table": "agents"}})["agents"]
    assert readers.read_source(ok)["agent_id"].tolist() == ["a1"]
