"""The data contract: the tables the notebooks read, and how they are checked.

``TABLES`` is the single source of truth; ``docs/data-contract.md`` documents it and a
test keeps the two in step. Checking happens in three steps, all of which collect
problems instead of stopping at the first:

1. columns: required columns present (a misspelt one is named with its closest match);
2. types: values parse as the contract's type (dates, numbers, booleans);
3. rules: per-column value rules run by pandera, and cross-table rules (exit before
   hire, calls by unknown agents, performance months before hire) run here.

The result is a :class:`ValidationReport`; :meth:`ValidationReport.raise_if_failed`
turns it into a :class:`~ccinsight.errors.DataError` whose message a contact-center
analyst can act on.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ccinsight.errors import DataError, examples

TRUE_WORDS = {"true", "t", "yes", "y", "1", "1.0"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "0.0"}


@dataclass(frozen=True)
class Field:
    """One column of a contract table."""

    name: str
    dtype: str  # string | id | date | datetime | month | bool | int | float
    description: str
    unit: str = ""
    required: bool = True  # the column must be present
    nullable: bool = False  # empty values allowed
    checks: tuple[pa.Check, ...] = ()


@dataclass(frozen=True)
class Table:
    """One contract table: its fields, keys and whether a notebook can do without it."""

    name: str
    description: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    optional: bool = False

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


def _between(lo: float, hi: float) -> pa.Check:
    return pa.Check.in_range(lo, hi, error=f"values outside {lo:g}..{hi:g}")


#: The longest talk (and handle) time a call may have, in seconds.
MAX_TALK_S = 7200


def positive_rule(hi: float) -> str:
    """The words of the rule 'above 0 and at most hi'."""
    return f"values not above 0 and at most {hi:g}"


def _positive(hi: float) -> pa.Check:
    return pa.Check(lambda s: (s > 0) & (s <= hi), element_wise=False, error=positive_rule(hi))


def _one_of(values: Iterable[str]) -> pa.Check:
    values = sorted(values)
    return pa.Check.isin(values, error="values other than " + ", ".join(values))


def _non_negative() -> pa.Check:
    return pa.Check.ge(0, error="negative values")


def _not_blank() -> pa.Check:
    return pa.Check(lambda s: s.str.strip().str.len() > 0, error="blank values")


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "agents",
            "One row per hire (agent / TSR), employed or gone.",
            (
                Field("agent_id", "string", "Stable identifier of the hire.", checks=(_not_blank(),)),
                Field("agent_name", "string", "Full name, if the export has one: read only so that reports can be "
                      "checked never to show it.", required=False, nullable=True),
                Field("site", "string", "Contact-center site the agent works at."),
                Field("team", "string", "Team (about 15 agents per team leader)."),
                Field("hire_date", "date", "First day of employment (training starts)."),
                Field("exit_date", "date", "Last day of employment; empty while employed.", nullable=True),
                Field("exit_type", "string", "voluntary / involuntary (unknown where the export does not say); "
                      "empty while employed.", nullable=True, checks=(_one_of(["voluntary", "involuntary", "unknown"]),)),
                Field("hiring_channel", "string",
                      "Where the hire came from (referral, job_board, campus, agency, walk_in, "
                      "social_media, rehire, ...)."),
                Field("cohort_id", "string", "Training class the hire went through."),
                Field("school", "string", "School of a campus / intern hire; empty otherwise.",
                      required=False, nullable=True),
                Field("onboarding_program", "bool", "Went through the mentoring programme."),
                Field("certified", "bool",
                      "Passed the client's certification exam; empty if not yet examined.",
                      nullable=True),
                Field("certification_date", "date", "Date of the certification exam; empty if none.",
                      nullable=True),
            ),
            key=("agent_id",),
        ),
        Table(
            "training",
            "One row per trainee: the final score of initial training.",
            (
                Field("agent_id", "string", "The trainee (an agent in `agents`)."),
                Field("cohort_id", "string", "Training class."),
                Field("training_score", "float", "Final training score.", unit="points 0-100",
                      checks=(_between(0, 100),)),
                Field("training_end_date", "date", "Last day of training (about 25 working days)."),
            ),
            key=("agent_id",),
        ),
        Table(
            "performance",
            "One row per agent per calendar month on the floor.",
            (
                Field("agent_id", "string", "The agent (an agent in `agents`)."),
                Field("month", "month", "Calendar month (first day of the month, or YYYY-MM)."),
                Field("calls_handled", "int", "Calls handled in the month.", unit="calls",
                      checks=(_non_negative(),)),
                Field("aht_s", "float", "Average handle time; lower is better.", unit="seconds",
                      nullable=True, checks=(_positive(MAX_TALK_S),)),
                Field("conversion_rate", "float", "Share of calls ending in a sale / sign-up.",
                      unit="share 0-1", nullable=True, checks=(_between(0, 1),)),
                Field("qa_score", "float", "Quality-assurance score.", unit="points 0-100",
                      nullable=True, checks=(_between(0, 100),)),
                Field("schedule_adherence", "float", "Share of scheduled time spent as scheduled.",
                      unit="share 0-1", nullable=True, checks=(_between(0, 1),)),
            ),
            key=("agent_id", "month"),
        ),
        Table(
            "outbound_calls",
            "One row per connected outbound call.",
            (
                Field("call_id", "id", "Identifier of the call."),
                Field("agent_id", "string", "Agent who made the call."),
                Field("campaign", "string", "Outbound campaign (client offer)."),
                Field("script_version", "string", "Script used, e.g. verbatim / keyword."),
                Field("started_at", "datetime", "When the call was connected (local time)."),
                Field("talk_time_s", "float", "Talk time of the call.", unit="seconds",
                      checks=(_positive(MAX_TALK_S),)),
                Field("accepted", "bool", "Customer stayed on and heard the offer."),
                Field("converted", "bool", "Call ended in a sale / sign-up."),
                Field("refusal_reason", "string", "Why the customer refused; empty when accepted.",
                      required=False, nullable=True),
            ),
            key=("call_id",),
        ),
        Table(
            "queue_intervals",
            "Optional: inbound traffic and staffing, one row per queue, site, team and 30-minute interval.",
            (
                Field("interval_start", "datetime", "Start of the 30-minute interval (local time)."),
                Field("queue", "string", "Queue (line of business or skill) the calls came to."),
                Field("site", "string", "Site whose agents answered the queue in the interval."),
                Field("team", "string", "Team whose agents answered the queue in the interval."),
                Field("offered", "int", "Calls offered to the queue.", unit="calls", checks=(_non_negative(),)),
                Field("answered", "int", "Calls answered by an agent.", unit="calls", checks=(_non_negative(),)),
                Field("abandoned", "int", "Callers who hung up before an answer.", unit="calls",
                      checks=(_non_negative(),)),
                Field("answered_in_sl", "int", "Calls answered within the service-level threshold (e.g. 20 s).",
                      unit="calls", checks=(_non_negative(),)),
                Field("handle_time_s", "float", "Handle time of the answered calls, summed.", unit="seconds",
                      checks=(_non_negative(),)),
                Field("agents_staffed", "float", "Agents logged in, averaged over the interval.", unit="agents",
                      checks=(_non_negative(),)),
                Field("agents_on_calls", "float", "Agents on calls, averaged over the interval.", unit="agents",
                      checks=(_non_negative(),)),
            ),
            key=("interval_start", "queue", "site", "team"),
            optional=True,
        ),
        Table(
            "channels",
            "Optional: cost of hiring through each channel.",
            (
                Field("hiring_channel", "string", "Channel name as used in `agents`."),
                Field("cost_per_hire", "float", "Cost of one hire through the channel.",
                      unit="currency", checks=(_non_negative(),)),
            ),
            key=("hiring_channel",),
            optional=True,
        ),
    ]
}


# --------------------------------------------------------------------------- report
@dataclass(frozen=True)
class Problem:
    """One broken rule: where, what, how many rows and a few example values."""

    table: str
    column: str | None
    rule: str
    n_rows: int
    examples: str = ""
    source: str | None = None  # file or table location, for the message

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        src = f" in {self.source}" if self.source else ""
        rows = ("1 row" if self.n_rows == 1 else f"{self.n_rows:,} rows") if self.n_rows else ""
        eg = f"e.g. {self.examples}" if self.examples else ""
        detail = "; ".join(x for x in (rows, eg) if x)
        end = "" if self.rule.endswith("?") else "."
        return f"{where}{src}: {self.rule}" + (f" ({detail})." if detail else end)


@dataclass
class ValidationReport:
    """Every problem found in a set of tables, with row counts of what was checked."""

    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, *args, **kwargs) -> None:
        self.problems.append(Problem(*args, **kwargs))

    def merge(self, other: "ValidationReport") -> None:
        """Add ``other``'s problems; one already here (same table, column, rule and source)
        gains the other's rows and keeps its own examples."""
        at = {(p.table, p.column, p.rule, p.source): i for i, p in enumerate(self.problems)}
        for p in other.problems:
            i = at.get((p.table, p.column, p.rule, p.source))
            if i is None:
                at[(p.table, p.column, p.rule, p.source)] = len(self.problems)
                self.problems.append(p)
            else:
                mine = self.problems[i]
                self.problems[i] = Problem(mine.table, mine.column, mine.rule, mine.n_rows + p.n_rows,
                                           mine.examples or p.examples, mine.source)
        self.rows.update(other.rows)

    def __str__(self) -> str:
        if self.ok:
            checked = ", ".join(f"{t} {n:,} rows" for t, n in self.rows.items())
            return f"Data contract: all checks passed ({checked})."
        head = f"Data contract: {len(self.problems)} problem(s) found."
        return "\n".join([head] + [f"  - {p}" for p in self.problems])

    def raise_if_failed(self) -> None:
        if not self.ok:
            raise DataError(str(self))


# --------------------------------------------------------------------------- checks
def closest(name: str, candidates: Iterable[str]) -> str | None:
    """Closest candidate to a misspelt name, or None when nothing is close."""
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return match[0] if match else None


def check_columns(table: Table, df: pd.DataFrame, report: ValidationReport, source: str | None) -> None:
    """Report required columns that are missing, naming the closest column present."""
    present = [str(c) for c in df.columns]
    for f in table.fields:
        if f.required and f.name not in df.columns:
            near = closest(f.name, [c for c in present if c not in table.columns])
            hint = f"; did you mean '{near}'?" if near else f"; columns found: {', '.join(present[:12]) or 'none'}"
            report.add(table.name, f.name, f"required column is missing{hint}", 0, source=source)


def _parse_bool(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    words = s.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[words.isin(TRUE_WORDS).fillna(False)] = True
    out[words.isin(FALSE_WORDS).fillna(False)] = False
    return out


def _parse_dates(s: pd.Series, kind: str) -> pd.Series:
    if kind == "month" and not pd.api.types.is_datetime64_any_dtype(s):
        text = s.astype("string").str.strip()
        yyyymm = text.str.fullmatch(r"\d{4}-\d{2}").fillna(False)
        text = text.where(~yyyymm, text + "-01")
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    elif pd.api.types.is_datetime64_any_dtype(s):
        parsed = s
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
    else:
        parsed = pd.to_datetime(s.astype("string").str.strip(), errors="coerce", format="ISO8601")
    parsed = parsed.astype("datetime64[ns]")
    if kind in ("date", "month"):
        parsed = parsed.dt.normalize()
    return parsed


def _blank(s: pd.Series) -> pd.Series:
    """False where a text value is empty or only spaces (Arrow strips a million values fast)."""
    try:
        text = s.astype("string[pyarrow]")
    except (TypeError, ValueError, ImportError):  # mixed objects Arrow cannot take as text
        text = s.astype("string")
    return text.str.strip().ne("").fillna(False).astype(bool)


def coerce_column(f: Field, s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return the column in the contract's type and a mask of values that did not parse."""
    present = s.notna()
    if s.dtype == object:  # blank strings count as empty, as in a CSV export
        present &= _blank(s)
        s = s.where(present)
    if f.dtype == "string":
        out = s.astype("string")
        if isinstance(s.dtype, pd.CategoricalDtype):
            out = s.astype("string")
        return out, pd.Series(False, index=s.index)
    if f.dtype == "id":
        out = s if pd.api.types.is_integer_dtype(s) else s.astype("string")
        return out, pd.Series(False, index=s.index)
    if f.dtype in ("date", "datetime", "month"):
        out = _parse_dates(s, f.dtype)
    elif f.dtype == "bool":
        out = _parse_bool(s)
    elif f.dtype in ("int", "float"):
        out = pd.to_numeric(s, errors="coerce") if not pd.api.types.is_numeric_dtype(s) or \
            pd.api.types.is_bool_dtype(s) else s
        if pd.api.types.is_bool_dtype(out):
            out = pd.Series(np.nan, index=s.index)
        out = out.astype("float64") if f.dtype == "float" else out
    else:  # pragma: no cover - contract typo
        raise ValueError(f"unknown contract dtype {f.dtype}")
    bad = present & out.isna()
    return out, bad


#: Dates outside these years are typing slips (1900, 2999), not contact-center history.
PLAUSIBLE_YEARS = (1950, 2100)
#: No count, duration, score or cost in a contact center is this large: an export error.
MAX_MAGNITUDE = 1e12
#: Longer text values are not names or labels (and would swamp every table and figure).
MAX_TEXT = 1000
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})\s*$")


def _short(value) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _odd_values(f: Field, raw: pd.Series):
    """(rule, rows) for values a column's type would misread: time-zone offsets, infinities,
    NUL characters, objects in text columns, oversized text, implausible dates."""
    if f.dtype in ("date", "datetime", "month"):
        if isinstance(raw.dtype, pd.DatetimeTZDtype):
            yield (f"date-times with a time zone ({raw.dtype.tz}): the contract's date-times are the centre's local "
                   "time without a zone; convert them to local time in the export"), raw.notna()
            years = None
        elif raw.dtype == object or pd.api.types.is_string_dtype(raw):
            text = raw.astype("string")
            zoned = text.str.contains(_OFFSET, na=False).astype(bool)
            if zoned.any():
                yield ("values with a time-zone offset or Z: the contract's date-times are the centre's local time "
                       "without a zone; convert them to local time in the export"), zoned
            # the year as written: 2999 is past what a timestamp can hold, and still a typing slip
            years = pd.to_numeric(text.where(~zoned).str.extract(r"^\s*(\d{4})", expand=False), errors="coerce")
        else:
            years = raw.dt.year if pd.api.types.is_datetime64_any_dtype(raw) else None
        if years is not None:
            odd = years.notna() & ((years < PLAUSIBLE_YEARS[0]) | (years > PLAUSIBLE_YEARS[1]))
            if odd.any():
                yield f"dates outside {PLAUSIBLE_YEARS[0]}-{PLAUSIBLE_YEARS[1]} (a typing slip?)", odd.astype(bool)
    elif f.dtype in ("int", "float"):
        numbers = pd.to_numeric(raw, errors="coerce") if not pd.api.types.is_numeric_dtype(raw) or \
            pd.api.types.is_bool_dtype(raw) else raw
        if pd.api.types.is_float_dtype(numbers):
            values = numbers.to_numpy(dtype=float, na_value=np.nan)
            infinite = pd.Series(np.isinf(values), index=raw.index)
            if infinite.any():
                yield "values that are infinite", infinite
            huge = pd.Series(np.isfinite(values) & (np.abs(values) > MAX_MAGNITUDE), index=raw.index)
            if huge.any():
                yield f"values beyond {MAX_MAGNITUDE:.0e} in size (an export error?)", huge
    elif f.dtype in ("string", "id") and (raw.dtype == object or pd.api.types.is_string_dtype(raw)
                                          or isinstance(raw.dtype, pd.CategoricalDtype)):
        objects = pd.Series(False, index=raw.index)
        if not isinstance(raw.dtype, pd.CategoricalDtype) and \
                pd.api.types.infer_dtype(raw, skipna=True) not in ("string", "empty"):
            objects = raw.map(lambda v: isinstance(v, (dict, list, tuple, set, np.ndarray))).astype(bool)
            if objects.any():
                yield "values that are lists or mappings, not text", objects
        nul, long = _text_masks(raw, objects)
        if nul.any():
            yield "text holding NUL characters (a damaged export?)", nul
        if long.any():
            yield f"text values longer than {MAX_TEXT:,} characters", long


def _text_masks(raw: pd.Series, objects: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Rows whose text holds a NUL character, and rows longer than MAX_TEXT, computed by
    Arrow on every value: pandas' hashing stops at a NUL ('a\\x00b' hashes as 'a'), so
    distinct values or isin would miss them (and merge them into a phantom group)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(raw.dtype, pd.CategoricalDtype):  # once per category, then by code
        cats = pa.array(raw.cat.categories.astype(str), type=pa.string())
        codes = raw.cat.codes.to_numpy()

        def per_row(flags: pa.Array) -> pd.Series:
            bad = np.flatnonzero(np.asarray(flags.to_numpy(zero_copy_only=False), dtype=bool))
            return pd.Series(np.isin(codes, bad), index=raw.index)

        return (per_row(pc.match_substring(cats, "\x00")),
                per_row(pc.greater(pc.utf8_length(cats), MAX_TEXT)))
    text = raw.where(~objects & raw.notna(), None).astype(object)
    if pd.api.types.infer_dtype(text, skipna=True) not in ("string", "empty"):  # numbers in a text column
        text = text.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    arr = pa.array(text, type=pa.string(), from_pandas=True)

    def mask(flags: pa.Array) -> pd.Series:
        return pd.Series(flags.fill_null(False).to_numpy(zero_copy_only=False), index=raw.index).astype(bool)

    return mask(pc.match_substring(arr, "\x00")), mask(pc.greater(pc.utf8_length(arr), MAX_TEXT))


TYPE_WORDS = {
    "date": "values that are not valid dates (expected YYYY-MM-DD)",
    "datetime": "values that are not valid date-times (expected YYYY-MM-DD HH:MM:SS)",
    "month": "values that are not valid months (expected YYYY-MM or YYYY-MM-01)",
    "bool": "values that are not true/false",
    "int": "values that are not whole numbers",
    "float": "values that are not numbers",
}


def coerce_table(table: Table, df: pd.DataFrame, report: ValidationReport,
                 source: str | None = None) -> tuple[pd.DataFrame, dict[str, pd.Index]]:
    """Return ``df``'s contract columns in contract types; report values that do not parse.

    Columns outside the contract are kept as they are. The input frame is not modified.
    Also returns, per column, the rows that did not parse (already reported).
    """
    out = df.copy(deep=False)
    unparsed: dict[str, pd.Index] = {}
    for f in table.fields:
        if f.name not in df.columns:
            continue
        raw = df[f.name]
        refused = pd.Series(False, index=df.index)
        for rule, mask in _odd_values(f, raw):
            report.add(table.name, f.name, rule, int(mask.sum()), examples(raw[mask].map(_short)), source)
            refused |= mask
        if refused.any():  # reported once, above; parsed as empty
            raw = raw.where(~refused) if not isinstance(raw.dtype, pd.DatetimeTZDtype) else \
                raw.dt.tz_localize(None).where(~refused)
        col, bad = coerce_column(f, raw)
        bad &= ~refused
        if bad.any():
            report.add(table.name, f.name, TYPE_WORDS[f.dtype], int(bad.sum()),
                       examples(df.loc[bad, f.name]), source)
        if bad.any() or refused.any():
            unparsed[f.name] = df.index[(bad | refused).to_numpy()]
        out[f.name] = col
    return out, unparsed


def _schema(table: Table, df: pd.DataFrame, unique: bool = True) -> pa.DataFrameSchema:
    """The pandera schema of a table's columns present in ``df``; made once per table,
    columns and uniqueness (a new schema per batch of a large table costs memory each time)."""
    return _schema_for(table.name, tuple(c for c in table.columns if c in df.columns), unique)


@lru_cache(maxsize=64)
def _schema_for(name: str, present: tuple[str, ...], unique: bool) -> pa.DataFrameSchema:
    table = TABLES[name]
    columns = {
        f.name: pa.Column(nullable=f.nullable, checks=list(f.checks),
                          unique=unique and table.key == (f.name,), required=False)
        for f in table.fields if f.name in present
    }
    key = list(table.key) if unique and len(table.key) > 1 and set(table.key) <= set(present) else None
    return pa.DataFrameSchema(columns, unique=key)


CHECK_WORDS = {  # pandera's failure kinds in the report's words
    "not_nullable": "empty values, which the contract does not allow",
    "field_uniqueness": "duplicate values in a column that must be unique",
}


def _key_text(values) -> str:
    return "/".join(str(v)[:10] if isinstance(v, pd.Timestamp) else str(v) for v in values)


def check_rules(table: Table, df: pd.DataFrame, report: ValidationReport, source: str | None,
                unparsed: dict[str, pd.Index] | None = None, unique: bool = True) -> None:
    """Run the per-column value rules (pandera) and add every failure to ``report``.

    Rows in ``unparsed`` were already reported as unreadable; they are not reported
    again as empty. ``unique=False`` leaves the key's uniqueness to the caller (a table
    checked in batches: :func:`check_key_in_file`).
    """
    unparsed = unparsed or {}
    try:
        _schema(table, df, unique).validate(df, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
        drop = pd.Series(False, index=cases.index)
        for col, rows in unparsed.items():
            drop |= (cases["column"] == col) & (cases["check"] == "not_nullable") & cases["index"].isin(rows)
        cases = cases[~drop]
        multi = cases[cases["check"] == "multiple_fields_uniqueness"]
        if len(multi):
            rows = multi["index"].dropna().unique()
            eg = df.loc[df.index.isin(rows), list(table.key)].head(5)
            report.add(table.name, ", ".join(table.key),
                       "duplicate rows for the same " + " and ".join(table.key), len(rows),
                       "; ".join(dict.fromkeys(_key_text(r) for r in eg.itertuples(index=False))),
                       source)
        rest = cases[cases["check"] != "multiple_fields_uniqueness"]
        for (column, check), grp in rest.groupby(["column", "check"], sort=False, dropna=False):
            words = CHECK_WORDS.get(str(check)) or str(check)
            n = grp["index"].nunique() if grp["index"].notna().any() else len(grp)
            report.add(table.name, str(column), words, int(n),
                       examples(grp["failure_case"].dropna()), source)


def check_table(table: Table, df: pd.DataFrame, report: ValidationReport,
                source: str | None = None, unique: bool = True) -> pd.DataFrame:
    """Check one table (columns, types, rules) and return it in contract types."""
    report.rows[table.name] = len(df)
    if len(df) == 0:
        report.add(table.name, None, "the table has no rows", 0, source=source)
        return df
    check_columns(table, df, report, source)
    typed, unparsed = coerce_table(table, df, report, source)
    check_rules(table, typed, report, source, unparsed, unique)
    _check_within_table(table.name, typed, report, source)
    return typed


def check_in_batches(table: Table, batches: Iterable[pd.DataFrame], report: ValidationReport,
                     source: str | None = None, agents: pd.DataFrame | None = None
                     ) -> Iterator[pd.DataFrame]:
    """Check a table a batch of rows at a time, yielding each batch in contract types.

    The rules are those of :func:`check_table` and the cross-table rules against
    ``agents`` (typed); a rule broken in several batches is reported once, with the rows
    of every batch counted and the first batch's examples. The key's uniqueness spans
    batches, so it is left to :func:`check_key_in_file`.
    """
    found = ValidationReport()
    rows = 0
    lookup = agent_lookup(agents)
    for batch in batches:
        part = ValidationReport()
        typed = check_table(table, batch, part, source, unique=False) if len(batch) else batch
        if lookup is not None and len(batch):
            check_cross_tables({table.name: typed}, part, {table.name: source}, lookup)
        found.merge(part)
        rows += len(batch)
        yield typed
    if rows == 0:
        found.add(table.name, None, "the table has no rows", 0, source=source)
    report.merge(found)
    report.rows[table.name] = rows


def check_key_in_file(table: Table, relation: str, report: ValidationReport, source: str | None = None,
                      memory: str | None = None) -> None:
    """Report key values that occur more than once in a file (a DuckDB aggregation over
    ``relation``, within ``memory``, default :data:`ccinsight.readers.DUCKDB_MEMORY`: larger work
    spills to disk), as :func:`check_rules` reports them in a frame. A file lacking a key
    column is left to the batch check, which reports missing columns."""
    import tempfile

    import duckdb

    from ccinsight.readers import DUCKDB_MEMORY, duckdb_query

    try:
        present = set(duckdb_query(f"SELECT * FROM {relation} LIMIT 0").columns)
    except duckdb.Error:
        present = set()  # unreadable: the batch check names the file
    if not set(table.key) <= present:
        return
    key = ", ".join(f'"{k}"' for k in table.key)
    sql = f"""WITH dup AS (SELECT {key}, count(*) AS n FROM {relation} WHERE {' AND '.join(f'"{k}" IS NOT NULL'
                                                                                  for k in table.key)}
                     GROUP BY ALL HAVING count(*) > 1)
        SELECT (SELECT coalesce(sum(n), 0) FROM dup) AS rows, * EXCLUDE (n) FROM (SELECT * FROM dup LIMIT 5)"""
    try:
        with tempfile.TemporaryDirectory(prefix="ccinsight-duckdb-") as spill:
            found = duckdb_query(sql, settings={"memory_limit": memory or DUCKDB_MEMORY, "temp_directory": spill})
    except duckdb.Error as err:
        report.add(table.name, ", ".join(table.key), f"the key could not be checked: {str(err).splitlines()[0]}",
                   0, source=source)
        return
    if found.empty or not int(found["rows"].iloc[0]):
        return
    values = found.drop(columns="rows")
    if len(table.key) == 1:
        report.add(table.name, table.key[0], CHECK_WORDS["field_uniqueness"], int(found["rows"].iloc[0]),
                   examples(values[table.key[0]]), source)
    else:
        report.add(table.name, ", ".join(table.key), "duplicate rows for the same " + " and ".join(table.key),
                   int(found["rows"].iloc[0]),
                   "; ".join(dict.fromkeys(_key_text(r) for r in values.itertuples(index=False))), source)


def _rows(report: ValidationReport, table: str, column: str, mask: pd.Series, values,
          rule: str, source: str | None) -> None:
    """Report the rows in ``mask``; ``values`` (a Series, or a function of the rows' frame
    positions giving one) shows examples of them."""
    mask = mask.fillna(False).astype(bool)
    if mask.any():
        shown = values(mask.to_numpy().nonzero()[0][:50]) if callable(values) else values[mask]
        report.add(table, column, rule, int(mask.sum()), examples(shown), source)


def _check_within_table(name: str, df: pd.DataFrame, report: ValidationReport, source: str | None) -> None:
    today = pd.Timestamp.today().normalize()
    cols = set(df.columns)
    if name == "agents" and {"hire_date", "exit_date", "agent_id"} <= cols:
        before = df["exit_date"] < df["hire_date"]
        _rows(report, name, "exit_date", before,
              lambda rows: (df["agent_id"].iloc[rows].astype(str) + " exit "
                            + df["exit_date"].iloc[rows].astype(str).str[:10]
                            + " < hire " + df["hire_date"].iloc[rows].astype(str).str[:10]),
              "exit date before the hire date", source)
        _rows(report, name, "hire_date", df["hire_date"] > today,
              lambda rows: df["hire_date"].iloc[rows].astype(str).str[:10],
              "hire date in the future", source)
        if "exit_type" in cols:
            _rows(report, name, "exit_type", df["exit_date"].notna() & df["exit_type"].isna(),
                  df["agent_id"], "exit date given but no exit type", source)
        if "certification_date" in cols:
            _rows(report, name, "certification_date", df["certification_date"] < df["hire_date"],
                  df["agent_id"], "certification date before the hire date", source)
    if name == "outbound_calls" and {"accepted", "converted"} <= cols:
        _rows(report, name, "converted", df["converted"].astype("boolean") & ~df["accepted"].astype("boolean"),
              df["call_id"] if "call_id" in cols else df.index.to_series(),
              "calls converted although not accepted", source)
    if name == "queue_intervals":
        def where(rows):  # made for the examples only: a string per row of a large table is slow
            if {"queue", "interval_start"} <= cols:
                some = df.iloc[rows]
                return some["queue"].astype(str) + " " + some["interval_start"].astype(str).str[:16]
            return df.index.to_series().iloc[rows]
        for column, more, than, rule in (
                ("answered", df.get("answered", 0) + df.get("abandoned", 0), df.get("offered"),
                 "answered and abandoned add up to more than offered"),
                ("answered_in_sl", df.get("answered_in_sl"), df.get("answered"),
                 "more calls answered within the service level than answered"),
                ("agents_on_calls", df.get("agents_on_calls"), df.get("agents_staffed"),
                 "more agents on calls than staffed")):
            if isinstance(more, pd.Series) and isinstance(than, pd.Series):
                _rows(report, name, column, more > than, where, rule, source)
        if "interval_start" in cols and pd.api.types.is_datetime64_any_dtype(df["interval_start"]):
            start = df["interval_start"]
            _rows(report, name, "interval_start", (start.dt.minute % 30 != 0) | (start.dt.second != 0),
                  lambda rows: start.iloc[rows].astype(str).str[:19],
                  "intervals that do not start on the hour or half hour", source)
            _rows(report, name, "interval_start", start > today + pd.Timedelta(days=1),
                  lambda rows: start.iloc[rows].astype(str).str[:16], "intervals in the future", source)
    if name == "outbound_calls" and "started_at" in cols:
        _rows(report, name, "started_at", df["started_at"] > today + pd.Timedelta(days=1),
              df["started_at"], "calls in the future", source)


@dataclass(frozen=True)
class AgentLookup:
    """What the rules between tables look agents up in: their IDs and hire dates (None when
    the agents table has no datetime ``hire_date``). Made once (:func:`agent_lookup`) for a
    table checked in batches, not once per batch (at 100M calls and 250,000 agents that was
    a third of the check)."""

    known: pd.Index
    hire: pd.Series | None


def agent_lookup(agents: pd.DataFrame | None) -> AgentLookup | None:
    """The lookup of a typed agents table; None when it has no agents."""
    if agents is None or "agent_id" not in agents or len(agents) == 0:
        return None
    hire = agents.dropna(subset=["agent_id"]).drop_duplicates("agent_id").set_index("agent_id")["hire_date"] \
        if "hire_date" in agents else None
    if hire is not None and not pd.api.types.is_datetime64_any_dtype(hire):
        hire = None
    return AgentLookup(pd.Index(agents["agent_id"].dropna().astype(str).unique()), hire)


def check_cross_tables(tables: dict[str, pd.DataFrame], report: ValidationReport,
                       sources: dict[str, str] | None = None, lookup: AgentLookup | None = None) -> None:
    """Rules that need two tables: unknown agents, activity before hire. The agents are
    ``tables["agents"]``, or ``lookup`` when given."""
    sources = sources or {}
    lookup = lookup or agent_lookup(tables.get("agents"))
    if lookup is None:
        return
    for name in ("training", "performance", "outbound_calls"):
        df = tables.get(name)
        if df is None or "agent_id" not in df or len(df) == 0:
            continue
        ids = df["agent_id"].astype("string")
        # the index's hash table is built once and kept with it (isin built one per call)
        unknown = pd.Series(lookup.known.get_indexer(ids) < 0, index=ids.index) & ids.notna()
        _rows(report, name, "agent_id", unknown, ids, "agents that are not in the agents table",
              sources.get(name))
    hire = lookup.hire
    if hire is None:
        return
    perf = tables.get("performance")
    if perf is not None and {"agent_id", "month"} <= set(perf.columns) and len(perf) and \
            pd.api.types.is_datetime64_any_dtype(perf["month"]):
        hired = perf["agent_id"].astype("string").map(hire)
        early = perf["month"] < hired.dt.to_period("M").dt.to_timestamp()
        _rows(report, "performance", "month", early,
              lambda rows: perf["agent_id"].iloc[rows].astype(str) + " " + perf["month"].iloc[rows].astype(str).str[:7],
              "months before the agent was hired", sources.get("performance"))
    training = tables.get("training")
    if training is not None and {"agent_id", "training_end_date"} <= set(training.columns) and len(training) \
            and pd.api.types.is_datetime64_any_dtype(training["training_end_date"]):
        hired = training["agent_id"].astype("string").map(hire)
        _rows(report, "training", "training_end_date", training["training_end_date"] < hired,
              training["agent_id"], "training ends before the agent was hired", sources.get("training"))


def validate(tables: dict[str, pd.DataFrame], sources: dict[str, str] | None = None
             ) -> tuple[dict[str, pd.DataFrame], ValidationReport]:
    """Check every given table and the rules between them.

    Parameters
    ----------
    tables
        Contract table name -> frame as read from the source.
    sources
        Table name -> file or location, named in messages.

    Returns
    -------
    (typed tables, report)
        The tables in contract types (inputs are not modified) and every problem found.
    """
    sources = sources or {}
    report = ValidationReport()
    typed = {}
    for name, df in tables.items():
        typed[name] = check_table(TABLES[name], df, report, sources.get(name))
    check_cross_tables(typed, report, sources)
    return typed, report
