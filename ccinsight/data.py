"""Loading the contract tables from a data folder.

A data folder holds one file per contract table, named after it: ``agents.parquet`` or
``agents.csv`` (``.csv.gz`` too). Every read goes through :func:`read_table`, which
turns unreadable files into one-sentence :class:`~ccinsight.errors.DataError` messages,
and :func:`load` checks what it read against the contract before anyone analyses it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from ccinsight import contract
from ccinsight.config import PROJECT_ROOT, display_path, resolve_path
from ccinsight.errors import DataError

SUFFIXES = (".parquet", ".csv", ".csv.gz")


@dataclass
class Dataset:
    """Contract tables read from one folder, in contract types."""

    root: Path
    tables: dict[str, pd.DataFrame]
    files: dict[str, Path] = field(default_factory=dict)
    report: contract.ValidationReport | None = None
    sources: dict[str, str] = field(default_factory=dict)  # table -> where it came from (no secrets)
    skipped: dict[str, str] = field(default_factory=dict)  # wanted table -> why it is absent
    notes: list[str] = field(default_factory=list)  # what a source mapping did to the data

    def __getitem__(self, name: str) -> pd.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            raise DataError(f"The table '{name}' was not loaded from {display_path(self.root)}; "
                            f"loaded: {', '.join(self.tables) or 'none'}.") from None

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    def _date_columns(self):
        for name, df in self.tables.items():
            for f in contract.TABLES[name].fields:
                if f.name in df and f.dtype in ("date", "datetime", "month") and df[f.name].notna().any():
                    yield f, df[f.name]

    def last_day(self) -> pd.Timestamp:
        """The last day the loaded tables cover (a ``month`` column covers its whole month)."""
        ends = [col.max().to_period("M").end_time.normalize() if f.dtype == "month" else col.max().normalize()
                for f, col in self._date_columns()]
        if not ends:
            raise DataError(f"No dates in the tables loaded from {display_path(self.root)}.")
        return max(ends)

    def first_day(self) -> pd.Timestamp:
        """The first day the loaded tables cover."""
        starts = [col.min().normalize() for _, col in self._date_columns()]
        if not starts:
            raise DataError(f"No dates in the tables loaded from {display_path(self.root)}.")
        return min(starts)

    def latest_complete_month(self) -> pd.Period:
        """The latest calendar month the data covers to its last day."""
        return latest_complete_month(self.last_day())

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n} {len(df):,} rows" for n, df in self.tables.items())
        return f"Dataset({display_path(self.root)}: {sizes})"

    def provenance(self) -> dict:
        """Where each table came from, what is missing and what the mapping did: for findings."""
        return {"data_sources": dict(self.sources), "data_skipped": dict(self.skipped),
                "data_notes": list(self.notes)}


def latest_complete_month(last_day: pd.Timestamp) -> pd.Period:
    """The latest calendar month that ends on or before ``last_day``."""
    return (pd.Timestamp(last_day) + pd.Timedelta(days=1)).to_period("M") - 1


def table_file(root: Path, name: str) -> Path | None:
    """The file holding table ``name`` in ``root``, or None when there is none."""
    for suffix in SUFFIXES:
        path = root / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


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
    shown = display_path(path)
    if path.stat().st_size == 0:
        raise DataError(f"{shown} (table {table}) is an empty file: expected a header row and data.")
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            names = pq.read_schema(path).names
            cols = [c for c in columns if c in names] if columns is not None else None
            return pd.read_parquet(path, columns=cols)
        return pd.read_csv(path, encoding="utf-8-sig", low_memory=False)
    except UnicodeDecodeError as err:
        raise DataError(f"{shown} (table {table}) is not UTF-8 text (byte {err.start}: "
                        f"{err.object[err.start:err.start + 1]!r}); save it as UTF-8 and try again.") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{shown} (table {table}) has no columns: the file holds no header row.") from None
    except pd.errors.ParserError as err:
        raise DataError(f"{shown} (table {table}) is not a well-formed CSV file: {err}".rstrip(".") + ".") from None
    except Exception as err:  # pyarrow raises several types for corrupt files
        if path.suffix == ".parquet":
            raise DataError(f"{shown} (table {table}) could not be read as Parquet "
                            f"(truncated or not a Parquet file: {str(err).splitlines()[0]}).") from None
        raise


def load(data: str | Path, tables: Iterable[str] | None = None, *, optional: Iterable[str] = (),
         validate: bool = True, sources: Mapping[str, Any] | None = None) -> Dataset:
    """Read contract tables from a folder, or from mapped sources, and check them.

    Parameters
    ----------
    data
        Folder with one file per table; relative paths start at the project root.
        Ignored when ``sources`` is given.
    tables
        Tables the caller needs (default: every contract table). A needed table that is
        missing is an error, unless the contract marks it optional.
    optional
        Tables the caller uses when present; absent ones are listed in ``Dataset.skipped``.
    validate
        Check the tables against the contract and raise a DataError listing every
        problem when any breaks it.
    sources
        A params file's ``sources`` section (see :mod:`ccinsight.sources`): per table, a
        file, glob, DuckDB file or SQL database and its mapping onto the contract.

    Returns
    -------
    Dataset
    """
    wanted = list(tables) if tables is not None else list(contract.TABLES)
    extra = [t for t in optional if t not in wanted]
    unknown = [t for t in wanted + extra if t not in contract.TABLES]
    if unknown:
        raise DataError(f"Unknown table(s) {', '.join(unknown)}; the contract has "
                        f"{', '.join(contract.TABLES)}.")
    needed = [t for t in wanted if not contract.TABLES[t].optional]
    if sources:
        return _load_sources(sources, needed, [t for t in wanted + extra if t not in needed], validate)
    root = resolve_path(data)
    if not root.is_dir():
        raise DataError(f"Data folder {display_path(root)} does not exist. Run `ccinsight synth` "
                        "for the synthetic contact center, or point --data at your export folder.")
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    missing, skipped = [], {}
    for name in wanted + extra:
        path = table_file(root, name)
        if path is None:
            if name in needed:
                missing.append(name)
            else:
                skipped[name] = f"no {name} file in {display_path(root)}"
            continue
        files[name] = path
        frames[name] = read_table(path, name)
    if missing:
        found = sorted(p.name for p in root.iterdir() if p.is_file())
        listed = ", ".join(found[:12]) + (f", ... ({len(found)} in all)" if len(found) > 12 else "")
        raise DataError(f"{display_path(root)} has no file for table(s) {', '.join(missing)} "
                        f"(expected e.g. {missing[0]}.parquet or {missing[0]}.csv); "
                        f"files found: {listed or 'none'}.")
    shown = {n: display_path(p) for n, p in files.items()}
    typed, report = contract.validate(frames, shown)
    if validate:
        report.raise_if_failed()
    return Dataset(root=root, tables=typed, files=files, report=report, sources=shown, skipped=skipped)


def _load_sources(spec: Mapping[str, Any], needed: list[str], optional: list[str], validate: bool) -> Dataset:
    from ccinsight import sources as sources_mod

    parsed = sources_mod.parse(spec, "sources")
    missing = [t for t in needed if t not in parsed]
    if missing:
        raise DataError(f"The params' sources have no entry for table(s) {', '.join(missing)}, which this "
                        f"analysis needs; sources given: {', '.join(parsed) or 'none'}.")
    use = needed + [t for t in optional if t in parsed]
    skipped = {t: "no source given in the params" for t in optional if t not in parsed}
    frames, labels, aliases, notes, mapping_report = sources_mod.read(parsed, use)
    typed, report = contract.validate(frames, labels)
    # a column whose mapping is wrong would also fail the contract's checks: report it once
    mapped_wrong = {(p.table, p.column) for p in mapping_report.problems}
    report.problems = mapping_report.problems + [p for p in report.problems if (p.table, p.column) not in mapped_wrong]
    report.problems = [_with_alias(p, aliases) for p in report.problems]
    if validate:
        report.raise_if_failed()
    files = {t: resolve_path(str(parsed[t].get("file"))) for t in use
             if parsed[t].get("file") and resolve_path(str(parsed[t].get("file"))).is_file()}
    return Dataset(root=PROJECT_ROOT, tables=typed, files=files, report=report, sources=labels, skipped=skipped,
                   notes=notes)


def _with_alias(problem: contract.Problem, aliases: dict[str, dict[str, str]]) -> contract.Problem:
    """Name the export's column next to the contract's, so the user finds it in their file."""
    alias = aliases.get(problem.table, {}).get(problem.column or "")
    if alias and alias != problem.column:
        return replace(problem, column=f"{problem.column} (column '{alias}')")
    return problem
