"""Every read of a file or a database, in one place.

Data folders (one file per contract table), mapped sources (CSV, Parquet, Excel, globs,
DuckDB files, SQL databases), row counts and fingerprints of inputs, and DuckDB queries
over files all go through here, so unreadable input becomes one sentence naming the file
(:class:`~ccinsight.errors.DataError`) in one way everywhere.
"""
from __future__ import annotations

import glob as globmod
import hashlib
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator
from urllib.parse import quote

import pandas as pd

from ccinsight.config import display_path, resolve_path
from ccinsight.credentials import env_names, expand_env, redact_url
from ccinsight.errors import DataError, ParameterError

#: Files of a data folder: ``<table>.parquet``, ``<table>.csv`` or ``<table>.csv.gz``.
SUFFIXES = (".parquet", ".csv", ".csv.gz")
#: Kinds of source file by suffix.
FILE_SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".gz": "csv", ".parquet": "parquet",
                 ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel", ".duckdb": "duckdb", ".db": "duckdb"}


# --------------------------------------------------------------------------- data folders
def table_file(root: Path, name: str) -> Path | None:
    """The file holding table ``name`` in ``root``, or None when there is none."""
    for suffix in SUFFIXES:
        path = root / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


#: Rows read at a time from a table checked in batches (:func:`read_batches`): 200,000
#: checks 20M calls in 0.49 GB at the speed of 500,000 (0.68 GB) or 1M (0.96 GB).
BATCH_ROWS = 200_000


def read_table(path: Path, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Read one table file; problems become a DataError naming the file.

    Parameters
    ----------
    path
        A ``.parquet``, ``.csv`` or ``.csv.gz`` file.
    table
        Contract table name, for messages.
    columns
        Read only these columns when present (Parquet only; CSV reads all).
    """
    with _read_errors(path, table):
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            names = pq.read_schema(path).names
            _no_duplicate_columns(names, f"{display_path(path)} (table {table})")
            cols = [c for c in columns if c in names] if columns is not None else None
            return pd.read_parquet(path, columns=cols)
        return pd.read_csv(path, encoding="utf-8-sig", low_memory=False)


def read_batches(path: Path, table: str, rows: int | None = None) -> Iterator[pd.DataFrame]:
    """Read one table file ``rows`` (default :data:`BATCH_ROWS`) rows at a time (row labels
    continue from batch to batch), so a table of any length is checked in bounded memory;
    problems as :func:`read_table`."""
    rows = rows or BATCH_ROWS
    start = 0
    with _read_errors(path, table):
        if path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            file = pq.ParquetFile(path)
            _no_duplicate_columns(file.schema_arrow.names, f"{display_path(path)} (table {table})")
            # a reader per row group: one reader over the whole file holds on to memory as it goes
            pieces = (b for i in range(file.num_row_groups) for b in file.iter_batches(batch_size=rows, row_groups=[i]))
            batches = _joined(pieces, rows, file.schema_arrow)
        else:
            batches = pd.read_csv(path, encoding="utf-8-sig", low_memory=False, chunksize=rows)
        for batch in batches:
            batch.index = pd.RangeIndex(start, start + len(batch))
            start += len(batch)
            yield batch


def _joined(batches, rows: int, schema) -> Iterator[pd.DataFrame]:
    """Record batches (one or more per Parquet row group) joined into frames of about ``rows`` rows."""
    import pyarrow as pa

    part, n = [], 0
    for batch in batches:
        part.append(batch)
        n += batch.num_rows
        if n >= rows:
            yield pa.Table.from_batches(part, schema=schema).to_pandas()
            part, n = [], 0
    if part:
        yield pa.Table.from_batches(part, schema=schema).to_pandas()


@contextmanager
def _read_errors(path: Path, table: str):
    """Unreadable table files become one sentence naming the file."""
    shown = display_path(path)
    if path.stat().st_size == 0:
        raise DataError(f"{shown} (table {table}) is an empty file: expected a header row and data.")
    try:
        yield
    except UnicodeDecodeError as err:
        raise DataError(f"{shown} (table {table}) is not UTF-8 text (byte {err.start}: "
                        f"{err.object[err.start:err.start + 1]!r}); save it as UTF-8 and try again.") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{shown} (table {table}) has no columns: the file holds no header row.") from None
    except pd.errors.ParserError as err:
        raise DataError(f"{shown} (table {table}) is not a well-formed CSV file: {err}".rstrip(".") + ".") from None
    except DataError:
        raise
    except Exception as err:  # pyarrow raises several types for corrupt files
        if path.suffix == ".parquet":
            raise DataError(f"{shown} (table {table}) could not be read as Parquet "
                            f"(truncated or not a Parquet file: {str(err).splitlines()[0]}).") from None
        raise


# --------------------------------------------------------------------------- mapped sources
def source_files(src) -> list[Path]:
    """The files of a source's ``file`` (a path or a glob), each checked to be a readable file."""
    pattern = str(resolve_path(str(src.get("file"))))
    paths = sorted(Path(p) for p in globmod.glob(pattern)) if globmod.has_magic(pattern) else [Path(pattern)]
    if not paths:
        raise DataError(f"{src.where}: no file matches {display_path(pattern)}.")
    for path in paths:
        if path.is_dir():
            raise DataError(f"{src.where}: {display_path(path)} is a folder, not a file; name the file (or a glob "
                            "such as exports/*.csv).")
        if path.is_symlink() and not path.exists():
            raise DataError(f"{src.where}: {display_path(path)} is a symbolic link that leads nowhere (a loop or a "
                            "missing target).")
        if not path.is_file():
            raise DataError(f"{src.where}: file {display_path(path)} does not exist.")
    return paths


def read_source(src) -> pd.DataFrame:
    """Read a source (a :class:`ccinsight.sources.Source`) as the export has it; problems
    become one-sentence DataErrors."""
    if src.kind == "sql":
        return _read_sql(src)
    paths = source_files(src)
    frames = [_read_source_file(src, path) for path in paths]
    for path, frame in zip(paths[1:], frames[1:]):  # a glob's files must agree on their columns
        if list(frame.columns) != list(frames[0].columns):
            extra = [str(c) for c in frame.columns if c not in frames[0].columns]
            lacking = [str(c) for c in frames[0].columns if c not in frame.columns]
            raise DataError(f"{src.where}: the files of {src.get('file')} do not have the same columns: "
                            f"{display_path(path)} differs from {display_path(paths[0])}"
                            + (f" (it also has {', '.join(extra[:5])}" if extra else " (")
                            + ("; " if extra and lacking else "")
                            + (f"lacks {', '.join(lacking[:5])}" if lacking else "")
                            + ("" if extra or lacking else "its columns are in another order") + ").")
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _no_duplicate_columns(names, shown: str) -> None:
    seen, dups = set(), []
    for n in names:
        if n in seen and n not in dups:
            dups.append(n)
        seen.add(n)
    if dups:
        raise DataError(f"{shown} has more than one column named {', '.join(repr(str(d)) for d in dups[:5])}; "
                        "rename them in the export.")


def _read_source_file(src, path: Path) -> pd.DataFrame:
    shown = f"{display_path(path)} (table {src.table})"
    kind = FILE_SUFFIXES.get(path.suffix.lower(), "csv")
    if path.stat().st_size == 0:
        raise DataError(f"{shown} is an empty file: expected a header row and data.")
    if kind == "parquet":
        return read_table(path, src.table)
    if kind == "excel":
        try:
            book = pd.ExcelFile(path)
        except Exception as err:  # openpyxl raises several types for damaged files
            raise DataError(f"{shown} could not be read as an Excel workbook ({str(err).splitlines()[0]}).") from None
        sheet = src.get("sheet", 0)
        if sheet != 0 and sheet not in book.sheet_names:
            raise DataError(f"{shown} has no sheet {sheet!r}; sheets: {', '.join(book.sheet_names)}.")
        frame = book.parse(sheet, skiprows=src.get("skip_rows") or 0)
        _no_duplicate_columns([str(c).split(".")[0] if str(c) != c else c for c in frame.columns], shown)
        return frame
    if kind == "duckdb":
        import duckdb

        sql = check_select(src.get("query"), f"{src.where}.query") if src.get("query") else \
            f'SELECT * FROM "{str(src.get("table")).replace(chr(34), chr(34) * 2)}"'
        try:  # read-only, and no reading or writing of other files from inside the query
            with duckdb.connect(str(path), read_only=True, config={"enable_external_access": False}) as con:
                return con.execute(sql).df()
        except duckdb.Error as err:
            raise DataError(f"{shown}: {str(err).splitlines()[0]}") from None
    encoding = src.get("encoding") or "utf-8-sig"
    if str(encoding).lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # a byte-order mark is not part of the first column's name
    try:
        return pd.read_csv(path, sep=src.get("sep") or ",", encoding=encoding, low_memory=False,
                           skiprows=src.get("skip_rows") or 0,
                           skipinitialspace=False)
    except UnicodeDecodeError as err:
        raise DataError(f"{shown} is not {encoding} text (byte {err.start}: "
                        f"{err.object[err.start:err.start + 1]!r}); set 'encoding' in its source.") from None
    except LookupError:
        raise DataError(f"{src.where}: unknown encoding {encoding!r}.") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{shown} has no columns: the file holds no header row.") from None
    except pd.errors.ParserError as err:
        raise DataError(f"{shown} is not a well-formed CSV file with separator "
                        f"{src.get('sep') or ','!r}: {str(err).strip().rstrip('.')}.") from None


#: Statements that change data or reach outside the database, refused anywhere in a source query.
_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|DROP|CREATE|ALTER|TRUNCATE|COPY|ATTACH|DETACH|INSTALL|GRANT|"
                     r"REVOKE)\b", re.I)


def check_select(query, where: str) -> str:
    """``query`` if it is exactly one SELECT (or WITH ... SELECT) statement, else a
    ParameterError: a source is read, never changed (no second statement after a ';', no
    COPY, ATTACH, INSTALL, DROP, ...)."""
    if not isinstance(query, str) or not query.strip():
        raise ParameterError(f"{where} must be the text of one SELECT statement.")
    text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", query, flags=re.S).strip()
    outside = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "''", text)  # quoted text can hold anything
    if "$$" in outside:
        raise ParameterError(f"{where}: dollar-quoted text is not accepted in a source query.")
    if ";" in outside.rstrip().rstrip(";"):
        raise ParameterError(f"{where}: the query holds more than one statement; a source query is exactly one "
                             "SELECT.")
    first = re.match(r"\(*\s*([A-Za-z]+)", outside)
    if not first or first.group(1).upper() not in ("SELECT", "WITH"):
        word = first.group(1).upper() if first else outside[:20]
        raise ParameterError(f"{where}: a source query must be a SELECT, not {word}; sources are only read.")
    writes = _WRITES.search(outside)
    if writes:
        raise ParameterError(f"{where}: the query holds {writes.group(1).upper()}; a source query only reads.")
    return text.rstrip().rstrip(";")


def _read_only_engine(url: str):
    """A SQLAlchemy engine whose connections cannot write where the database can enforce it:
    PostgreSQL transactions are read-only, SQLite files are opened read-only."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(url, connect_args={"options": "-c default_transaction_read_only=on"},
                                execution_options={"postgresql_readonly": True})
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).absolute().as_posix()
        return sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    return sa.create_engine(url)


@contextmanager
def sql_connection(src):
    """A read-only connection to a SQL source's database (a :class:`ccinsight.sources.Source`
    with a ``url``). Whatever fails inside (connecting, a missing table, a query the
    database rejects) becomes one sentence naming the source, its password redacted."""
    import sqlalchemy as sa

    url = expand_env(str(src.get("url")), src.where)
    secrets = [os.environ[m] for m in env_names(str(src.get("url")))]
    secrets += [quote(s, safe="") for s in secrets]

    def clean(err: Exception) -> str:
        text = redact_url(str(err).splitlines()[0] if str(err) else type(err).__name__)
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    try:
        engine = _read_only_engine(url)
    except Exception as err:  # unknown dialect, bad URL, missing driver
        raise DataError(f"{src.where}: cannot use database URL {redact_url(src.get('url'))}: {clean(err)}") from None
    try:
        with engine.connect() as con:  # never committed: closing rolls the transaction back
            yield con
    except ValueError as err:  # read_sql_table: no such table
        raise DataError(f"{src.where}: {clean(err)} at {redact_url(src.get('url'))}.") from None
    except sa.exc.SQLAlchemyError as err:
        raise DataError(f"{src.where}: reading {src.label} failed: {clean(getattr(err, 'orig', err) or err)}") \
            from None
    finally:
        engine.dispose()


#: Memory DuckDB may use for a check or an aggregation before it spills to a temporary folder.
#: It runs inside a notebook's kernel beside the tables already loaded: at 512 MB the data
#: overview's kernel peaked at 1,142 MiB on 20M mapped calls, at 256 MB 904 MiB, as fast.
DUCKDB_MEMORY = "256MB"


@contextmanager
def duckdb_files_connection(src, memory: str = DUCKDB_MEMORY):
    """A SQLAlchemy connection to an in-memory DuckDB (duckdb_engine), within ``memory``
    (larger work spills to a temporary folder), and the SQL relation of a CSV or Parquet
    source's file(s) (a glob's files as one relation); failures as :func:`sql_connection`."""
    import tempfile

    import sqlalchemy as sa

    paths = source_files(src)
    listed = "[" + ", ".join(f"'{str(p).replace(chr(39), chr(39) * 2)}'" for p in paths) + "]"
    if FILE_SUFFIXES.get(paths[0].suffix.lower()) == "parquet":
        relation = f"read_parquet({listed})"
    else:
        sep = str(src.get("sep") or ",").replace("'", "''")
        relation = f"read_csv({listed}, delim='{sep}', header=true, skip={int(src.get('skip_rows') or 0)})"
    with tempfile.TemporaryDirectory(prefix="ccinsight-duckdb-") as spill:
        engine = sa.create_engine("duckdb:///:memory:", connect_args={"config": {
            "memory_limit": memory, "temp_directory": spill}})
        try:
            with engine.connect() as con:
                yield con, relation
        except sa.exc.SQLAlchemyError as err:
            raise DataError(f"{src.where}: reading {src.label} failed: "
                            f"{str(getattr(err, 'orig', err) or err).splitlines()[0]}") from None
        finally:
            engine.dispose()


def _read_sql(src) -> pd.DataFrame:
    import sqlalchemy as sa

    query = check_select(src.get("query"), f"{src.where}.query") if src.get("query") else None
    with sql_connection(src) as con:
        if query:
            return pd.read_sql(sa.text(query), con)
        return pd.read_sql_table(str(src.get("table")), con)


# --------------------------------------------------------------------------- fingerprints
#: What :func:`sha256` and :func:`count_rows` found, per file version (device, inode, size,
#: modification and change times): a deck worker records every input before and after each
#: notebook it runs, and a backfill's inputs do not change. A file changed in the last
#: :data:`SETTLED_S` seconds could change again within one tick of its timestamps unseen, so
#: what was found in it is not kept.
_FOUND: dict[tuple, object] = {}
SETTLED_S = 2.0


def _per_version(what: str, path: Path, find):
    st = os.stat(path)
    key = (what, os.path.abspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if key in _FOUND:
        return _FOUND[key]
    found = find(path)
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > SETTLED_S * 1e9:
        if len(_FOUND) >= 4096:  # many versions of many files: start again
            _FOUND.clear()
        _FOUND[key] = found
    return found


def sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks (once per version of the file in a process)."""
    return _per_version("sha256", path, _sha256)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def count_rows(path: Path) -> int | None:
    """Rows of a Parquet (from its metadata) or CSV file (lines after the header, counted once
    per version of the file in a process); None otherwise."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    if path.suffix == ".csv":
        return _per_version("rows", path, _csv_rows)
    return None


def _csv_rows(path: Path) -> int:
    with open(path, "rb") as f:
        return max(0, sum(1 for _ in f) - 1)


# --------------------------------------------------------------------------- DuckDB over files
def duckdb_relation(path: Path) -> str:
    """SQL naming a Parquet or CSV file as a DuckDB relation."""
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv_auto"
    return f"{reader}('{str(path).replace(chr(39), chr(39) * 2)}')"


def duckdb_query(sql: str, frames: dict[str, pd.DataFrame] | None = None,
                 settings: dict[str, str] | None = None) -> pd.DataFrame:
    """Run one DuckDB query on a fresh in-memory connection (``frames`` registered by name,
    ``settings`` such as a memory limit applied first)."""
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")  # no progress bars in notebook outputs
        for name, value in (settings or {}).items():  # our own settings (older DuckDB takes no parameters here)
            if not re.fullmatch(r"[a-z_]+", name):
                raise ValueError(f"not a DuckDB setting: {name!r}")
            con.execute(f"SET {name} = '{str(value).replace(chr(39), chr(39) * 2)}'")
        for name, frame in (frames or {}).items():
            con.register(name, frame)
        return con.execute(sql).df()
