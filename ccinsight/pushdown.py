"""The call table of a mapped source, mapped and aggregated where it lies.

A warehouse, or a folder of dialler exports, may hold more calls than memory; the data
overview needs calls and empty values per day, the script analysis counts per month, hour,
script version, talk-time second and refusal reason. When ``sources.outbound_calls`` is a
SQL database (``url``), or CSV / Parquet files (``file``, a glob too), and its mapping uses
only ``columns``, ``values``, ``units`` (seconds, minutes, hours), ``outcome``,
``constants``, ``filter`` and ``row_id``, the mapping is written as SQL (SQLAlchemy Core):
the database, or DuckDB over the files, runs it and the aggregation, and only aggregate
rows come back. The mapping means what it means when a table is read whole: the same value
matching (trimmed, any case, yes/no words), the filter on the export's own columns with a
missing value never passing a comparison, unmapped values reported with counts and
examples. Other mappings (``date_format``, ``date_parts``, ``tenure``, mm:ss text, Excel,
other encodings) are read whole as before (:func:`not_pushed` says why).

Checked where the calls lie, in the contract's words: empty values in required columns,
accepted / converted values that are not true/false, talk times not above 0 s or above
2 hours, calls converted although not accepted, values with no mapping, call ids that come
twice. Unknown agents and calls in the future need the rows and are not checked; a value
the database cannot read as a number or date-time stops the run with its message.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

from ccinsight import contract, filters
from ccinsight.errors import ParameterError, examples
from ccinsight.readers import check_select, duckdb_files_connection, sql_connection
from ccinsight.sources import as_list, bool_words

#: Mapping keys a pushed-down source may use.
PUSHED_KEYS = frozenset({"url", "table", "query", "file", "sep", "encoding", "skip_rows", "columns", "values", "units",
                         "outcome", "constants", "filter", "row_id"})
#: The contract's call columns, mapped in the database.
CALL_COLUMNS = ("call_id", "agent_id", "campaign", "script_version", "started_at", "talk_time_s", "accepted",
                "converted", "refusal_reason")
SECONDS = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0}


def not_pushed(src) -> str | None:
    """Why a source's calls cannot be aggregated where they lie (None: they can)."""
    if src.kind not in ("sql", "csv", "parquet"):
        return f"DuckDB does not read {src.kind} files"
    if src.kind == "csv" and str(src.get("encoding") or "utf-8").lower().replace("_", "-") not in ("utf-8", "utf8"):
        return f"DuckDB reads UTF-8 text, not {src.get('encoding')}"
    other = sorted(set(src.spec) - PUSHED_KEYS)
    if other:
        return f"its mapping uses {', '.join(other)}"
    units = {k: v for k, v in (src.get("units") or {}).items() if v not in SECONDS}
    if units:
        return f"it converts {', '.join(map(str, units))} from {', '.join(map(str, units.values()))}"
    return None


def pushed_calls(parsed: dict) -> "PushedCalls | None":
    """The parsed sources' call table, to be mapped, checked and counted where it lies; None
    when there is none or it must be read whole (:func:`not_pushed`)."""
    src = parsed.get("outbound_calls")
    return PushedCalls(src) if src is not None and not_pushed(src) is None else None


@dataclass
class PushedCalls:
    """A source of ``outbound_calls`` (a database, or files DuckDB reads) that is mapped,
    checked and aggregated where it lies."""

    src: Any  # ccinsight.sources.Source
    checked: bool = False

    def run(self, build: Callable) -> pd.DataFrame:
        """Map the export (checking it the first time: a DataError lists any problem) and
        run ``build(columns)``, a SQLAlchemy select over the mapped relation's contract
        columns, where the calls lie."""
        if not self.checked:
            report = contract.ValidationReport()
            self.check(report)
            report.raise_if_failed()
        with self._connection() as (con, relation):
            mapped, _ = self._mapped(con, relation)
            result = con.execute(build(mapped.c))
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    def check(self, report: contract.ValidationReport) -> None:
        """Add the mapping's and the calls' problems to ``report`` (one pass where they lie)."""
        with self._connection() as (con, relation):
            try:
                mapped, checks = self._mapped(con, relation)
            except _Unmapped as err:
                report.merge(err.report)
                return
            self._check(con, mapped, checks, report)
        self.checked = True

    @contextmanager
    def _connection(self):
        """The database's connection (a SQL source), or DuckDB's over the files, with the
        SQL that reads the files (None for a database)."""
        if self.src.kind == "sql":
            with sql_connection(self.src) as con:
                yield con, None
        else:
            with duckdb_files_connection(self.src) as (con, relation):
                yield con, relation

    # ------------------------------------------------------------------ the mapping in SQL
    def _export(self, con, relation: str | None):
        """The export as a selectable with its columns, and its column names stripped -> as written."""
        import sqlalchemy as sa

        src = self.src
        query = f"SELECT * FROM {relation}" if relation else src.get("query")
        if query:
            body = sa.text(query if relation else check_select(query, f"{src.where}.query"))
            probe = sa.select(sa.literal_column("*")).select_from(body.columns().subquery("export")).limit(0)
        else:
            probe = sa.select(sa.literal_column("*")).select_from(sa.table(str(src.get("table")))).limit(0)
        names = list(con.execute(probe).keys())
        if query:
            export = body.columns(*[sa.column(n) for n in names]).subquery("export")
        else:
            export = sa.table(str(src.get("table")), *[sa.column(n) for n in names]).alias("export")
        return export, {str(n).strip(): n for n in names}

    def _mapped(self, con, relation: str | None):
        """The mapped relation (a subquery with the contract's call columns) and the
        problems to count there: (contract column, rule, condition), the condition a SQL
        expression, or the name of a column holding the offending export values."""
        import sqlalchemy as sa

        src = self.src
        export, names = self._export(con, relation)
        report = contract.ValidationReport()
        renamed = src.renamed()
        units = {str(k): SECONDS[v] for k, v in (src.get("units") or {}).items()}

        def raw(name: str, contract_column: str | None = None):
            if name in names:
                return export.c[names[name]]
            near = contract.closest(name, list(names))
            hint = f"; did you mean '{near}'?" if near else ""
            if contract_column is None:
                raise ParameterError(f"{src.where}.filter: the filter names column '{name}', which the source does "
                                     f"not have; columns found: {', '.join(list(names)[:25])}.")
            report.add(src.table, contract_column, f"mapped to column '{name}', which the source does not have{hint} "
                       f"Columns found: {', '.join(list(names)[:25])}", 0, source=src.label)
            return sa.null()

        def text(e):
            return sa.func.trim(sa.cast(e, sa.String))

        def key(e):
            return sa.func.lower(text(e))

        def in_seconds(name: str):  # a filter compares a column with units in seconds, as for a file
            col = raw(name)
            for contract_column, factor in units.items():
                if renamed.get(contract_column, contract_column) == name:
                    return sa.cast(col, sa.Float) * factor
            return col

        checks = []
        outcome = src.get("outcome") or {}
        constants = src.get("constants") or {}
        values = src.get("values") or {}
        columns = {}
        for name in CALL_COLUMNS:
            field = contract.TABLES["outbound_calls"].field(name)
            if name in constants:
                columns[name] = sa.literal(constants[name])
                continue
            if name == src.get("row_id"):  # numbered rows: never empty, and not needed for counting
                columns[name] = sa.literal(1)
                continue
            if outcome and name in ("accepted", "converted"):
                col = raw(str(outcome["column"]), "accepted")
                wanted = [w for v in as_list(outcome.get(name)) for w in bool_words(v)]
                columns[name] = (sa.case((key(col).in_(wanted), sa.true()), else_=sa.false()) if wanted or
                                 name == "accepted" else sa.null())
                continue
            if outcome and name == "refusal_reason" and name not in renamed and name not in names:
                col = raw(str(outcome["column"]), "accepted")
                accepted = [w for v in as_list(outcome.get("accepted")) for w in bool_words(v)]
                columns[name] = sa.case((key(col).in_(accepted), sa.null()), else_=text(col))
                continue
            column = renamed.get(name, name)
            if column not in names:
                if name in renamed or field.required:
                    raw(column, name)  # reported with the closest match
                columns[name] = sa.null()
                continue
            col = raw(column, name)
            if name in values:
                mapping = values[name] or {}
                lookup = {w: v for k, v in mapping.items() if k != "*" for w in bool_words(k)}
                cases = [(key(col) == w, sa.literal(v)) for w, v in lookup.items()]
                default = sa.literal(mapping["*"]) if "*" in mapping else sa.null()
                if "*" not in mapping:  # the export's values the mapping misses, in a column of their own
                    columns[f"unmapped_{name}"] = sa.case(
                        (sa.and_(col.isnot(None), key(col).notin_(list(lookup) or [""])), text(col)), else_=sa.null())
                    checks.append((name, f"values of column '{column}' with no entry under values.{name} (add them, "
                                   "or '*' for every other value)", f"unmapped_{name}"))
                col = sa.case(*cases, else_=default) if cases else default
            if field.dtype == "bool":
                words = sorted(contract.TRUE_WORDS | contract.FALSE_WORDS)
                columns[f"odd_{name}"] = sa.case((sa.and_(col.isnot(None), key(col).notin_(words)), text(col)),
                                                 else_=sa.null())
                checks.append((name, contract.TYPE_WORDS["bool"], f"odd_{name}"))
                col = sa.case((key(col).in_(sorted(contract.TRUE_WORDS)), sa.true()),
                              (key(col).in_(sorted(contract.FALSE_WORDS)), sa.false()), else_=sa.null())
            elif field.dtype == "datetime":  # SQLite keeps date-times as text, and CAST makes a number of it
                col = (sa.type_coerce if con.dialect.name == "sqlite" else sa.cast)(col, sa.DateTime)
            elif field.dtype == "float":
                col = sa.cast(col, sa.Float) * units.get(name, 1.0)
            else:
                col = text(col)
            columns[name] = col
        if not report.ok:
            raise _Unmapped(report)
        talk = columns["talk_time_s"]
        columns["range_talk_time_s"] = sa.case((sa.or_(talk <= 0, talk > contract.MAX_TALK_S), talk), else_=sa.null())
        query = sa.select(*[c.label(n) for n, c in columns.items()]).select_from(export)
        if src.get("filter"):
            query = query.where(filters.to_sql(src.get("filter"), f"{src.where}.filter", in_seconds))
        mapped = query.subquery("calls")
        c = mapped.c
        for f in contract.TABLES["outbound_calls"].fields:  # as the contract checks a table read whole
            if not f.nullable and f.name not in constants and f.name != src.get("row_id"):
                # values already reported as unmapped or unreadable are not counted again as empty
                told = [c[k].is_(None) for k in (f"unmapped_{f.name}", f"odd_{f.name}") if k in columns]
                checks.append((f.name, contract.CHECK_WORDS["not_nullable"], sa.and_(c[f.name].is_(None), *told)))
        checks += [("talk_time_s", contract.positive_rule(contract.MAX_TALK_S), "range_talk_time_s"),
                   ("converted", "calls converted although not accepted",
                    sa.and_(c.converted == sa.true(), c.accepted == sa.false()))]
        return mapped, checks

    def by_day(self) -> pd.DataFrame:
        """Calls and empty values of each contract column per day of ``started_at``, as
        :class:`ccinsight.data.Held` keeps them for a file."""
        import sqlalchemy as sa

        def build(c):
            days = [sa.extract(part, c.started_at).label(part) for part in ("year", "month", "day")]
            nulls = [sa.func.sum(sa.case((c[n].is_(None), 1), else_=0)).label(n) for n in CALL_COLUMNS]
            return sa.select(*days, sa.func.count().label("rows"), *nulls).where(c.started_at.isnot(None)) \
                .group_by(*days)

        counts = self.run(build)
        day = pd.to_datetime(pd.DataFrame({p: pd.to_numeric(counts.pop(p)).astype("int64")
                                           for p in ("year", "month", "day")})) if len(counts) else \
            pd.DatetimeIndex([])
        counts.index = pd.DatetimeIndex(day)
        return counts.apply(pd.to_numeric).astype("int64").sort_index()

    def _check(self, con, mapped, checks, report: contract.ValidationReport) -> None:
        """Count every problem in one pass where the calls lie, with a small query for the
        examples of each column's unmapped values, and one for call ids that come twice."""
        import sqlalchemy as sa

        def bad(cond):
            return mapped.c[cond].isnot(None) if isinstance(cond, str) else cond

        counts = con.execute(sa.select(*[sa.func.coalesce(sa.func.sum(sa.case((bad(cond), 1), else_=0)), 0)
                                         for _, _, cond in checks]).select_from(mapped)).one()
        for (name, rule, cond), n in zip(checks, counts):
            if not n:
                continue
            shown = ""
            if isinstance(cond, str) and cond.startswith("unmapped_"):  # the most frequent ones, as for a file
                value = mapped.c[cond]
                top = con.execute(sa.select(value, sa.func.count()).where(value.isnot(None)).group_by(value)
                                  .order_by(sa.func.count().desc(), value).limit(8)).fetchall()
                shown = ", ".join(f"{v!r} ({k} rows)" for v, k in top)
            elif isinstance(cond, str):
                value = mapped.c[cond]
                some = con.execute(sa.select(value).where(value.isnot(None)).distinct().order_by(value).limit(5))
                shown = examples(pd.Series(list(some.scalars())))
            report.add("outbound_calls", name, rule, int(n), shown, self.src.label)
        if self.src.get("row_id") != "call_id" and "call_id" not in (self.src.get("constants") or {}):
            ids = mapped.c.call_id
            twice = sa.select(ids, sa.func.count().label("n")).where(ids.isnot(None)).group_by(ids) \
                .having(sa.func.count() > 1).subquery("twice")
            n = con.execute(sa.select(sa.func.coalesce(sa.func.sum(twice.c.n), 0))).scalar()
            if n:
                some = con.execute(sa.select(twice.c.call_id).order_by(twice.c.call_id).limit(5)).scalars()
                report.add("outbound_calls", "call_id", contract.CHECK_WORDS["field_uniqueness"], int(n),
                           examples(pd.Series(list(some))), self.src.label)
        rows = report.rows["outbound_calls"] = int(con.execute(sa.select(sa.func.count()).select_from(mapped)).scalar())
        if rows == 0:
            report.add("outbound_calls", None, "the table has no rows", 0, source=self.src.label)


class _Unmapped(Exception):
    """The mapping names columns the export lacks: reported, and nothing to count."""

    def __init__(self, report: contract.ValidationReport):
        super().__init__(str(report))
        self.report = report
