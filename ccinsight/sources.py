"""Bring your own data: where each contract table comes from and how it maps onto the contract.

A params file's ``sources`` section names, for each contract table, a location and a
mapping. Locations: a CSV / Parquet / Excel file or a glob of files (``file``), a DuckDB
file (``file`` plus ``table`` or ``query``), or a SQL database (``url``, a SQLAlchemy URL,
plus ``table`` or ``query``). Mapping, applied in this order:

1. ``filter``: rows to keep, a column expression on the export's own columns (never code);
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
connecting; a URL with a literal password is refused (:mod:`ccinsight.credentials`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd

from ccinsight import contract, filters
from ccinsight.config import display_path, resolve_path
from ccinsight.credentials import literal_password, redact_url
from ccinsight.errors import ParameterError, examples
from ccinsight.readers import FILE_SUFFIXES, check_select, read_source
from ccinsight.survival import TENURE_UNITS, dates_from_tenure

#: Keys a table's source entry accepts, with what each holds (for messages and docs).
KEYS = {
    "file": "a CSV, Parquet, Excel or DuckDB file, or a glob such as exports/calls-*.csv",
    "url": "a SQLAlchemy URL; write secrets as ${ENV_VAR}",
    "table": "a table in the DuckDB file or SQL database",
    "query": "a SELECT run on the DuckDB file or SQL database",
    "sep": "CSV field separator, one character (default ,)",
    "encoding": "text encoding (default utf-8, with or without a byte-order mark)",
    "sheet": "Excel sheet name (default the first sheet)",
    "skip_rows": "rows above the header to skip, e.g. title rows of an Excel sheet (default 0)",
    "date_format": "strftime format of the dates, e.g. %m/%d/%y; or contract column -> format",
    "filter": "rows to keep, a column expression on the export's columns, e.g. duration > 0 (no code)",
    "columns": "contract column -> the export's column",
    "values": "contract column -> {export value: contract value, '*': every other value}",
    "units": "contract duration column -> seconds, minutes, hours or mm:ss",
    "outcome": "{column, accepted: [values], converted: [values]}: one outcome column for both",
    "tenure": "{column, unit, left, left_values, as_of}: dates from tenure and a left flag",
    "date_parts": "contract date column -> {month, day, year or first_year}",
    "row_id": "contract column to fill with row numbers 1..n (e.g. call_id)",
    "constants": "contract column -> one value for every row",
}
UNITS = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "mm:ss": None}
MONTH_NAMES = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


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
            return f"{redact_url(self.spec['url'])} ({what})"
        shown = display_path(resolve_path(str(self.get("file"))))
        if self.kind == "duckdb":
            return f"{shown} ({self.get('table') or 'query'})"
        return shown

    def renamed(self) -> dict[str, str]:
        """Contract column -> the export's column, as mapped."""
        return {str(k): str(v) for k, v in (self.get("columns") or {}).items()}


_SCALAR = (str, int, float, bool, type(None))


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list"}.get(type(value), f"{type(value).__name__} {str(value)[:40]!r}")


def _check_option_types(spec: Mapping[str, Any], here: str) -> None:
    """Every option of a table's source has the type the docs give it, before anything uses it."""
    def fail(key: str, wanted: str, value: Any) -> None:
        raise ParameterError(f"{here}.{key} must be {wanted}, got {_kind(value)}.")

    for key in ("file", "url", "table", "query", "sep", "encoding", "filter", "row_id"):
        if key in spec and (not isinstance(spec[key], str) or not spec[key].strip()):
            fail(key, "non-empty text", spec[key])
    if isinstance(spec.get("sep"), str) and len(spec["sep"]) != 1:  # longer ones pandas reads as a regular expression
        fail("sep", "one character such as , ; | or a tab", spec["sep"])
    if "skip_rows" in spec and (isinstance(spec["skip_rows"], bool) or not isinstance(spec["skip_rows"], int)
                                or not 0 <= spec["skip_rows"] <= 1000):
        fail("skip_rows", "a number of rows from 0 to 1000", spec["skip_rows"])
    if "sheet" in spec and (isinstance(spec["sheet"], bool) or not isinstance(spec["sheet"], (str, int))):
        fail("sheet", "a sheet name or number", spec["sheet"])
    fmt = spec.get("date_format")
    if fmt is not None and not (isinstance(fmt, str) or (isinstance(fmt, Mapping)
                                                         and all(isinstance(v, str) for v in fmt.values()))):
        fail("date_format", "a format such as %m/%d/%y, or column: format", fmt)
    if isinstance(fmt, str) and "%" not in fmt:
        fail("date_format", "a strftime format holding % directives, e.g. %m/%d/%y", fmt)
    for key in ("columns", "values", "units", "constants", "date_parts"):
        if key in spec and not isinstance(spec[key], Mapping):
            fail(key, "a mapping", spec[key])
    for name, col in (spec.get("columns") or {}).items():
        if not isinstance(col, (str, int)) or isinstance(col, bool):
            fail(f"columns.{name}", "the name of a column of the export", col)
    for name, mapping in (spec.get("values") or {}).items():
        if not isinstance(mapping, Mapping) or not all(isinstance(v, _SCALAR) for v in mapping.values()):
            fail(f"values.{name}", "a mapping of export value: contract value", mapping)
    for name, unit in (spec.get("units") or {}).items():
        if not isinstance(unit, str):
            fail(f"units.{name}", f"one of {', '.join(UNITS)}", unit)
    for name, value in (spec.get("constants") or {}).items():
        if not isinstance(value, _SCALAR):
            fail(f"constants.{name}", "one value (text, number, true/false or null)", value)
    for name, parts in (spec.get("date_parts") or {}).items():
        if not isinstance(parts, Mapping) or not all(isinstance(v, (str, int)) for v in parts.values()):
            fail(f"date_parts.{name}", "a mapping of month, day and year (columns) or first_year", parts)
    for key, needed in (("outcome", ("column", "accepted")), ("tenure", ("column", "left", "as_of"))):
        value = spec.get(key)
        if key not in spec:
            continue
        if not isinstance(value, Mapping) or any(k not in value for k in needed):
            fail(key, f"a mapping with {', '.join(needed)}", value)
        for k in ("column", "left", "unit", "as_of"):
            if k in value and (isinstance(value[k], bool) or not isinstance(value[k], (str, int))):
                fail(f"{key}.{k}", "text", value[k])
        for k in ("accepted", "converted", "left_values"):
            v = value.get(k)
            if not (isinstance(v, _SCALAR) or (isinstance(v, list) and all(isinstance(x, _SCALAR) for x in v))):
                fail(f"{key}.{k}", "a value or a list of values", v)


def parse(sources: Mapping[str, Any] | None, where: str = "params") -> dict[str, Source]:
    """Check a ``sources`` section's shape (not the data) and return one Source per table."""
    if not sources:
        return {}
    if isinstance(sources, Mapping) and all(isinstance(v, Source) for v in sources.values()):
        return dict(sources)  # parsed already
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
        _check_option_types(spec, here)
        if bool(spec.get("file")) == bool(spec.get("url")):
            raise ParameterError(f"{here}: give exactly one of 'file' (a file or glob) and 'url' (a database).")
        src = Source(str(table), dict(spec), here)
        if spec.get("query") is not None:
            check_select(spec["query"], f"{here}.query")  # one SELECT, before any connection
        if src.kind in ("sql", "duckdb") and not (spec.get("table") or spec.get("query")):
            raise ParameterError(f"{here}: a {'database' if src.kind == 'sql' else 'DuckDB file'} source "
                                 "needs 'table' or 'query'.")
        if spec.get("url") and literal_password(str(spec["url"])):
            raise ParameterError(f"{here}: the URL holds a password or other secret ({redact_url(spec['url'])}); "
                                 "credentials never "
                                 "go in params files. Write it as ${CCINSIGHT_DB_PASSWORD} and set that "
                                 "environment variable.")
        fields = contract.TABLES[table].columns
        for key in ("columns", "values", "units", "constants", "date_parts"):
            for name in spec.get(key) or {}:
                if name not in fields:
                    near = contract.closest(str(name), fields)
                    hint = f" (did you mean '{near}'?)" if near else ""
                    raise ParameterError(f"{here}.{key}: '{name}' is not a column of the contract table "
                                         f"{table}{hint}; its columns: {', '.join(fields)}.")
        if spec.get("filter") is not None:
            filters.parse(spec["filter"], f"{here}.filter")  # refused before anything is read
        for name, unit in (spec.get("units") or {}).items():
            if unit not in UNITS:
                raise ParameterError(f"{here}.units.{name}: unknown unit {unit!r}; use one of {', '.join(UNITS)}.")
        out[str(table)] = src
    return out


# --------------------------------------------------------------------------- mapping
@dataclass
class Mapped:
    """A source after mapping: the frame in contract column names and what was done."""

    frame: pd.DataFrame
    aliases: dict[str, str] = field(default_factory=dict)  # contract column -> export column
    notes: list[str] = field(default_factory=list)


def as_list(value: Any) -> list:
    """A list of values from the params: one value (``accepted: heard``) is a list of one,
    never split into its letters."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def bool_words(value: Any) -> set[str]:
    """YAML reads yes/no as booleans: a boolean key matches every word for it."""
    if isinstance(value, bool):
        return set(contract.TRUE_WORDS if value else contract.FALSE_WORDS) | {str(value).lower()}
    return {str(value).strip().lower()}


def _match(values: pd.Series, wanted: list) -> pd.Series:
    words = set().union(*(bool_words(w) for w in wanted)) if wanted else set()
    return values.astype("string").str.strip().str.lower().isin(words).fillna(False).astype(bool)


@dataclass
class _Mapping:
    """Work in progress of one source's mapping: the export, the contract frame being built,
    and what was done, shared by the steps below."""

    src: Source
    raw: pd.DataFrame  # the export, column names stripped; never modified
    report: contract.ValidationReport
    out: pd.DataFrame = None
    aliases: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def need(self, col: str, contract_column: str) -> bool:
        """Is the export's ``col`` there? If not, report it with the closest match."""
        if col in self.raw.columns:
            return True
        present = [str(c) for c in self.raw.columns]
        near = contract.closest(col, present)
        hint = f"; did you mean '{near}'?" if near else ""
        more = f", ... ({len(present)} in all)" if len(present) > 25 else ""
        self.problem(contract_column, f"mapped to column '{col}', which the source does not have{hint} "
                                      f"Columns found: {', '.join(present[:25])}{more}")
        return False

    def problem(self, column: str, rule: str, n: int = 0, eg: str = "") -> None:
        self.report.add(self.src.table, column, rule, n, eg, self.src.label)


def apply_mapping(src: Source, raw: pd.DataFrame, report: contract.ValidationReport) -> Mapped:
    """Map an export onto the contract's columns, one documented step after another;
    mistakes are added to ``report``. The export frame is not modified."""
    df = raw.copy()
    df.columns = [str(c).strip() for c in df.columns]
    m = _Mapping(src, df, report)
    for step in (_filter_rows, _rename_columns, _map_values, _convert_units, _parse_dates, _derive_outcome,
                 _derive_tenure, _derive_dates, _number_rows, _set_constants):
        step(m)
    return Mapped(m.out, {k: v for k, v in m.aliases.items() if k in m.out}, m.notes)


def _filter_rows(m: _Mapping) -> None:
    """1. ``filter``: rows to keep, a column expression on the export's own columns
    (:mod:`ccinsight.filters`: never code). A column with a ``units`` entry is compared in
    seconds (``Gesprächsdauer > 0`` works on mm:ss text); unreadable values never pass."""
    src = m.src
    if not src.get("filter"):
        return
    view = m.raw
    renamed = src.renamed()
    for name, unit in (src.get("units") or {}).items():
        col = renamed.get(str(name), str(name))
        if col in view.columns and unit in UNITS:
            view = view.copy() if view is m.raw else view
            view[col] = _to_seconds(view[col], unit)[0]
    keep = filters.apply(view, src.get("filter"), f"{src.where}.filter")
    if not keep.all():
        m.notes.append(f"{src.table}: {int((~keep).sum()):,} of {len(m.raw):,} rows left out by the filter "
                       f"`{src.get('filter')}`.")
    m.raw = m.raw[keep.to_numpy()].reset_index(drop=True)


def _rename_columns(m: _Mapping) -> None:
    """2. ``columns``: contract column -> the export's column; columns already named as in
    the contract are taken as they are. Text values lose surrounding spaces."""
    src, df = m.src, m.raw
    m.aliases = src.renamed()
    out = pd.DataFrame(index=df.index)
    for name, col in m.aliases.items():
        if m.need(col, name):
            out[name] = df[col]
    derived = set((src.get("constants") or {})) | set((src.get("date_parts") or {})) | \
        ({"accepted", "converted"} if src.get("outcome") else set()) | \
        ({"hire_date", "exit_date"} if src.get("tenure") else set()) | {src.get("row_id")}
    for f in contract.TABLES[src.table].fields:
        if f.name not in out and f.name not in derived and f.name in df.columns:
            out[f.name] = df[f.name]
    for c in [c for c in out.columns if out[c].dtype == object]:  # "Production   " is "Production"
        out[c] = out[c].where(out[c].isna(), out[c].astype(str).str.strip())
    m.out = out


def _map_values(m: _Mapping) -> None:
    """3. ``values``: the export's values -> the contract's (``"*"`` for every other value)."""
    out = m.out
    for name, mapping in (m.src.get("values") or {}).items():
        if name not in out:
            if name not in m.aliases:  # a mapped but absent column is reported already
                m.problem(name, "has a values mapping but no column: map it under 'columns'")
            continue
        lookup: dict[str, Any] = {}
        default = mapping.get("*", None) if isinstance(mapping, Mapping) else None
        for k, v in (mapping or {}).items():
            if k == "*":
                continue
            for word in bool_words(k):
                lookup[word] = v
        keys = out[name].astype("string").str.strip().str.lower()
        mapped = keys.map(lookup)
        unmapped = out[name].notna() & mapped.isna() & ~keys.isin(lookup.keys()).fillna(False)
        if unmapped.any() and "*" not in (mapping or {}):
            counts = out.loc[unmapped, name].astype(str).value_counts()
            eg = ", ".join(f"{v!r} ({n} rows)" for v, n in counts.head(8).items())
            m.problem(name, f"values of column '{m.aliases.get(name, name)}' with no entry under "
                            f"values.{name} (add them, or '*' for every other value)", int(unmapped.sum()), eg)
        elif unmapped.any():
            mapped = mapped.where(~unmapped, default)
        out[name] = mapped.astype(object).where(out[name].notna(), None)


def _convert_units(m: _Mapping) -> None:
    """4. ``units``: durations in seconds, minutes, hours or mm:ss text -> seconds."""
    for name, unit in (m.src.get("units") or {}).items():
        if name not in m.out:
            continue
        m.out[name], bad = _to_seconds(m.out[name], unit)
        if bad.any():
            m.problem(name, f"values of column '{m.aliases.get(name, name)}' that are not {unit}",
                      int(bad.sum()), examples(m.raw.loc[bad.to_numpy(), m.aliases[name]]))


def _parse_dates(m: _Mapping) -> None:
    """``date_format``: dates written in the export's own format."""
    date_format, out = m.src.get("date_format"), m.out
    if not date_format:
        return
    for f in contract.TABLES[m.src.table].fields:
        if f.name in out and f.dtype in ("date", "datetime") and f.name not in (m.src.get("units") or {}):
            fmt = date_format.get(f.name) if isinstance(date_format, Mapping) else date_format
            if not fmt:
                continue
            text = out[f.name].astype("string").str.strip()
            try:
                parsed = pd.to_datetime(text, format=str(fmt), errors="coerce")
            except ValueError as err:  # a directive strftime does not know
                raise ParameterError(f"{m.src.where}.date_format {str(fmt)!r} is not a date format: "
                                     f"{str(err).splitlines()[0]}.") from None
            bad = text.notna() & (text != "") & parsed.isna()
            if bad.any():
                m.problem(f.name, f"values of column '{m.aliases[f.name]}' that do not match date_format {fmt}",
                          int(bad.sum()), examples(text[bad]))
            out[f.name] = parsed


def _number_rows(m: _Mapping) -> None:
    """``row_id``: a contract column filled with row numbers 1..n."""
    if m.src.get("row_id"):
        m.out[str(m.src.get("row_id"))] = np.arange(1, len(m.out) + 1)


def _set_constants(m: _Mapping) -> None:
    """6. ``constants``: one value for a contract column the export lacks."""
    for name, value in (m.src.get("constants") or {}).items():
        m.out[name] = value
        m.notes.append(f"{m.src.table}.{name} is the same for every row: {value!r} (a constant in the params).")


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


def _derive_outcome(m: _Mapping) -> None:
    """5a. ``outcome``: one outcome column -> ``accepted`` and ``converted``."""
    spec, df, out = m.src.get("outcome"), m.raw, m.out
    if not spec:
        return
    col = str(spec["column"])
    if not m.need(col, "accepted"):
        return
    accepted = _match(df[col], as_list(spec.get("accepted")))
    converted = _match(df[col], as_list(spec.get("converted")))
    out["accepted"] = accepted
    out["converted"] = converted if spec.get("converted") is not None else pd.NA
    if "refusal_reason" not in out:
        # an outcome column with several refusal codes ("HUNG UP", "NOT INTERESTED") gives the
        # reason; one code ("n") only says "refused", which is not a reason
        refused = df[col].astype("string").str.strip().where(~accepted)
        several = refused.dropna().nunique() > 1
        out["refusal_reason"] = refused if several else pd.Series(pd.NA, index=out.index, dtype="string")
        if not several:
            m.notes.append(f"{m.src.table}: no refusal reason in the export (the outcome column '{col}' has one "
                           "refusal value), so refusals are not broken down by reason.")
    m.notes.append(f"{m.src.table}: accepted = {col} in {as_list(spec.get('accepted'))}"
                   + (f", converted = {col} in {as_list(spec.get('converted'))}" if spec.get("converted") is not None
                      else "") + ".")


def _derive_tenure(m: _Mapping) -> None:
    """5b. ``tenure``: a tenure length and a left flag -> hire and exit dates."""
    spec, src, df = m.src.get("tenure"), m.src, m.raw
    if not spec:
        return
    col, left = str(spec["column"]), str(spec["left"])
    if not (m.need(col, "hire_date") & m.need(left, "exit_date")):
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
        m.problem("hire_date", f"values of tenure column '{col}' that are not non-negative numbers",
                  int(bad.sum()), examples(df.loc[bad, col]))
    gone = _match(df[left], as_list(spec.get("left_values")) or [True])
    longest = 150 * 365.25 / TENURE_UNITS[unit]  # no one works 150 years
    too_long = tenure > longest
    if too_long.any():
        m.problem("hire_date", f"values of tenure column '{col}' over {longest:,.0f} {unit}", int(too_long.sum()),
                  examples(df.loc[too_long, col]))
        tenure = tenure.where(~too_long)
    m.out["hire_date"], m.out["exit_date"] = dates_from_tenure(tenure, gone, as_of, unit)
    if "exit_type" not in m.out and "exit_type" not in (src.get("constants") or {}):
        m.out["exit_type"] = pd.Series("unknown", index=m.out.index, dtype="string").where(gone.to_numpy())
        m.notes.append(f"{src.table}: the export does not say why people left: exit_type is 'unknown'.")
    m.notes.append(f"{src.table}: tenure '{col}' ({unit}) and '{left}' as of {as_of.date()}: the data have no "
                   "calendar (survival durations are exact; hire dates are placeholders, so nothing is windowed "
                   "or filtered on them and no dates are reported).")


def _derive_dates(m: _Mapping) -> None:
    """5c. ``date_parts``: a date from month and day columns (and a year column, or rows in
    time order from ``first_year``)."""
    for name, parts in (m.src.get("date_parts") or {}).items():
        _derive_date(m, name, parts)


def _derive_date(m: _Mapping, name: str, parts: Any) -> None:
    src, df = m.src, m.raw
    if not isinstance(parts, Mapping) or "month" not in parts or "day" not in parts:
        raise ParameterError(f"{src.where}.date_parts.{name} must name 'month' and 'day' columns, and 'year' "
                             "(a column) or 'first_year' (rows in time order).")
    if not (m.need(str(parts["month"]), name) & m.need(str(parts["day"]), name)):
        return
    month_text = df[str(parts["month"])].astype("string").str.strip().str.lower().str[:3]
    month = pd.to_numeric(month_text, errors="coerce").fillna(month_text.map(MONTH_NAMES))
    day = pd.to_numeric(df[str(parts["day"])], errors="coerce")
    if "year" in parts:
        if not m.need(str(parts["year"]), name):
            return
        year = pd.to_numeric(df[str(parts["year"])], errors="coerce")
    elif "first_year" in parts:
        # rows in time order: the year moves on whenever the month goes back
        back = month.diff().fillna(0) < 0
        year = int(parts["first_year"]) + back.cumsum()
        m.notes.append(f"{src.table}.{name}: the export has no year; rows are taken to be in time order "
                       f"from {parts['first_year']}, the year moving on whenever the month goes back "
                       f"(last year {int(year.max()) if len(year) else parts['first_year']}).")
    else:
        raise ParameterError(f"{src.where}.date_parts.{name} needs 'year' or 'first_year'.")
    dates = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce")
    bad = dates.isna()
    if bad.any():
        m.problem(name, f"rows whose '{parts['month']}' / '{parts['day']}' are not a date", int(bad.sum()),
                  examples(df.loc[bad, str(parts["month"])].astype(str) + " " + df.loc[bad, str(parts["day"])].astype(str)))
    m.out[name] = dates


# --------------------------------------------------------------------------- entry point
def read_each(sources: Mapping[str, Source], tables: list[str], report: contract.ValidationReport
              ) -> Iterator[tuple[str, Mapped]]:
    """Read and map the given tables from their sources one at a time (a caller that checks
    each and lets it go before taking the next holds one mapped table at a time); mapping
    problems go into ``report``."""
    for name in tables:
        src = sources[name]
        yield name, apply_mapping(src, read_source(src), report)


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
    for name, mapped in read_each(sources, tables, report):
        frames[name], labels[name], aliases[name] = mapped.frame, sources[name].label, mapped.aliases
        notes.extend(mapped.notes)
    return frames, labels, aliases, notes, report
