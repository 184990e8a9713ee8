"""What the loaded data covers: months, sites, hires, calls, missing values.

Backs ``notebooks/data_overview.ipynb`` and the summary printed by ``ccinsight validate``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ccinsight import contract, wording
from ccinsight.analysis import Analysis
from ccinsight.config import MIN_CELL_SIZE
from ccinsight.data import Dataset
from ccinsight.findings import Findings, fact
from ccinsight.findings import markdown_text as md
from ccinsight.labels import Labels
from ccinsight.plotting import new_axes
from ccinsight.privacy import pool_small


@dataclass(frozen=True)
class OverviewFindings(Findings):
    """What the data covers at the end of the analysis month."""

    month: str = fact("the analysis month: the data as it stood at its end", "month")
    first_data_month: str = fact("the first month with any record", "month")
    n_sites: int = fact("sites with hires", "count")
    sites: list = fact("sites with at least min_cell_size hires; smaller ones pooled as 'other'", "list")
    n_cohorts: int = fact("training classes (cohort_id values)", "count")
    n_hires: int = fact("hires up to the month's end", "count")
    n_exits: int = fact("exits up to the month's end", "count")
    n_calls: int = fact("connected outbound calls up to the month's end", "count")
    n_performance_rows: int = fact("agent-months of performance up to the month", "count")
    columns_with_missing: int = fact("columns with at least one empty value", "count")

    def headlines(self) -> list[str]:
        return [f"{wording.count(self.n_hires)} hires ({wording.count(self.n_exits)} exits) in "
                f"{wording.count(self.n_cohorts)} training classes at {self.n_sites} sites; "
                f"{wording.count(self.n_calls)} outbound calls; months {self.first_data_month} to {self.month}."]

    def details(self) -> list[str]:
        return [f"- Sites: {md(', '.join(self.names.value('site', s) for s in self.sites)) or 'none'}; {self.columns_with_missing} columns have empty "
                "values (listed below)."]


@dataclass(frozen=True)
class Overview:
    """Coverage of one data set, per table and per month."""

    tables: pd.DataFrame  # table, rows, columns, first, last
    monthly: pd.DataFrame  # month -> hires, exits, headcount, calls
    missing: pd.DataFrame  # table, column, missing, missing_pct
    sites: tuple[str, ...]
    n_sites: int
    n_cohorts: int
    month: pd.Period
    names: Labels = field(default_factory=Labels)

    @property
    def first_month(self) -> pd.Period:
        return self.monthly.index.min()

    def summary(self) -> pd.DataFrame:
        """One row per table: rows, columns and the dates it spans."""
        return self.tables

    def missing_values(self) -> pd.DataFrame:
        """Columns with at least one empty value, most empty first."""
        out = self.missing[self.missing["missing"] > 0]
        return out.sort_values("missing_pct", ascending=False, kind="stable").set_index(["table", "column"])

    def missing_values_table(self):
        """:meth:`missing_values` as a reviewer reads them (counts with separators, shares as percentages)."""
        from ccinsight.tables import shown

        table = self.missing_values().reset_index()
        table["table"] = table["table"].str.replace("_", " ")
        table["column"] = [self.names.column(c) for c in table["column"]]
        table["missing_share"] = table["missing_pct"] / 100
        return shown(table.drop(columns="missing_pct"), empty="No column has an empty value.",
                     units={"missing_share": "share"},
                     labels={"missing": "empty values", "missing_share": "share of rows"})

    def text(self) -> str:
        """The headline, for the terminal."""
        return " ".join(self.findings().headlines())

    def findings(self) -> OverviewFindings:
        rows = self.tables.set_index("table")["rows"]
        return OverviewFindings(
            month=str(self.month), first_data_month=str(self.first_month), n_sites=self.n_sites, sites=list(self.sites),
            n_cohorts=self.n_cohorts, n_hires=int(rows.get("agents", 0)), n_exits=int(self.monthly["exits"].sum()),
            n_calls=int(rows.get("outbound_calls", 0)), n_performance_rows=int(rows.get("performance", 0)),
            columns_with_missing=int((self.missing["missing"] > 0).sum()), labels=self.names.to_json())

    def plot(self, ax=None, **kwargs):
        """Hires and exits per month (bars side by side) with outbound calls per month (line,
        right axis); both axes start at zero."""
        ax = new_axes(ax, figsize=(9, 3.5))
        x = self.monthly.index.to_timestamp()
        half = pd.Timedelta(days=6)
        ax.bar(x - half, self.monthly["hires"], width=12, label="hires", **kwargs)
        ax.bar(x + half, self.monthly["exits"], width=12, label="exits", alpha=0.8)
        ax.set_ylabel("agents per month")
        ax.set_ylim(bottom=0)
        right = ax.twinx()
        right.plot(x, self.monthly["calls"] / 1000, color="0.25", lw=1.5, label="outbound calls (right axis)")
        right.set_ylabel("outbound calls (thousands)")
        right.set_ylim(bottom=0)
        right.grid(False)
        lines = ax.get_legend_handles_labels()
        more = right.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", frameon=False, ncols=3)
        ax.set_title("Hires, exits and outbound calls per month")
        return ax

    def _repr_html_(self) -> str:
        from ccinsight.tables import reviewer_html

        return reviewer_html(self.tables.assign(table=self.tables["table"].str.replace("_", " ")),
                             labels={"first": "first date", "last": "last date"})


def _span(df: pd.DataFrame, table: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    cols = [f.name for f in contract.TABLES[table].fields
            if f.dtype in ("date", "datetime", "month") and f.name in df]
    if not cols or df.empty:
        return None, None
    stacked = pd.concat([df[c] for c in cols]).dropna()
    return (stacked.min(), stacked.max()) if len(stacked) else (None, None)


def describe(ds: Dataset, min_cell_size: int = MIN_CELL_SIZE) -> Overview:
    """Summarise what a loaded data set covers (sites with fewer hires than
    ``min_cell_size`` are named only as 'other')."""
    rows, missing = [], []
    for name, df in ds.tables.items():
        first, last = _span(df, name)
        rows.append({"table": name, "rows": len(df), "columns": df.shape[1],
                     "first": first.date() if first is not None else None,
                     "last": last.date() if last is not None else None})
        for col in df.columns:
            n = int(df[col].isna().sum())
            missing.append({"table": name, "column": col, "missing": n,
                            "missing_pct": round(100 * n / len(df), 1) if len(df) else 0.0})
    for name, held in ds.held.items():  # large tables, counted while they were checked
        rows.append({"table": name, "rows": held.rows, "columns": len(held.columns),
                     "first": held.first.date() if held.first is not None else None,
                     "last": held.last.date() if held.last is not None else None})
        for col, n in held.missing().items():
            missing.append({"table": name, "column": col, "missing": int(n),
                            "missing_pct": round(100 * n / held.rows, 1) if held.rows else 0.0})
    order = {n: i for i, n in enumerate(contract.TABLES)}
    rows.sort(key=lambda r: order[r["table"]])
    missing.sort(key=lambda r: order[r["table"]])
    agents = ds["agents"]
    first = min(r["first"] for r in rows if r["first"] is not None)
    months = pd.period_range(pd.Timestamp(first).to_period("M"), ds.period, freq="M")
    monthly = pd.DataFrame(index=months)
    monthly["hires"] = agents["hire_date"].dt.to_period("M").value_counts().reindex(months, fill_value=0)
    monthly["exits"] = agents["exit_date"].dropna().dt.to_period("M").value_counts().reindex(months, fill_value=0)
    monthly["headcount"] = (monthly["hires"] - monthly["exits"]).cumsum()
    if "outbound_calls" in ds.held:
        monthly["calls"] = ds.held["outbound_calls"].per_month().reindex(months, fill_value=0)
    elif "outbound_calls" in ds.tables:
        calls = ds.tables["outbound_calls"]
        monthly["calls"] = calls["started_at"].dt.to_period("M").value_counts().reindex(months, fill_value=0)
    else:
        monthly["calls"] = 0
    monthly.index.name = "month"
    sites, _ = pool_small(agents["site"].dropna().astype(str), min_cell_size)
    return Overview(
        tables=pd.DataFrame(rows), monthly=monthly, missing=pd.DataFrame(missing),
        sites=tuple(sorted(sites.unique())), n_sites=int(agents["site"].nunique()),
        n_cohorts=int(agents["cohort_id"].nunique()), month=ds.period, names=ds.labels,
    )


ANALYSIS = Analysis(
    name="data_overview", title="What the data covers",
    question="What does the data cover (months, sites, hires, calls, empty values)?",
    findings=OverviewFindings, tables=("agents", "training", "performance", "outbound_calls"),
    optional_tables=("channels",))
