"""A real PostgreSQL source: load the synthetic tables into a throwaway server, run from it.

The fixture uses Debian's PostgreSQL, installing it (``apt-get install -y postgresql``)
when it is missing and this is root; it starts a private cluster on a free loopback port
under a temporary folder, with password authentication, and removes it afterwards.
Where the server cannot be had the tests skip with the reason.
"""
from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import run_cli

PASSWORD = "pw-Zq81-never-shown"
USER = "ccinsight"
ENV = {"CCINSIGHT_DB_PASSWORD": PASSWORD}


def _pg_bin() -> Path:
    def found():
        hits = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        return Path(hits[-1]).parent if hits else None

    if found():
        return found()
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("PostgreSQL is not installed and cannot be installed here (needs root and apt-get: "
                    "apt-get install -y postgresql)")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                              env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if proc.returncode != 0:
            pytest.skip(f"installing PostgreSQL failed ({' '.join(cmd)}): {proc.stderr.strip()[-300:]}")
    if not found():
        pytest.skip("apt-get installed postgresql but no initdb was found under /usr/lib/postgresql")
    return found()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres(small_data):
    """A running throwaway PostgreSQL holding the small synthetic tables; yields its URL template."""
    bindir = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="ccinsight-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: use the package's postgres user
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    (root / "pw").write_text(PASSWORD)
    os.chmod(root / "pw", 0o644)
    port = _free_port()
    datadir = root / "data"

    def run(*cmd, **kw):
        return subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120, **kw)

    init = run(str(bindir / "initdb"), "-D", str(datadir), "-U", USER, f"--pwfile={root / 'pw'}",
               "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8")
    assert init.returncode == 0, init.stderr
    start = run(str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(root / "log"), "-w", "-o",
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start")
    assert start.returncode == 0, start.stderr + (root / "log").read_text()
    url = f"postgresql+psycopg://{USER}:${{CCINSIGHT_DB_PASSWORD}}@127.0.0.1:{port}/postgres"
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(url.replace("${CCINSIGHT_DB_PASSWORD}", PASSWORD))
        with engine.begin() as con:
            con.execute(sa.text("CREATE SCHEMA hr"))
            for table in ("agents", "training", "performance"):
                pd.read_parquet(small_data / f"{table}.parquet").to_sql(table, con, schema="hr", index=False,
                                                                        chunksize=5000, method="multi")
            # the calls as a dialler might keep them: talk time in minutes under its own name
            con.execute(sa.text("CREATE SCHEMA dialler"))
            calls = pd.read_parquet(small_data / "outbound_calls.parquet")
            calls = calls.rename(columns={"talk_time_s": "talk_min"}).assign(talk_min=calls["talk_time_s"] / 60)
            calls.to_sql("calls", con, schema="dialler", index=False, chunksize=5000, method="multi")
        engine.dispose()
        yield url
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _sources(url: str) -> dict:
    return {
        "agents": {"url": url, "query": "SELECT * FROM hr.agents"},
        "training": {"url": url, "query": "SELECT * FROM hr.training"},
        # a renamed column through SQL, mapped back in the params
        "performance": {"url": url, "query": "SELECT *, conversion_rate AS conv FROM hr.performance",
                        "columns": {"conversion_rate": "conv"}},
    }


def _no_password_in(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and PASSWORD.encode() in p.read_bytes()]


def _strip(found: dict) -> dict:
    """Findings without the run record's data_ entries (where the tables came from)."""
    return {k: v for k, v in found.items() if not k.startswith("data_")}


def _from_db_and_files(notebook: str, sources: dict, small_data: Path, tmp_path: Path):
    """Run ``notebook`` through the CLI on the database ``sources`` and on the files of the
    same tables (month 2026-06): the database run's output, and both runs' findings."""
    params = tmp_path / "pg.yaml"
    params.write_text(yaml.safe_dump({"sources": sources, "month": "2026-06"}))
    from_db = run_cli("run", notebook, "--params", str(params), "--out", str(tmp_path / "db"), env=ENV)
    assert from_db.code == 0, from_db.text
    from_files = run_cli("run", notebook, "--set", f"data={small_data}", "--set", "month=2026-06",
                         "--out", str(tmp_path / "files"))
    assert from_files.code == 0, from_files.text
    return (from_db, json.loads((tmp_path / "db" / "findings.json").read_text()),
            json.loads((tmp_path / "files" / "findings.json").read_text()))


def test_a_notebook_runs_from_postgres_like_from_files(postgres, small_data, tmp_path):
    from_db, db, files = _from_db_and_files("attrition_survival", _sources(postgres), small_data, tmp_path)
    assert "127.0.0.1" in db["data_sources"]["agents"] and ":***@" in db["data_sources"]["agents"]
    assert _strip(db) == _strip(files)  # same numbers, whichever way the tables arrived
    assert _no_password_in(tmp_path / "db") == []
    assert PASSWORD not in from_db.text


def test_validate_reads_postgres_and_a_wrong_password_is_one_clean_sentence(postgres, tmp_path):
    params = tmp_path / "pg.yaml"
    params.write_text(yaml.safe_dump({"sources": _sources(postgres)}))
    ok = run_cli("validate", "--params", str(params), env=ENV)
    assert ok.code == 0 and "all checks passed" in ok.out, ok.text
    wrong = run_cli("validate", "--params", str(params), env={"CCINSIGHT_DB_PASSWORD": "not-" + PASSWORD})
    assert wrong.code == 2 and "Traceback" not in wrong.text, wrong.text
    assert "password authentication failed" in wrong.err and PASSWORD not in wrong.text


def test_a_deck_from_postgres_holds_no_password(postgres, tmp_path):
    params = tmp_path / "deck.yaml"
    params.write_text(yaml.safe_dump({"deck": "pg", "month": "2026-06", "sources": _sources(postgres),
                                      "notebooks": {"attrition_survival": {}, "hiring_channel_quality": {}}}))
    result = run_cli("deck", "--params", str(params), "--out", str(tmp_path / "out"), env=ENV)
    assert result.code == 0, result.text
    deck = tmp_path / "out" / "pg" / "2026-06"
    manifest = json.loads((deck / "manifest.json").read_text())
    assert {i["table"] for i in manifest["inputs"]} == {"agents", "training", "performance"}
    assert all(":***@" in i["source"] for i in manifest["inputs"])
    assert _no_password_in(tmp_path / "out") == [] and PASSWORD not in result.text


def _admin(url: str):
    import sqlalchemy as sa

    return sa.create_engine(url.replace("${CCINSIGHT_DB_PASSWORD}", PASSWORD))


def test_a_source_query_cannot_change_the_database(postgres, tmp_path):
    import sqlalchemy as sa

    from ccinsight import readers

    admin = _admin(postgres)
    with admin.begin() as con:
        con.execute(sa.text("CREATE TABLE IF NOT EXISTS hr.keepme (x int)"))
        con.execute(sa.text("INSERT INTO hr.keepme VALUES (1)"))
    hostile = {"agents": {"url": postgres, "query": "COMMIT; DROP TABLE hr.keepme; SELECT * FROM hr.agents"}}
    params = tmp_path / "pg.yaml"
    params.write_text(yaml.safe_dump({"sources": hostile}))
    result = run_cli("validate", "--params", str(params), env=ENV)
    assert result.code == 2 and "more than one statement" in result.err and "Traceback" not in result.text
    # and should a writing statement get past the query check, the connection itself is read-only
    engine = readers._read_only_engine(postgres.replace("${CCINSIGHT_DB_PASSWORD}", PASSWORD))
    with engine.connect() as con, pytest.raises(sa.exc.InternalError, match="read-only transaction"):
        con.execute(sa.text("DROP TABLE hr.keepme"))
    engine.dispose()
    with admin.connect() as con:
        assert con.execute(sa.text("SELECT count(*) FROM hr.keepme")).scalar() >= 1  # the table survived
    admin.dispose()


def test_a_password_with_url_characters_reaches_only_its_server(postgres, tmp_path):
    """'@', '/' and ':' in a password from the environment are percent-encoded into the URL:
    the connection goes to the server in the URL, and the password is in no message."""
    import sqlalchemy as sa

    odd = "Sup3r@Pw/:%40z"
    admin = _admin(postgres)
    with admin.begin() as con:
        con.execute(sa.text(f"ALTER USER {USER} PASSWORD '{odd}'"))
    try:
        params = tmp_path / "pg.yaml"
        params.write_text(yaml.safe_dump({"sources": _sources(postgres)}))
        ok = run_cli("validate", "--params", str(params), env={"CCINSIGHT_DB_PASSWORD": odd})
        assert ok.code == 0 and "all checks passed" in ok.out, ok.text
        assert odd not in ok.text and "Pw" not in ok.text
    finally:
        from urllib.parse import quote

        restore = sa.create_engine(postgres.replace("${CCINSIGHT_DB_PASSWORD}", quote(odd, safe="")))
        with restore.begin() as con:
            con.execute(sa.text(f"ALTER USER {USER} PASSWORD '{PASSWORD}'"))
        restore.dispose()
        admin.dispose()


def test_a_password_in_the_query_string_reaches_no_output(postgres, tmp_path):
    """The password as a URL query parameter (from the environment; a literal one is refused)."""
    url = postgres.replace(":${CCINSIGHT_DB_PASSWORD}@", "@") + "?password=${CCINSIGHT_DB_PASSWORD}"
    literal = tmp_path / "literal.yaml"
    literal.write_text(yaml.safe_dump({"sources": _sources(url.replace("${CCINSIGHT_DB_PASSWORD}", PASSWORD))}))
    refused = run_cli("validate", "--params", str(literal))
    assert refused.code == 2 and "credentials never go in params files" in refused.err
    assert PASSWORD not in refused.text
    params = tmp_path / "deck.yaml"
    params.write_text(yaml.safe_dump({"deck": "pgq", "month": "2026-06", "sources": _sources(url),
                                      "notebooks": {"attrition_survival": {}}}))
    result = run_cli("deck", "--params", str(params), "--out", str(tmp_path / "out"), env=ENV)
    assert result.code == 0, result.text
    assert _no_password_in(tmp_path / "out") == [] and PASSWORD not in result.text


def test_the_call_aggregates_run_in_postgres_and_only_they_come_back(postgres, small_data, monkeypatch):
    """A SQL source of outbound_calls is mapped and aggregated in the database: the rows
    PostgreSQL sends back are those of the aggregates (counted independently from the file
    with pandas), not the calls, and the findings equal those from the file."""
    import numpy as np
    import sqlalchemy as sa

    from ccinsight.analyses import scripts
    from ccinsight.findings import to_jsonable

    monkeypatch.setenv("CCINSIGHT_DB_PASSWORD", PASSWORD)
    fetched = []

    def count(conn, cursor, statement, parameters, context, executemany):
        fetched.append(cursor.rowcount)

    sources = {"outbound_calls": {"url": postgres, "query": "SELECT * FROM dialler.calls",
                                  "columns": {"talk_time_s": "talk_min"}, "units": {"talk_time_s": "minutes"}}}
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", count)
    try:
        pushed = scripts.analyse(sources=sources, month="2026-06")
    finally:
        sa.event.remove(sa.engine.Engine, "after_cursor_execute", count)
    from_file = scripts.analyse(small_data, month="2026-06")
    assert _strip(to_jsonable(pushed.findings())) == _strip(to_jsonable(from_file.findings()))

    calls = pd.read_parquet(small_data / "outbound_calls.parquet")
    both = calls[(calls["started_at"] >= "2026-05-01") & (calls["started_at"] < "2026-07-01")]
    by_second = both.assign(month=both["started_at"].dt.month, hour=both["started_at"].dt.hour,
                            talk=np.floor(both["talk_time_s"] + 0.5)).groupby(
        ["month", "hour", "script_version", "talk", "refusal_reason"], dropna=False, observed=True).ngroups
    june = calls[(calls["started_at"] >= "2026-06-01") & (calls["started_at"] < "2026-07-01")
                 & (calls["talk_time_s"] > 0)]
    by_day = june.groupby([june["started_at"].dt.date, "campaign", june["started_at"].dt.hour,
                           "script_version"], observed=True).ngroups
    # one row each: the problems counted, call ids that come twice, the calls counted, the months' bounds
    aggregates = 4 + by_second + by_day
    assert sum(n for n in fetched if n > 0) == aggregates
    assert max(fetched) == max(by_second, by_day)
    assert aggregates < len(calls) / 5  # the table's other months never leave the database


def test_the_data_overview_counts_calls_in_postgres_as_in_the_file(postgres, small_data, tmp_path):
    """Through the CLI, as a user runs it: the overview of a database's calls (counted in the
    database) says what the overview of the same calls in a file says."""
    sources = _sources(postgres)
    sources["outbound_calls"] = {"url": postgres, "query": "SELECT * FROM dialler.calls",
                                 "columns": {"talk_time_s": "talk_min"}, "units": {"talk_time_s": "minutes"}}
    _, db, files = _from_db_and_files("data_overview", sources, small_data, tmp_path)
    assert db["n_calls"] > 1000 and _strip(db) == _strip(files)
    assert any("counted where it lies" in n for n in db["data_notes"])
    assert _no_password_in(tmp_path / "db") == []
