"""Fixed text says no more than the analyses can support: no causal claim in the notebooks'
narrative or the analyses' sentences (issue: statistics that say no more than the data show)."""
from __future__ import annotations

import json
import re

import pytest
from conftest import PROJECT_ROOT

#: Phrases that assert a cause, a recommendation from an outcome, or a verdict the tests do not back.
CLAIMS = [r"won or lost", r"pull(s)? classmates out", r"cleaner evidence", r"did the mentoring programme work",
          r"fix it\?", r"keep the script under", r"\bcaused? by\b", r"\bleads? to\b", r"\bbecause of\b",
          r"fix or stop", r"\bproves?\b(?! that shorter)"]

# the synthetic generator is left out: it plants causes on purpose, and says so
TEXTS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb")) + sorted(
    p for p in (PROJECT_ROOT / "ccinsight").rglob("*.py") if p.name != "synth.py") \
    + sorted(p for p in (PROJECT_ROOT / "ccinsight" / "templates").rglob("*") if p.is_file())


def _text(path):
    if path.suffix == ".ipynb":
        return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
    return path.read_text()


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_no_causal_claim(path):
    text = _text(path)
    found = [m.group(0) for pattern in CLAIMS for m in re.finditer(pattern, text, flags=re.I)]
    assert not found, f"{path.name}: {found}"
