"""Loading the contract tables for one analysis month.

A data folder holds one file per contract table, named after it: ``agents.parquet`` or
``agents.csv`` (``.csv.gz`` too); a params file's ``sources`` section maps your own files
or databases instead (:mod:`ccinsight.sources`). :func:`load` reads them
(:mod:`ccinsight.readers`), checks them against the contract, and returns them as they
stood at the end of the analysis month (:func:`ccinsight.period.as_observed`).
"""
from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from ccinsight import contract, pushdown
from ccinsight import period as period_mod
from ccinsight.config import display_path, project_root, resolve_path
from ccinsight.errors import DataError
from ccinsight.labels import Labels
from ccinsight.labels import parse as parse_labels
from ccinsight.readers import duckdb_relation, read_batches, read_table, table_file


#: Tables that grow with the calls, with the date-time they are cut on and what a row is.
#: From a data folder they are checked a batch of rows at a time and kept as their file
#: (:class:`Held`): the analyses aggregate them with DuckDB, so memory does not grow with them.
HELD_TABLES = {"outbound_calls": ("started_at", "call(s)")}


@dataclass(frozen=True)
class Held:
    """A table kept as its file: its rows and empty values counted per day of its date-time,
    which is all the data overview and the months need (and can be cut at any day)."""

    table: str
    path: Path | None  # None: counted where a mapped source lies (:mod:`ccinsight.pushdown`)
    columns: tuple[str, ...]
    by_day: pd.DataFrame  # index: day; "rows", then the empty values of each column

    @classmethod
    def count(cls, table: str, path: Path, batches: Iterable[pd.DataFrame]) -> "Held":
        """Count the rows and empty values of each (contract-typed) batch per day."""
        time, _ = HELD_TABLES[table]
        total, columns = None, ()
        for batch in batches:
            columns = tuple(str(c) for c in batch.columns)
            if time not in batch or not pd.api.types.is_datetime64_any_dtype(batch[time]):
                continue  # reported by the contract check
            day = batch[time].dt.normalize().to_numpy()
            counts = batch.isna().groupby(day).sum()
            counts.insert(0, "rows", batch.groupby(day).size())
            total = counts if total is None else total.add(counts, fill_value=0)
        if total is None:
            total = pd.DataFrame(columns=["rows", *columns], index=pd.DatetimeIndex([]))
        return cls(table, path, columns, total.astype("int64").sort_index())

    @property
    def rows(self) -> int:
        return int(self.by_day["rows"].sum())

    @property
    def first(self) -> pd.Timestamp | None:
        return self.by_day.index.min() if len(self.by_day) else None

    @property
    def last(self) -> pd.Timestamp | None:
        return self.by_day.index.max() if len(self.by_day) else None

    def missing(self) -> pd.Series:
        """Empty values per column."""
        return self.by_day.drop(columns="rows").sum().reindex(list(self.columns), fill_value=0).astype(int)

    def per_month(self) -> pd.Series:
        """Rows per calendar month."""
        return self.by_day["rows"].groupby(self.by_day.index.to_period("M")).sum()

    def cut(self, as_of: pd.Timestamp) -> tuple["Held", list[str]]:
        """The rows up to the end of the day ``as_of``, and the note :func:`ccinsight.period.as_observed`
        writes for rows left out."""
        later = self.by_day.index > pd.Timestamp(as_of).normalize()
        if not later.any():
            return self, []
        what = HELD_TABLES[self.table][1]
        note = (f"{self.table}: {int(self.by_day.loc[later, 'rows'].sum()):,} {what} after "
                f"{pd.Timestamp(as_of).date()} left out (not known by then).")
        return replace(self, by_day=self.by_day.loc[~later]), [note]


@dataclass
class Dataset:
    """Contract tables in contract types, as they stood at the end of ``month``."""

    root: Path | None
    tables: dict[str, pd.DataFrame]
    files: dict[str, Path] = field(default_factory=dict)
    report: contract.ValidationReport | None = None
    sources: dict[str, str] = field(default_factory=dict)  # table -> where it came from (no secrets)
    skipped: dict[str, str] = field(default_factory=dict)  # wanted table -> why it is absent
    notes: list[str] = field(default_factory=list)  # what a source mapping (and the month's cut) did
    month: pd.Period | None = None  # the analysis month; None: the latest complete month of the tables
    #: The date of a tenure-only export (``sources.agents.tenure.as_of``). Such data have no
    #: calendar: hire dates are made up as snapshot - tenure, so nothing may be windowed or
    #: filtered on them, and the snapshot is the one date the analysis is as of.
    snapshot: pd.Timestamp | None = None
    #: How reports name columns and values, and the currency (a params file's ``labels``).
    labels: Labels = field(default_factory=Labels)
    #: Large tables checked in batches and kept as their files (:data:`HELD_TABLES`).
    held: dict[str, Held] = field(default_factory=dict)

    @property
    def calendar(self) -> bool:
        """Do the agents' hire and exit dates mean what they say? (False for a tenure-only export.)"""
        return self.snapshot is None

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name in self.held and self.held[name].path is None:
            raise DataError(f"The table '{name}' ({self.sources.get(name)}) is counted where it lies, not loaded: "
                            "aggregate it there (ccinsight.pushdown.PushedCalls).")
        if name in self.held:
            raise DataError(f"The table '{name}' ({display_path(self.held[name].path)}) is checked in batches and "
                            "kept as its file, not loaded: aggregate it with DuckDB "
                            "(ccinsight.readers.duckdb_relation).")
        try:
            return self.tables[name]
        except KeyError:
            where = display_path(self.root) if self.root else "the sources"
            raise DataError(f"The table '{name}' was not loaded from {where}; "
                            f"loaded: {', '.join(self.tables) or 'none'}.") from None

    def __contains__(self, name: str) -> bool:
        return name in self.tables or name in self.held

    def _date_columns(self):
        for name, df in self.tables.items():
            for f in contract.TABLES[name].fields:
                if f.name in df and f.dtype in ("date", "datetime", "month") and df[f.name].notna().any():
                    yield f, df[f.name]
        for name, held in self.held.items():
            if held.first is not None:
                yield contract.TABLES[name].field(HELD_TABLES[name][0]), pd.Series([held.first, held.last])

    def rows(self) -> dict[str, int]:
        """Rows of each table, loaded or held."""
        return {n: len(df) for n, df in self.tables.items()} | {n: h.rows for n, h in self.held.items()}

    def last_day(self) -> pd.Timestamp:
        """The last day the loaded tables cover (a ``month`` column covers its whole month)."""
        ends = [period_mod.month_end(col.max().to_period("M")) if f.dtype == "month" else col.max().normalize()
                for f, col in self._date_columns()]
        if not ends:
            raise DataError("No dates in the loaded tables.")
        return max(ends)

    def first_day(self) -> pd.Timestamp:
        """The first day the loaded tables cover."""
        starts = [col.min().normalize() for _, col in self._date_columns()]
        if not starts:
            raise DataError("No dates in the loaded tables.")
        return min(starts)

    def latest_complete_month(self) -> pd.Period:
        """The latest calendar month the data covers to its last day."""
        return period_mod.latest_complete_month(self.last_day())

    @property
    def period(self) -> pd.Period:
        """The analysis month."""
        if self.month is not None:
            return self.month
        return self.snapshot.to_period("M") if self.snapshot is not None else self.latest_complete_month()

    @property
    def as_of(self) -> pd.Timestamp:
        """The last day of the analysis month (a tenure-only export: the date it was taken):
        what every analysis of this data knows."""
        return self.snapshot if self.snapshot is not None else period_mod.month_end(self.period)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n} {k:,} rows" for n, k in self.rows().items())
        return f"Dataset({', '.join(self.sources.values()) or 'in memory'}: {sizes}; as of {self.as_of.date()})"

    def provenance(self) -> dict:
        """Where each table came from, what is missing and what the mapping did: for the run record."""
        return {"data_sources": dict(self.sources), "data_skipped": dict(self.skipped),
                "data_notes": list(self.notes)}


def load(data: str | Path, tables: Iterable[str] | None = None, *, optional: Iterable[str] = (),
         validate: bool = True, sources: Mapping[str, Any] | None = None, month: str | None = None,
         as_observed: bool = True, labels: Mapping[str, Any] | None = None, report_only: bool = False) -> Dataset:
    """Read contract tables from a folder, or from mapped sources, check them, and cut them
    at the end of the analysis month.

    Parameters
    ----------
    data
        Folder with one file per table; relative paths start at the project folder.
        Ignored when ``sources`` is given.
    tables
        Tables the caller needs (default: every contract table). A needed table that is
        missing is an error, unless the contract marks it optional.
    optional
        Tables the caller uses when present; absent ones are listed in ``Dataset.skipped``.
    validate
        Check the tables against the contract and raise a DataError listing every
        problem when any breaks it (and then cut them at the month's end). False also
        reads a mapped call table whole (rows to inspect), which is otherwise counted
        where it lies when its mapping allows (:mod:`ccinsight.pushdown`).
    sources
        A params file's ``sources`` section (see :mod:`ccinsight.sources`).
    month
        Analysis month ``YYYY-MM``; default the latest complete month of the data. The
        tables are returned as they stood at its end (:func:`ccinsight.period.as_observed`);
        a month after the data's latest complete month is an error.
    as_observed
        False returns every row as read (to check a mapping; never for an analysis).
    labels
        A params file's ``labels`` section (:mod:`ccinsight.labels`): the words reports use
        for columns, values and the currency. None: column names with spaces.
    report_only
        With ``validate=False``: only the report is wanted (``ccinsight validate``), so a
        mapped call table is still checked where it lies, not read whole.
    """
    shown = parse_labels(labels, "labels")
    wanted = list(tables) if tables is not None else list(contract.TABLES)
    extra = [t for t in optional if t not in wanted]
    unknown = [t for t in wanted + extra if t not in contract.TABLES]
    if unknown:
        raise DataError(f"Unknown table(s) {', '.join(unknown)}; the contract has "
                        f"{', '.join(contract.TABLES)}.")
    needed = [t for t in wanted if not contract.TABLES[t].optional]
    chosen = period_mod.parse_month(month) if month is not None else None
    if sources:
        ds = _load_sources(sources, needed, [t for t in wanted + extra if t not in needed], validate,
                           push=validate or report_only)
        kept = {}
    else:
        ds, kept = _load_folder(resolve_path(data), wanted + extra, needed, validate)
    ds = replace(ds, labels=shown)
    if not validate or not ds.report.ok or not as_observed:
        return _owned(ds, kept)  # a report of problems, or rows to inspect: not data to analyse
    return _owned(cut(ds, chosen), kept)


def _owned(ds: Dataset, kept: Mapping[str, pd.DataFrame]) -> Dataset:
    """``ds`` with a copy of its own of each table that is still a ``kept`` one (shared with
    later loads, :data:`_CHECKED`). A table cut at the month's end is new already: copying
    before the cut copied it twice (all tables of a month 120 -> 47 ms in a kept kernel)."""
    return replace(ds, tables={name: df.copy() if kept.get(name) is df else df for name, df in ds.tables.items()})


def cut(ds: Dataset, month: pd.Period | None) -> Dataset:
    """The data set as it stood at the end of ``month`` (default: its latest complete month).

    A tenure-only export is as of the date it was taken: ``month`` must be that date's
    month (or None), since its tenures cannot be wound back or forward.
    """
    if ds.snapshot is not None:
        taken = ds.snapshot.to_period("M")
        if month is not None and month != taken:
            raise DataError(f"The agents export gives tenure as of {ds.snapshot.date()} (sources: agents.tenure.as_of) "
                            f"and has no hire dates, so it can only be analysed as of that date: set month to {taken} "
                            f"(or leave it empty), not {month}.")
        tables, notes = period_mod.as_observed(ds.tables, ds.snapshot)
        return replace(ds, tables=tables, notes=ds.notes + notes, month=taken)
    latest = ds.latest_complete_month()
    month = month or latest
    if month > latest:
        raise DataError(f"The data ({', '.join(ds.sources.values())}) end on {ds.last_day().date()}: "
                        f"{month} is not complete in it; the latest complete month is {latest}.")
    tables, notes = period_mod.as_observed(ds.tables, period_mod.month_end(month))
    held = {}
    for name, h in ds.held.items():
        held[name], more = h.cut(period_mod.month_end(month))
        notes += more
    return replace(ds, tables=tables, held=held, notes=ds.notes + notes, month=month)


#: Tables read from files and checked, kept in the process when ``CHECKED_BYTES`` allows:
#: a deck's kept kernel (:mod:`ccinsight.kernels`) sets it, since it loads the same files for
#: every month and notebook; elsewhere (0) nothing is kept and nothing copied. Keyed by the
#: file's size, modification time and inode, so a changed file is read again; every load gets
#: its own copy. The least recently used go first when they hold more than ``CHECKED_BYTES``
#: together; a larger table is read each time.
_CHECKED: OrderedDict[tuple, tuple[Any, contract.ValidationReport, int]] = OrderedDict()
CHECKED_BYTES = 0


def _file_key(path: Path) -> tuple:
    st = path.stat()
    return str(path), st.st_size, st.st_mtime_ns, st.st_ino


def _kept(key: tuple, make, size) -> tuple[Any, contract.ValidationReport, bool]:
    """``make()``'s (value, report of its problems, whether the value is kept and shared:
    copy it before use), made once per ``key`` (see ``_CHECKED``)."""
    if key in _CHECKED:
        _CHECKED.move_to_end(key)
        value, report, _ = _CHECKED[key]
        return value, report, True
    report = contract.ValidationReport()
    value = make(report)
    if not CHECKED_BYTES:
        return value, report, False
    n = size(value)
    if n > CHECKED_BYTES:
        return value, report, False
    _CHECKED[key] = (value, report, n)
    while sum(k for _, _, k in _CHECKED.values()) > CHECKED_BYTES:
        _CHECKED.popitem(last=False)
    return value, report, True


def _load_folder(root: Path, names: list[str], needed: list[str], validate: bool
                 ) -> tuple[Dataset, dict[str, pd.DataFrame]]:
    """The tables of the files in ``root``, and those of them that are kept (:func:`_kept`):
    the caller copies what it hands out (:func:`_owned`)."""
    if not root.is_dir():
        raise DataError(f"Data folder {display_path(root)} does not exist. Run `ccinsight synth` "
                        "for the synthetic contact center, or point --data at your export folder.")
    files: dict[str, Path] = {}
    missing, skipped = [], {}
    report = contract.ValidationReport()
    typed: dict[str, pd.DataFrame] = {}
    kept: dict[str, pd.DataFrame] = {}
    for name in names:
        path = table_file(root, name)
        if path is None:
            if name in needed:
                missing.append(name)
            else:
                skipped[name] = f"no {name} file in {display_path(root)}"
            continue
        files[name] = path
        if name not in HELD_TABLES:
            where = display_path(path)
            df, problems, shared = _kept(("table", name, where, *_file_key(path)),
                              lambda r, name=name, path=path, where=where: contract.check_table(
                                  contract.TABLES[name], read_table(path, name), r, where),
                              lambda df: int(df.memory_usage(index=True, deep=True).sum()))
            report.merge(problems)
            typed[name] = df
            if shared:
                kept[name] = df
    if missing:
        found = sorted(p.name for p in root.iterdir() if p.is_file())
        listed = ", ".join(found[:12]) + (f", ... ({len(found)} in all)" if len(found) > 12 else "")
        raise DataError(f"{display_path(root)} has no file for table(s) {', '.join(missing)} "
                        f"(expected e.g. {missing[0]}.parquet or {missing[0]}.csv); "
                        f"files found: {listed or 'none'}.")
    shown = {n: display_path(p) for n, p in files.items()}
    contract.check_cross_tables(typed, report, shown)
    agents_key = _file_key(files["agents"]) if "agents" in files else None
    held = {}
    for name, path in files.items():
        if name in HELD_TABLES:
            held[name], problems, _ = _kept(("held", name, shown[name], agents_key, *_file_key(path)),
                                      lambda r, name=name, path=path: _counted(
                                          name, path, files.get("agents"), typed.get("agents"), r, shown[name]),
                                      lambda h: int(h.by_day.memory_usage(index=True).sum()))
            report.merge(problems)
    report.rows = {n: report.rows[n] for n in files if n in report.rows}  # in the contract's order
    if validate:
        report.raise_if_failed()
    return Dataset(root=root, tables=typed, files=files, report=report, sources=shown, skipped=skipped,
                   held=held), kept


#: Set by a deck (:mod:`ccinsight.deck`) for its run: the folder where its input check left
#: the large tables' counts (:func:`leave_counts`), so that its kernels read them back
#: instead of checking the same file again (at 100M calls 150 s of the data overview).
COUNTS_ENV = "CCINSIGHT_CHECKED_COUNTS"


def _counts_file(folder: Path, name: str, path: Path, agents: Path | None) -> Path:
    """Where the counts of table ``name`` from ``path``, checked with the ``agents`` file, are left."""
    key = (name, _file_key(path), _file_key(agents) if agents is not None else None)
    return folder / f"{name}-{hashlib.sha256(repr(key).encode()).hexdigest()[:32]}.parquet"


def _counted(name: str, path: Path, agents_file: Path | None, agents: pd.DataFrame | None,
             report: contract.ValidationReport, shown: str) -> Held:
    """The counts a passed check of the same files left in the folder :data:`COUNTS_ENV`
    names, or else those of a check (:func:`_check_held`)."""
    folder = os.environ.get(COUNTS_ENV)
    if folder:
        try:
            by_day = pd.read_parquet(_counts_file(Path(folder), name, path, agents_file))
        except (OSError, ValueError):  # none left, or unreadable: check the table
            by_day = None
        if by_day is not None and "rows" in by_day:
            report.rows[name] = int(by_day["rows"].sum())
            return Held(name, path, tuple(c for c in by_day.columns if c != "rows"), by_day)
    return _check_held(name, path, agents, report, shown)


def leave_counts(ds: Dataset, folder: Path) -> None:
    """Leave the counts of ``ds``'s large tables (a data folder's, all checks passed) in
    ``folder`` for :func:`_counted`; each file complete or not there."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, held in ds.held.items():
        if held.path is None or not len(held.by_day):
            continue
        file = _counts_file(folder, name, held.path, ds.files.get("agents"))
        tmp = file.with_name(f".{file.name}.{os.getpid()}")
        try:
            held.by_day.to_parquet(tmp)
            os.replace(tmp, file)
        except OSError:  # the kernels will check the table themselves
            tmp.unlink(missing_ok=True)


def _check_held(name: str, path: Path, agents: pd.DataFrame | None, report: contract.ValidationReport,
                shown: str) -> Held:
    """Check a large table a batch at a time (key uniqueness by DuckDB over the file) and
    count what the overview needs on the way: memory is bounded by a batch, not the table.
    The key is checked first: DuckDB hands its memory back when done, pandas' batches
    do not, so in this order the two peaks do not stack."""
    table = contract.TABLES[name]
    contract.check_key_in_file(table, duckdb_relation(path), report, shown)
    checked = contract.check_in_batches(table, read_batches(path, name), report, shown, agents)
    return Held.count(name, path, checked)


def _load_sources(spec: Mapping[str, Any], needed: list[str], optional: list[str], validate: bool, push: bool
                  ) -> Dataset:
    from ccinsight import sources as sources_mod

    parsed = sources_mod.parse(spec, "sources")
    missing = [t for t in needed if t not in parsed]
    if missing:
        raise DataError(f"The params' sources have no entry for table(s) {', '.join(missing)}, which this "
                        f"analysis needs; sources given: {', '.join(parsed) or 'none'}.")
    use = needed + [t for t in optional if t in parsed]
    skipped = {t: "no source given in the params" for t in optional if t not in parsed}
    # a call table in a database or in CSV / Parquet files is mapped, checked and counted where it lies
    # (unless rows to inspect are asked for: then every table is read)
    counted = pushdown.pushed_calls(parsed) if push and "outbound_calls" in use else None
    pushed = {"outbound_calls": counted} if counted is not None else {}
    # each table mapped and checked before the next is read: one mapped copy held at a time
    # beside the checked tables (at 20M calls all of them at once held ~200 MB more)
    mapping_report, report = contract.ValidationReport(), contract.ValidationReport()
    typed, labels, aliases, notes = {}, {}, {}, []
    for name, mapped in sources_mod.read_each(parsed, [t for t in use if t not in pushed], mapping_report):
        labels[name], aliases[name] = parsed[name].label, mapped.aliases
        notes.extend(mapped.notes)
        typed[name] = contract.check_table(contract.TABLES[name], mapped.frame, report, labels[name])
        del mapped
    contract.check_cross_tables(typed, report, labels)
    # a column whose mapping is wrong would also fail the contract's checks: report it once
    mapped_wrong = {(p.table, p.column) for p in mapping_report.problems}
    report.problems = mapping_report.problems + [p for p in report.problems if (p.table, p.column) not in mapped_wrong]
    report.problems = [_with_alias(p, aliases) for p in report.problems]
    held = {}
    for name, calls in pushed.items():
        labels[name] = parsed[name].label
        found = contract.ValidationReport()
        calls.check(found)
        report.merge(found)
        if validate:  # else (ccinsight validate) every problem is reported, none raised
            report.raise_if_failed()
        if found.ok:
            held[name] = Held(name, None, pushdown.CALL_COLUMNS, calls.by_day())
            notes.append(f"{name}: mapped, checked and counted where it lies ({parsed[name].label}); no call was "
                         "loaded.")
    report.rows = {n: report.rows[n] for n in contract.TABLES if n in report.rows}  # in the contract's order
    if validate:
        report.raise_if_failed()
    files = {t: resolve_path(str(parsed[t].get("file"))) for t in use
             if parsed[t].get("file") and resolve_path(str(parsed[t].get("file"))).is_file()}
    tenure = parsed["agents"].get("tenure") if "agents" in use else None
    return Dataset(root=project_root(), tables=typed, files=files, report=report, sources=labels, skipped=skipped,
                   notes=notes, held=held, snapshot=pd.Timestamp(str(tenure["as_of"])).normalize() if tenure else None)


def _with_alias(problem: contract.Problem, aliases: dict[str, dict[str, str]]) -> contract.Problem:
    """Name the export's column next to the contract's, so the user finds it in their file."""
    alias = aliases.get(problem.table, {}).get(problem.column or "")
    if alias and alias != problem.column:
        return replace(problem, column=f"{problem.column} (column '{alias}')")
    return problem
