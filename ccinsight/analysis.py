"""What an analysis is, for the registry (:mod:`ccinsight.analyses`): its name, the question
it answers, its notebook, its findings class and the tables it reads.

The deck, the CLI (``ccinsight list``), the docs and the tests iterate the registry; each
analysis module declares its own entry as ``ANALYSIS``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ccinsight.config import notebooks_dir
from ccinsight.findings import Findings, Tracked

#: Parameters every analysis notebook takes, set once for a whole deck.
SHARED_PARAMETERS = ("data", "sources", "labels", "month", "min_cell_size")


@dataclass(frozen=True)
class Analysis:
    """One analysis: a module in ``ccinsight/analyses/``, a notebook, a findings class."""

    name: str  # the notebook's name, and the analysis' section in params files and findings.json
    title: str  # the question as the deck page heads it
    question: str  # one sentence: what it answers
    findings: type[Findings]
    tables: tuple[str, ...]  # contract tables it needs
    optional_tables: tuple[str, ...] = ()  # tables it uses when present

    @property
    def notebook(self) -> Path:
        return notebooks_dir() / f"{self.name}.ipynb"

    @property
    def tracked(self) -> tuple[Tracked, ...]:
        return self.findings.tracked
