"""Loading the contract tables from a data folder.

A data folder holds one file per contract table, named after it: ``agents.parquet`` or
``agents.csv`` (``.csv.gz`` too). Every read goes through :func:`read_table`, which
turns unreadable files into one-sentence :class:`~ccinsight.errors.DataError` messages,
and :func:`load` checks what it read against the contract before anyone analyses it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pandas as pd

from ccinsight import contract
from ccinsight.config import display_path, resolve_path
from ccinsight.errors import DataError

SUFFIXES = (".parquet", ".csv", ".csv.gz")


@dataclass
class Dataset:
    """Contract tables read from one folder, in contract types."""

    root: Path
    tables: dict[str, pd.DataFrame]
    files: dict[str, Path] = field(default_factory=dict)
    report: contract.ValidationReport | None = None

    def __getitem__(self, name: str) -> pd.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            raise DataError(f"The table '{name}' was not loaded from {display_path(self.root)}; "
                            f"loaded: {', '.join(self.tables) or 'none'}.") from None

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    def last_day(self) -> pd.Timestamp:
        """The last day the loaded tables cover (a ``month`` column covers its whole month)."""
        ends = []
        for name, df in self.tables.items():
            for f in contract.TABLES[name].fields:
                if f.name in df and f.dtype in ("date", "datetime", "month") and df[f.name].notna().any():
                    last = df[f.name].max()
                    ends.append(last.to_period("M").end_time.normalize() if f.dtype == "month" else last.normalize())
        if not ends:
            raise DataError(f"No dates in the tables loaded from {display_path(self.root)}.")
        return max(ends)

    def latest_complete_month(self) -> pd.Period:
        """The latest calendar month the data covers to its last day."""
        return latest_complete_month(self.last_day())

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n} {len(df):,} rows" for n, df in self.tables.items())
        return f"Dataset({display_path(self.root)}: {sizes})"


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


def load(data: str | Path, tables: Iterable[str] | None = None, *, validate: bool = True) -> Dataset:
    """Read contract tables from a folder and check them.

    Parameters
    ----------
    data
        Folder with one file per table; relative paths start at the project root.
    tables
        Tables to read (default: every contract table). Non-optional tables that are
        missing are an error; optional ones are skipped.
    validate
        Check the tables against the contract and raise a DataError listing every
        problem when any breaks it.

    Returns
    -------
    Dataset
    """
    root = resolve_path(data)
    if not root.is_dir():
        raise DataError(f"Data folder {display_path(root)} does not exist. Run `ccinsight synth` "
                        "for the synthetic contact center, or point --data at your export folder.")
    wanted = list(tables) if tables is not None else list(contract.TABLES)
    unknown = [t for t in wanted if t not in contract.TABLES]
    if unknown:
        raise DataError(f"Unknown table(s) {', '.join(unknown)}; the contract has "
                        f"{', '.join(contract.TABLES)}.")
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    missing = []
    for name in wanted:
        path = table_file(root, name)
        if path is None:
            if not contract.TABLES[name].optional:
                missing.append(name)
            continue
        files[name] = path
        frames[name] = read_table(path, name)
    if missing:
        found = sorted(p.name for p in root.iterdir() if p.is_file())
        raise DataError(f"{display_path(root)} has no file for table(s) {', '.join(missing)} "
                        f"(expected e.g. {missing[0]}.parquet or {missing[0]}.csv); "
                        f"files found: {', '.join(found) or 'none'}.")
    sources = {n: display_path(p) for n, p in files.items()}
    typed, report = contract.validate(frames, sources)
    if validate:
        report.raise_if_failed()
    return Dataset(root=root, tables=typed, files=files, report=report)
