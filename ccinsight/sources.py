"""Bring your own data: where each contract table comes from and how it maps onto the contract.

A params file's ``sources`` section names, for each contract table, a location and a
mapping. Locations: a CSV / Parquet / Excel file or a glob of files (``file``), a DuckDB
file (``file`` plus ``table`` or ``query``), or a SQL database (``url``, a SQLAlchemy URL,
plus ``table`` or ``query``). Mapping, applied in this order:

1. ``filter``: rows to keep, a pandas query on the export's own columns;
2. ``columns``: contract column -> the export's column (columns already named as in the
   contract need no entry);
3. ``values``: per contract column, the export's values -> the contract's
   (``"*"`` catches every other value; without it unmapped values are an error);
4. ``units``: ``seconds`` (default), ``minutes``, ``hours`` or ``mm:ss`` text for durations;
5. derived fields: ``outcome`` (one outcome column -> ``accepted`` and ``converted``),
   ``tenure`` (tenure plus a left/stayed flag -> hire and exit dates),
   ``date_parts`` (a date from month/day columns), ``row_id`` (number the rows);
6. ``constants``: one value for a contract column the export lacks.

Every mistake found is reported together, naming the file, the export's column, what
the file holds and the closest match. Credentials never live in params files: a URL may
reference environment variables (``${CCINSIGHT_DB_PASSWORD}``), which are read only when
connecting; a URL with a literal password is refused, and :func:`redact` hides passwords
from anything shown.
"""
from __future__ import annotations

import glob as globmod
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ccinsight import contract
from ccinsight.config import display_path, resolve_path
from ccinsight.errors import DataError, ParameterError, examples

#: Keys a table's source entry accepts, with what each holds (for messages and docs).
KEYS = {
    "file": "a CSV, Parquet, Excel or DuckDB file, or a glob such as exports/calls-*.csv",
    "url": "a SQLAlchemy URL; write secrets as ${ENV_VAR}",
    "table": "a table in the DuckDB file or SQL database",
    "query": "a SELECT run on the DuckDB file or SQL database",
    "sep": "CSV field separator (default ,)",
    "encoding": "text encoding (default utf-8, with or without a byte-order mark)",
    "sheet": "Excel sheet name (default the first sheet)",
    "date_format": "strftime format of the dates, e.g. %m/%d/%y; or contract column -> format",
    "filter": "rows to keep, a pandas query on the export's columns, e.g. duration > 0",
    "columns": "contract column -> the export's column",
    "values": "contract column -> {export value: contract value, '*': every other value}",
    "units": "contract duration column -> seconds, minutes, hours or mm:ss",
    "outcome": "{column, accepted: [values], converted: [values]}: one outcome column for both",
    "tenure": "{column, unit, left, left_values, as_of}: dates from tenure and a left flag",
    "date_parts": "contract date column -> {month, day, year or first_year}",
    "row_id": "contract column to fill with row numbers 1..n (e.g. call_id)",
    "constants": "contract column -> one value for every row",
}
FILE_SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".gz": "csv", ".parquet": "parquet",
                 ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel", ".duckdb": "duckdb", ".db": "duckdb"}
UNITS = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "mm:ss": None}
TENURE_UNITS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12, "years": 365.25}
MONTH_NAMES = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


# --------------------------------------------------------------------------- secrets
def redact(text: str) -> str:
    """Hide the password of any URL in ``text`` (``user:secret@host`` -> ``user:***@host``)."""
    return re.sub(r"(://[^:/@\s]+):[^@\s]+@", r"\1:***@", str(text))


def expand_env(url: str, where: str) -> str:
    """Fill ``${VAR}`` references from the environment; a missing variable is an error."""
    missing = [m for m in ENV_REF.findall(url) if m not in os.environ]
    if missing:
        raise ParameterError(f"{where}: environment variable(s) {', '.join(missing)} referenced by the URL "
                             "are not set; export them before running.")
    return ENV_REF.sub(lambda m: os.environ[m.group(1)], url)


def _literal_password(url: str) -> bool:
    m = re.search(r"://[^:/@\s]+:([^@\s]*)@", url)
    return bool(m) and not ENV_REF.fullmatch(m.group(1)) and m.group(1) != ""


# --------------------------------------------------------------------------- spec
@dataclass(frozen=True)
class Source:
    """One contract table's source: location, read options and mapping (as in the params file)."""

    table: str
    spec: Mapping[str, Any]
    where: str  # "params file X, sources.agents", for messages

    def get(self, key: str, default: Any = None) -> Any:
        return self.spec.get(key, default)

    @property
    def kind(self) -> str:
        if self.get("url"):
            return "sql"
        suffix = Path(str(self.get("file"))).suffix.lower()
        return FILE_SUFFIXES.get(suffix, "csv")

    @property
    def label(self) -> str:
        """Where the table came from, safe to show (no password)."""
        if self.get("url"):
            what = self.get("table") or "query"
            return f"{redact(self.spec['url'])} ({what})"
        shown = display_path(resolve_path(str(self.get("file"))))
        if self.kind == "duckdb":
            return f"{shown} ({self.get('table') or 'query'})"
        return shown

    def renamed(self) -> dict[str, str]:
        """Contract column -> the export's column, as mapped."""
        return {str(k): str(v) for k, v in (self.get("columns") or {}).items()}


def parse(sources: Mapping[str, Any] | None, where: str = "params") -> dict[str, Source]:
    """Check a ``sources`` section's shape (not the data) and return one Source per table."""
    if not sources:
        return {}
    if not isinstance(sources, Mapping):
        raise ParameterError(f"{where}: 'sources' must map contract tables to their source, "
                             f"got {type(sources).__name__}.")
    out = {}
    for table, spec in sources.items():
        here = f"{where}, sources.{table}"
        if table not in contract.TABLES:
            near = contract.closest(str(table), contract.TABLES)
            hint = f" (did you mean '{near}'?)" if near else ""
            raise ParameterError(f"{where}: 'sources' names unknown table '{table}'{hint}; "
                                 f"contract tables: {', '.join(contract.TABLES)}.")
        if not isinstance(spec, Mapping):
            raise ParameterError(f"{here} must be a mapping with 'file' or 'url'.")
        unknown = [k for k in spec if k not in KEYS]
        if unknown:
            hints = [f"'{k}'" + (f" (did you mean '{n}'?)" if (n := contract.closest(str(k), KEYS)) else "")
                     for k in unknown]
            raise ParameterError(f"{here}: unknown key {', '.join(hints)}; valid keys: {', '.join(KEYS)}.")
        if bool(spec.get("file")) == bool(spec.get("url")):
            raise ParameterError(f"{here}: give exactly one of 'file' (a file or glob) and 'url' (a database).")
        src = Source(str(table), dict(spec), here)
        if src.kind in ("sql", "duckdb") and not (spec.get("table") or spec.get("query")):
            raise ParameterError(f"{here}: a {'database' if src.kind == 'sql' else 'DuckDB file'} source "
                                 "needs 'table' or 'query'.")
        if spec.get("url") and _literal_password(str(spec["url"])):
            raise ParameterError(f"{here}: the URL holds a password ({redact(spec['url'])}); credentials never "
                                 "go in params files. Write it as ${CCINSIGHT_DB_PASSWORD} and set that "
                                 "environment variable.")
        for key in ("columns", "values", "units", "constants", "date_parts"):
            if key in spec and not isinstance(spec[key], Mapping):
                raise ParameterError(f"{here}.{key} must be a mapping, got {spec[key]!r}.")
        fields = contract.TABLES[table].columns
        for key in ("columns", "values", "units", "constants", "date_parts"):
            for name in spec.get(key) or {}:
                if name not in fields:
                    near = contract.closest(str(name), fields)
                    hint = f" (did you mean '{near}'?)" if near else ""
                    raise ParameterError(f"{here}.{key}: '{name}' is not a column of the contract table "
                                         f"{table}{hint}; its columns: {', '.join(fields)}.")
        for name, unit in (spec.get("units") or {}).items():
            if unit not in UNITS:
                raise ParameterError(f"{here}.units.{name}: unknown unit {unit!r}; use one of {', '.join(UNITS)}.")
        for key, needed in (("outcome", ("column", "accepted")), ("tenure", ("column", "left", "as_of"))):
            if key in spec:
                value = spec[key]
                if not isinstance(value, Mapping) or any(k not in value for k in needed):
                    raise ParameterError(f"{here}.{key} must be a mapping with {', '.join(needed)}; see "
                                         "README 'Use your own data'.")
        out[str(table)] = src
    return out


# --------------------------------------------------------------------------- reading
def _files(src: Source) -> list[Path]:
    pattern = str(resolve_path(str(src.get("file"))))
    if globmod.has_magic(pattern):
        paths = sorted(Path(p) for p in globmod.glob(pattern))
        if not paths:
            raise DataError(f"{src.where}: no file matches {display_path(pattern)}.")
        return paths
    path = Path(pattern)
    if not path.is_file():
        raise DataError(f"{src.where}: file {display_path(path)} does not exist.")
    return [path]


def read_raw(src: Source) -> pd.DataFrame:
    """Read a source as the export has it; problems become one-sentence DataErrors."""
    if src.kind == "sql":
        return _read_sql(src)
    frames = [_read_file(src, path) for path in _files(src)]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _read_file(src: Source, path: Path) -> pd.DataFrame:
    from ccinsight.data import read_table

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
        return book.parse(sheet)
    if kind == "duckdb":
        import duckdb

        sql = src.get("query") or f'SELECT * FROM "{src.get("table")}"'
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                return con.execute(sql).df()
        except duckdb.Error as err:
            raise DataError(f"{shown}: {str(err).splitlines()[0]}") from None
    encoding = src.get("encoding") or "utf-8-sig"
    if str(encoding).lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # a byte-order mark is not part of the first column's name
    try:
        return pd.read_csv(path, sep=src.get("sep") or ",", encoding=encoding, low_memory=False,
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


def _read_sql(src: Source) -> pd.DataFrame:
    import sqlalchemy as sa

    url = expand_env(str(src.get("url")), src.where)
    secrets = [os.environ[m] for m in ENV_REF.findall(str(src.get("url")))]

    def clean(err: Exception) -> str:
        text = redact(str(err).splitlines()[0] if str(err) else type(err).__name__)
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    try:
        engine = sa.create_engine(url)
    except Exception as err:  # unknown dialect, bad URL, missing driver
        raise DataError(f"{src.where}: cannot use database URL {redact(src.get('url'))}: {clean(err)}") from None
    try:
        with engine.connect() as con:
            if src.get("query"):
                return pd.read_sql(sa.text(str(src.get("query"))), con)
            return pd.read_sql_table(str(src.get("table")), con)
    except ValueError as err:  # read_sql_table: no such table
        raise DataError(f"{src.where}: {clean(err)} at {redact(src.get('url'))}.") from None
    except sa.exc.SQLAlchemyError as err:
        raise DataError(f"{src.where}: reading {src.label} failed: {clean(getattr(err, 'orig', err) or err)}") \
            from None
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- mapping
@dataclass
class Mapped:
    """A source after mapping: the frame in contract column names and what was done."""

    frame: pd.DataFrame
    aliases: dict[str, str] = field(default_factory=dict)  # contract column -> export column
    notes: list[str] = field(default_factory=list)


def _bool_words(value: Any) -> set[str]:
    """YAML reads yes/no as booleans: a boolean key matches every word for it."""
    if isinstance(value, bool):
        return set(contract.TRUE_WORDS if value else contract.FALSE_WORDS) | {str(value).lower()}
    return {str(value).strip().lower()}


def _match(values: pd.Series, wanted: list) -> pd.Series:
    words = set().union(*(_bool_words(w) for w in wanted)) if wanted else set()
    return values.astype("string").str.strip().str.lower().isin(words).fillna(False).astype(bool)


def _problem(report: contract.ValidationReport, src: Source, column: str, rule: str, n: int = 0,
             eg: str = "") -> None:
    report.add(src.table, column, rule, n, eg, src.label)


def apply_mapping(src: Source, raw: pd.DataFrame, report: contract.ValidationReport) -> Mapped:
    """Map an export onto the contract's columns; mistakes are added to ``report``.

    The export frame is not modified.
    """
    table = contract.TABLES[src.table]
    present = [str(c) for c in raw.columns]
    df = raw.copy()
    df.columns = [str(c).strip() for c in df.columns]
    notes: list[str] = []

    def need(col: str, why: str) -> bool:
        if col in df.columns:
            return True
        near = contract.closest(col, present)
        hint = f"; did you mean '{near}'?" if near else ""
        more = f", ... ({len(present)} in all)" if len(present) > 25 else ""
        _problem(report, src, why, f"mapped to column '{col}', which the source does not have{hint} "
                                   f"Columns found: {', '.join(present[:25])}{more}")
        return False

    if src.get("filter"):
        try:
            kept = df.query(str(src.get("filter")))
        except Exception as err:  # pandas raises many types for bad expressions
            raise DataError(f"{src.where}.filter {src.get('filter')!r} cannot run on {src.label}: "
                            f"{str(err).splitlines()[0]}. Columns found: {', '.join(present[:25])}.") from None
        if len(kept) < len(df):
            notes.append(f"{src.table}: {len(df) - len(kept):,} of {len(df):,} rows left out by the filter "
                         f"`{src.get('filter')}`.")
        df = kept.reset_index(drop=True)

    aliases = src.renamed()
    out = pd.DataFrame(index=df.index)
    for name, col in aliases.items():
        if need(col, name):
            out[name] = df[col]
    derived = set((src.get("constants") or {})) | set((src.get("date_parts") or {})) | \
        ({"accepted", "converted"} if src.get("outcome") else set()) | \
        ({"hire_date", "exit_date"} if src.get("tenure") else set()) | {src.get("row_id")}
    for f in table.fields:  # columns already named as in the contract need no mapping
        if f.name not in out and f.name not in derived and f.name in df.columns:
            out[f.name] = df[f.name]
    strings = [c for c in out.columns if out[c].dtype == object]
    for c in strings:  # trailing spaces in exports ("Production   ") are not part of a value
        out[c] = out[c].where(out[c].isna(), out[c].astype(str).str.strip())

    for name, mapping in (src.get("values") or {}).items():
        if name not in out:
            if name not in aliases:  # a mapped but absent column is reported already
                _problem(report, src, name, "has a values mapping but no column: map it under 'columns'")
            continue
        lookup: dict[str, Any] = {}
        default = mapping.get("*", None) if isinstance(mapping, Mapping) else None
        for k, v in (mapping or {}).items():
            if k == "*":
                continue
            for word in _bool_words(k):
                lookup[word] = v
        keys = out[name].astype("string").str.strip().str.lower()
        mapped = keys.map(lookup)
        unmapped = out[name].notna() & mapped.isna() & ~keys.isin(lookup.keys()).fillna(False)
        if unmapped.any() and "*" not in (mapping or {}):
            counts = out.loc[unmapped, name].astype(str).value_counts()
            eg = ", ".join(f"{v!r} ({n} rows)" for v, n in counts.head(8).items())
            _problem(report, src, name, f"values of column '{aliases.get(name, name)}' with no entry under "
                                        f"values.{name} (add them, or '*' for every other value)",
                     int(unmapped.sum()), eg)
        elif unmapped.any():
            mapped = mapped.where(~unmapped, default)
        out[name] = mapped.astype(object).where(out[name].notna(), None)

    for name, unit in (src.get("units") or {}).items():
        if name not in out:
            continue
        out[name], bad = _to_seconds(out[name], unit)
        if bad.any():
            _problem(report, src, name, f"values of column '{aliases.get(name, name)}' that are not {unit}",
                     int(bad.sum()), examples(df.loc[bad.to_numpy(), aliases[name]]))

    date_format = src.get("date_format")
    for f in table.fields:
        if f.name in out and f.dtype in ("date", "datetime") and date_format and f.name not in (src.get("units") or {}):
            fmt = date_format.get(f.name) if isinstance(date_format, Mapping) else date_format
            if not fmt:
                continue
            text = out[f.name].astype("string").str.strip()
            parsed = pd.to_datetime(text, format=str(fmt), errors="coerce")
            bad = text.notna() & (text != "") & parsed.isna()
            if bad.any():
                _problem(report, src, f.name, f"values of column '{aliases[f.name]}' that do not match "
                                              f"date_format {fmt}", int(bad.sum()), examples(text[bad]))
            out[f.name] = parsed

    if src.get("outcome"):
        _derive_outcome(src, df, out, report, need, notes)
    if src.get("tenure"):
        _derive_tenure(src, df, out, report, need, notes)
    for name, parts in (src.get("date_parts") or {}).items():
        _derive_date(src, name, parts, df, out, report, need, notes)
    if src.get("row_id"):
        out[str(src.get("row_id"))] = np.arange(1, len(out) + 1)
    for name, value in (src.get("constants") or {}).items():
        out[name] = value
        notes.append(f"{src.table}.{name} is the same for every row: {value!r} (a constant in the params).")
    return Mapped(out, {k: v for k, v in aliases.items() if k in out}, notes)


def _to_seconds(s: pd.Series, unit: str) -> tuple[pd.Series, pd.Series]:
    if unit == "mm:ss":
        text = s.astype("string").str.strip()
        parts = text.str.extract(r"^(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d+)?)$")
        secs = (pd.to_numeric(parts[0]).fillna(0) * 3600 + pd.to_numeric(parts[1]) * 60
                + pd.to_numeric(parts[2]))
        bad = text.notna() & (text != "") & secs.isna()
        return secs.astype("float64"), bad.fillna(False).astype(bool)
    num = pd.to_numeric(s, errors="coerce")
    bad = s.notna() & num.isna()
    return num * UNITS[unit], bad


def _derive_outcome(src, df, out, report, need, notes) -> None:
    spec = src.get("outcome")
    col = str(spec["column"])
    if not need(col, "accepted"):
        return
    accepted = _match(df[col], list(spec.get("accepted") or []))
    converted = _match(df[col], list(spec.get("converted") or []))
    out["accepted"] = accepted
    out["converted"] = converted if spec.get("converted") is not None else pd.NA
    if "refusal_reason" not in out:
        out["refusal_reason"] = df[col].astype("string").str.strip().where(~accepted)
    notes.append(f"{src.table}: accepted = {col} in {list(spec.get('accepted'))}"
                 + (f", converted = {col} in {list(spec.get('converted'))}" if spec.get("converted") is not None
                    else "") + ".")


def _derive_tenure(src, df, out, report, need, notes) -> None:
    spec = src.get("tenure")
    col, left = str(spec["column"]), str(spec["left"])
    if not (need(col, "hire_date") & need(left, "exit_date")):
        return
    unit = spec.get("unit", "days")
    if unit not in TENURE_UNITS:
        raise ParameterError(f"{src.where}.tenure.unit: unknown unit {unit!r}; use one of {', '.join(TENURE_UNITS)}.")
    try:
        as_of = pd.Timestamp(str(spec["as_of"]))
    except ValueError:
        raise ParameterError(f"{src.where}.tenure.as_of {spec['as_of']!r} is not a date (YYYY-MM-DD).") from None
    tenure = pd.to_numeric(df[col], errors="coerce")
    bad = df[col].notna() & tenure.isna() | (tenure < 0)
    if bad.any():
        _problem(report, src, "hire_date", f"values of tenure column '{col}' that are not non-negative numbers",
                 int(bad.sum()), examples(df.loc[bad, col]))
    gone = _match(df[left], list(spec.get("left_values") or [True]))
    days = pd.to_timedelta((tenure * TENURE_UNITS[unit]).round(), unit="D")
    out["hire_date"] = (as_of - days).dt.normalize()
    out["exit_date"] = pd.Series(as_of, index=df.index).where(gone)
    notes.append(f"{src.table}: hire and exit dates derived from tenure '{col}' ({unit}) and '{left}' as of "
                 f"{as_of.date()}; leavers are placed as if they left on that date, so durations are exact "
                 "but calendar dates of leavers are not.")


def _derive_date(src, name, parts, df, out, report, need, notes) -> None:
    if not isinstance(parts, Mapping) or "month" not in parts or "day" not in parts:
        raise ParameterError(f"{src.where}.date_parts.{name} must name 'month' and 'day' columns, and 'year' "
                             "(a column) or 'first_year' (rows in time order).")
    if not (need(str(parts["month"]), name) & need(str(parts["day"]), name)):
        return
    month_text = df[str(parts["month"])].astype("string").str.strip().str.lower().str[:3]
    month = pd.to_numeric(month_text, errors="coerce").fillna(month_text.map(MONTH_NAMES))
    day = pd.to_numeric(df[str(parts["day"])], errors="coerce")
    if "year" in parts:
        if not need(str(parts["year"]), name):
            return
        year = pd.to_numeric(df[str(parts["year"])], errors="coerce")
    elif "first_year" in parts:
        # rows in time order: the year moves on whenever the month goes back
        back = month.diff().fillna(0) < 0
        year = int(parts["first_year"]) + back.cumsum()
        notes.append(f"{src.table}.{name}: the export has no year; rows are taken to be in time order "
                     f"from {parts['first_year']}, the year moving on whenever the month goes back "
                     f"(last year {int(year.max()) if len(year) else parts['first_year']}).")
    else:
        raise ParameterError(f"{src.where}.date_parts.{name} needs 'year' or 'first_year'.")
    dates = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce")
    bad = dates.isna()
    if bad.any():
        _problem(report, src, name, f"rows whose '{parts['month']}' / '{parts['day']}' are not a date",
                 int(bad.sum()), examples(df.loc[bad, str(parts["month"])].astype(str) + " "
                                          + df.loc[bad, str(parts["day"])].astype(str)))
    out[name] = dates


# --------------------------------------------------------------------------- entry point
def read(sources: Mapping[str, Source], tables: list[str]) -> tuple[dict[str, pd.DataFrame], dict[str, str],
                                                                      dict[str, dict[str, str]], list[str],
                                                                      contract.ValidationReport]:
    """Read and map the given tables from their sources.

    Returns
    -------
    (frames, labels, aliases, notes, report)
        Mapped frames (contract column names), where each came from (no passwords), the
        export's column behind each contract column, notes on what the mapping did, and
        the mapping problems found (empty when the mapping is sound).
    """
    frames, labels, aliases, notes = {}, {}, {}, []
    report = contract.ValidationReport()
    for name in tables:
        src = sources[name]
        mapped = apply_mapping(src, read_raw(src), report)
        frames[name], labels[name], aliases[name] = mapped.frame, src.label, mapped.aliases
        notes.extend(mapped.notes)
    return frames, labels, aliases, notes, report
