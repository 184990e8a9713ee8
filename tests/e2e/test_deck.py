"""`ccinsight deck`: params validated as a whole, a complete deck, failures that lose
nothing, a killed run that leaves no half-written deck, a Dask cluster, and the index page
in a real headless Chromium."""
from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ccinsight import deck
from ccinsight.tables import LABELLED
from ccinsight.analyses import REGISTRY
from conftest import OUTPUTS_DIR, PROJECT_ROOT, deck_params
from conftest import run_cli

pytestmark = pytest.mark.notebook
MONTH = "2026-10"
ARTIFACTS = OUTPUTS_DIR / "test-artifacts"


# --------------------------------------------------------------------------- params
def test_bad_params_exit_2_without_writing(tmp_path):
    out = tmp_path / "out"
    result = run_cli("deck", "--params", str(deck_params(tmp_path, month="2026-13")), "--out", str(out))
    assert result.code == 2 and "Traceback" not in result.text and not out.exists()


# --------------------------------------------------------------------------- a full deck
@pytest.fixture(scope="module")
def built(synthetic, tmp_path_factory):
    out = tmp_path_factory.mktemp("decks")
    result = run_cli("deck", "--out", str(out), "--jobs", "2")
    assert result.code == 0, result.text
    return out / "monthly" / MONTH, result


def test_deck_holds_every_analysis(built):
    folder, result = built
    names = {p.name for p in folder.iterdir()}
    for nb in list(REGISTRY):
        assert f"{nb}.ipynb" in names and f"{nb}.html" in names
    assert {"findings.json", "manifest.json", "index.html"} <= names
    assert f"[{len(REGISTRY)}/{len(REGISTRY)}]" in result.err  # progress display
    if not os.environ.get("CCINSIGHT_PSEUDONYM_KEY"):  # the default key is said on the terminal and in the record
        assert "CCINSIGHT_PSEUDONYM_KEY is not set" in result.err
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["pseudonym_key"] == "the built-in default key (not secret)"
    found = json.loads((folder / "findings.json").read_text())
    assert set(found) == set(list(REGISTRY))
    assert found["script_duration_vs_acceptance"]["month"] == MONTH
    assert found["attrition_survival"]["as_of"] == "2026-10-31"


class _Items(HTMLParser):
    """The text of every list item of a page, whitespace collapsed."""

    def __init__(self):
        super().__init__()
        self.items, self._depth, self._text = [], 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "li":
            self._depth += 1
            self._text = [] if self._depth == 1 else self._text

    def handle_endtag(self, tag):
        if tag == "li" and self._depth:
            self._depth -= 1
            if not self._depth:
                self.items.append(" ".join("".join(self._text).split()))

    def handle_data(self, data):
        if self._depth:
            self._text.append(data)


def _list_items(text: str) -> list[str]:
    parser = _Items()
    parser.feed(text)
    return parser.items


def _visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    import html as html_mod

    return html_mod.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_page_opens_with_a_summary_and_ends_with_the_runs(built):
    text = " ".join(_visible_text((built[0] / "index.html").read_text()).split())
    assert text.index("At a glance") < text.index("What the data covers")
    assert "No deck for the month before to compare with." in text  # the first deck of its folder
    assert " ok " not in text.split("Runs:")[0]  # no status badges above the footer when all ran
    for nb in REGISTRY:
        assert re.search(rf"Runs: .*{re.escape(REGISTRY[nb].title)} ok in [0-9.]+ s", text)


def test_no_python_repr_in_any_page(built):
    for page in sorted(built[0].glob("*.html")):
        text = _visible_text(page.read_text())
        leaks = re.findall(r"\b[A-Z]\w*(?:Result|Findings|Dataset)\(|object at 0x[0-9a-f]+", text)
        assert not leaks, f"{page.name}: {leaks[:3]}"


NUMBER = r"(?<![\w.:-])[-+]?\d[\d,.:]*%?(?: points)?"  # 4.3%, -0.20, 2:44, +3.1 points; not a date's tail
INTERVAL = rf"{NUMBER} to {NUMBER}"


def _reading(page: str) -> tuple[str, list[tuple[list[str], list[list[str]]]]]:
    """What a reader sees of a page outside the run record: its running text, and its
    tables as (header, body rows, each with the row's header cells first)."""
    import html as html_mod

    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<details class=.run-record.*?</details>", " ", page, flags=re.S)
    tables = []
    for table in re.findall(r"<table\b.*?</table>", page, flags=re.S):
        def cells(row):
            return [" ".join(html_mod.unescape(re.sub(r"<[^>]+>", " ", c)).split())
                    for _, c in re.findall(r"<(t[hd])\b[^>]*>(.*?)</\1>", row, flags=re.S)]
        head = re.search(r"<thead>(.*?)</thead>", table, flags=re.S)
        body = re.search(r"<tbody>(.*?)</tbody>", table, flags=re.S)
        rows = re.findall(r"<tr\b.*?</tr>", body.group(1) if body else table, flags=re.S)
        tables.append((cells(head.group(1)) if head else [], [cells(r) for r in rows],
                       [len(re.findall(r"<th\b", r)) for r in rows]))
    text = " ".join(_visible_text(re.sub(r"<table\b.*?</table>", " ", page, flags=re.S)).split())
    return text, tables


def test_pages_read_in_words_not_code(built):
    """The issue's scan of a full deck: outside the run record no page shows a name in code
    (a contract column, a value such as job_board, a notebook's file name), a number with more
    than three decimals, an index column, or an interval that does not say which it is (95% CI, 90% interval)."""
    problems = []
    for page in [*sorted(built[0].glob("*.html")), built[0].parent / "index.html"]:  # the archive page too
        text, tables = _reading(page.read_text())
        for inside in re.findall(r"\(([^()]*)\)", text):
            if re.search(INTERVAL, inside) and not LABELLED.search(inside):
                problems.append(f"{page.name}: unlabelled interval '({inside})'")
        for table_header, rows, row_headers in tables:
            text += " " + " ".join(table_header + [c for row in rows for c in row])
            if any(row_headers):
                problems.append(f"{page.name}: a table with an index column: {table_header[:4]}")
            for j, name in enumerate(table_header):
                column = [row[j] for row in rows if len(row) > j]
                if any(re.fullmatch(rf".+ \({INTERVAL}\)", c) for c in column) and not LABELLED.search(name):
                    problems.append(f"{page.name}: column '{name}' holds intervals its header does not label")
        problems += [f"{page.name}: name in code '{m}'" for m in sorted(set(re.findall(r"\b[a-z]+_[a-z0-9_]+\b", text)))]
        problems += [f"{page.name}: Python's '{m}'" for m in sorted(set(re.findall(r"\b(True|False|None|NaN|nan)\b", text)))]
        problems += [f"{page.name}: '{m}' has more than three decimals" for m in sorted(set(re.findall(r"\d\.\d{4,}", text)))]
    assert not problems, "\n".join(problems[:25])


def test_each_headline_is_the_same_sentence_as_in_its_report(built):
    """The deck page and the rendered notebook show one sentence per headline, word for word."""
    folder, _ = built
    index = (folder / "index.html").read_text()
    for name in REGISTRY:
        section = index.split(f"<section id='{name}'>", 1)[1].split("</section>", 1)[0]
        on_page = _list_items(section)
        assert on_page, f"no headlines for {name}"
        in_report = _list_items((folder / f"{name}.html").read_text())
        missing = [line for line in on_page if line not in in_report]
        assert missing == [], f"{name}: on the deck page but not in the report: {missing}"


def test_manifest_records_what_auditors_need(built, synthetic):
    manifest = json.loads((built[0] / "manifest.json").read_text())
    assert manifest["ccinsight"] and manifest["versions"]["python"] and manifest["host"]
    assert {n["notebook"] for n in manifest["notebooks"]} == set(list(REGISTRY))
    assert all(n["status"] == "ok" and n["duration_s"] > 0 for n in manifest["notebooks"])
    agents = next(i for i in manifest["inputs"] if i["table"] == "agents")
    import hashlib

    assert agents["sha256"] == hashlib.sha256((synthetic / "agents.parquet").read_bytes()).hexdigest()
    assert agents["rows"] == 2500




def test_index_page_in_a_real_browser(built, chromium):
    from playwright.sync_api import sync_playwright

    folder = built[0]
    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto((folder / "index.html").as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
        links = page.evaluate("Array.from(document.links).map(a => a.href)")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "deck-index.png"), full_page=True)
        browser.close()
    assert not errors, errors
    assert len(images) >= 4 and all(ok and width > 0 for ok, width in images)
    assert all(u.startswith(("file:", "data:")) for u in requests), "the page must work offline"
    files = [u for u in links if "#" not in u]  # the summary's items also link to sections of the page
    assert len(files) == 2 * len(list(REGISTRY)) + 2  # report and notebook per analysis; all months, twice
    for href in links:
        assert Path(href.removeprefix("file://").split("#")[0]).is_file(), href
    assert (ARTIFACTS / "deck-index.png").stat().st_size > 10_000


def test_every_page_reads_in_a_browser_without_serious_accessibility_problems(built, chromium):
    """axe-core on the index, the archive and every report; each report's screenshot is kept."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    folder = built[0]
    pages = [folder.parent / "index.html", *sorted(folder.glob("*.html"))]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        for path in pages:
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            found = Axe().run(page).response["violations"]
            serious = [f"{v['id']} ({len(v['nodes'])})" for v in found if v["impact"] in ("serious", "critical")]
            if serious:
                problems[path.name] = serious
            if path.parent == folder and path.name != "index.html":
                page.screenshot(path=str(ARTIFACTS / f"report-{path.stem}.png"), full_page=True)
            images = page.evaluate("Array.from(document.images).map(i => i.alt)")
            assert all(alt and alt != "Figure" for alt in images), (path.name, images)
        browser.close()
    assert not problems, problems
    assert len(list(ARTIFACTS.glob("report-*.png"))) >= len(REGISTRY)


def test_a_rerun_keeps_the_existing_deck_and_exits_0(built, tmp_path):
    """A scheduler's harmless rerun is not a failure: exit 0, the deck untouched."""
    folder = built[0]
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    result = run_cli("deck", "--out", str(folder.parent.parent))
    assert result.code == 0, result.text
    assert "kept as it is" in result.out and "--force" in result.out
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


# --------------------------------------------------------------------------- nothing lost
def _copy_deck(built, tmp_path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(built[0], out / "monthly" / MONTH)
    return out


def test_failed_notebook_keeps_the_earlier_deck(built, tmp_path):
    out = _copy_deck(built, tmp_path)
    before = (out / "monthly" / MONTH / "findings.json").read_text()
    notebooks = {"data_overview": {}, "training_vs_performance": {"metric": "sales"}, "attrition_survival": {}}
    result = run_cli("deck", "--params", str(deck_params(tmp_path, notebooks=notebooks)), "--out", str(out), "--force")
    assert result.code == 1
    assert "training_vs_performance" in result.err
    assert (out / "monthly" / MONTH / "findings.json").read_text() == before  # earlier deck intact
    failed = out / "monthly" / f"{MONTH}.failed"
    index = (failed / "index.html").read_text()
    assert "status failed" in index and "Unknown performance metric" in index
    statuses = {n["notebook"]: n["status"] for n in json.loads((failed / "manifest.json").read_text())["notebooks"]}
    assert statuses == {"data_overview": "ok", "training_vs_performance": "failed", "attrition_survival": "ok"}
    assert (failed / "training_vs_performance.ipynb").exists()  # executed copy with the error


def test_killed_run_leaves_no_half_written_deck(built, tmp_path):
    out = _copy_deck(built, tmp_path)
    deck_dir = out / "monthly" / MONTH
    before = (deck_dir / "findings.json").read_text()
    proc = subprocess.Popen([sys.executable, "-m", "ccinsight", "deck", "--out", str(out), "--force"],
                            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 120
    tmp_dirs = []
    while time.time() < deadline:  # wait until the run is writing its temporary deck
        tmp_dirs = list((out / "monthly").glob(f".{MONTH}.tmp-*/.work/*/*"))
        if tmp_dirs:
            break
        time.sleep(0.5)
    assert tmp_dirs, "the deck run never started writing"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert (deck_dir / "findings.json").read_text() == before
    visible = sorted(p.name for p in (out / "monthly").iterdir() if not p.name.startswith("."))
    assert visible == [MONTH]
    assert list((out / "monthly").glob(f".{MONTH}.tmp-*")), "the killed run left its temporary deck"
    # the system released the killed run's lock: the next run does not wait, and clears the leftovers
    result = run_cli("deck", "--out", str(out))
    assert result.code == 0, result.text
    assert "waiting" not in result.err and "kept as it is" in result.out
    assert not list((out / "monthly").glob(".*.tmp-*"))
    assert (deck_dir / "findings.json").read_text() == before


def test_pdf_holds_the_index_and_every_report(small_data, tmp_path, chromium):
    from pypdf import PdfReader

    notebooks = {"data_overview": {}, "attrition_survival": {}}
    out = tmp_path / "out"
    result = run_cli("deck", "--params", str(deck_params(tmp_path, data=str(small_data), notebooks=notebooks)),
                     "--out", str(out), "--pdf", env={"CCINSIGHT_CHROMIUM": chromium})
    assert result.code == 0, result.text
    folder = out / "monthly" / MONTH
    reader = PdfReader(str(folder / "deck.pdf"))
    # as text: ligatures (ﬀ) undone, words hyphenated at a line end joined again
    pages = [" ".join(unicodedata.normalize("NFKC", p.extract_text()).split()).replace("- ", "-")
             for p in reader.pages]
    assert len(pages) >= 1 + len(notebooks)  # the index, then each report from a new page
    assert pages[0].startswith(f"Contact-center insight deck: {MONTH}")
    text = " ".join(pages)
    found = json.loads((folder / "findings.json").read_text())
    for nb in notebooks:
        assert REGISTRY[nb].title in text
        for line in deck.headlines(nb, found[nb]):
            assert line[:60].replace("- ", "-") in text, line  # the headlines a manager forwards are in the PDF


def _deck(params: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ccinsight", "deck", "--params", str(params), "--out", str(out)],
                            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_run_waits_while_another_holds_the_months_lock(small_data, tmp_path):
    from filelock import FileLock

    out = tmp_path / "out"
    (out / "monthly").mkdir(parents=True)
    lock = FileLock(out / "monthly" / f".{MONTH}.lock")  # what a run building the month holds
    lock.acquire()
    try:
        run = _deck(deck_params(tmp_path, data=str(small_data), notebooks={"data_overview": {}}), out)
        waiting = ""
        while run.poll() is None and "waiting" not in waiting:
            waiting += run.stderr.readline()
        assert "Another ccinsight run is writing the monthly deck for 2026-10" in waiting
        time.sleep(2)
        assert run.poll() is None and not (out / "monthly" / MONTH).exists()  # it waits, writing nothing
    finally:
        lock.release()
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stdout + stderr
    assert (out / "monthly" / MONTH / "index.html").exists()


def test_two_runs_for_the_same_month_at_once_build_one_deck(small_data, tmp_path):
    out = tmp_path / "out"
    params = deck_params(tmp_path, data=str(small_data), notebooks={"data_overview": {}})
    runs = [_deck(params, out), _deck(params, out)]
    outputs = [r.communicate(timeout=300) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    said = sorted("written" if "deck written" in o else "kept" if "kept as it is" in o else o for o, _ in outputs)
    assert said == ["kept", "written"]  # one built it, the other found it in place and left it alone
    assert sorted(p.name for p in (out / "monthly").iterdir() if not p.name.startswith(".")) == [MONTH, "index.html"]
    assert not list((out / "monthly").glob(".*.tmp-*"))


# --------------------------------------------------------------------------- scale-out
def test_backfill_and_previous_month_arrows(synthetic, tmp_path):
    notebooks = {"data_overview": {}, "attrition_survival": {}}
    result = run_cli("deck", "--params", str(deck_params(tmp_path, notebooks=notebooks)), "--out", str(tmp_path / "o"),
                     "--months", "2026-09:2026-10", "--jobs", "2")
    assert result.code == 0, result.text
    for m in ("2026-09", "2026-10"):
        assert (tmp_path / "o" / "monthly" / m / "index.html").exists()
    index = (tmp_path / "o" / "monthly" / "2026-10" / "index.html").read_text()
    assert "Since 2026-09" in index and "90-day attrition" in index
    sept = json.loads((tmp_path / "o" / "monthly" / "2026-09" / "findings.json").read_text())
    assert sept["attrition_survival"]["as_of"] == "2026-09-30"
    # the archive lists both months and each month's 90-day attrition as its own deck recorded it
    archive = _visible_text((tmp_path / "o" / "monthly" / "index.html").read_text())
    assert "2 month(s), newest first: 2026-10 · 2026-09" in " ".join(archive.split())
    for m in ("2026-09", "2026-10"):
        est = json.loads((tmp_path / "o" / "monthly" / m / "findings.json").read_text())["attrition_survival"][
            "attrition_90d"]
        shown = f"{m} {100 * est['value']:.1f}% ({100 * est['low']:.1f}% to {100 * est['high']:.1f}%) {est['n']:,}"
        assert shown in " ".join(archive.split())


def test_dask_cluster_runs_the_same_deck(synthetic, tmp_path):
    from dask.distributed import LocalCluster

    notebooks = {"data_overview": {}, "training_vs_performance": {}}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = run_cli("deck", "--params", str(deck_params(tmp_path, notebooks=notebooks)), "--out",
                         str(tmp_path / "o"), "--scheduler", cluster.scheduler_address)
    assert result.code == 0, result.text
    found = json.loads((tmp_path / "o" / "monthly" / MONTH / "findings.json").read_text())
    assert set(found) == {"data_overview", "training_vs_performance"}
    assert found["data_overview"]["n_hires"] == 2500


# --------------------------------------------------------------------------- privacy and determinism
_IMAGES = re.compile(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=\\n]+|\"image/png\": \"[A-Za-z0-9+/=\\n]+\"")


def test_no_agent_id_or_name_in_any_deck_output(built, tables):
    """Every file of a full deck: executed notebooks, reviewer pages, index, findings,
    manifest. Image payloads are left out of the scan (base64 text can spell anything)."""
    folder, _ = built
    agents = tables["agents"]
    ids, names = set(agents["agent_id"]), set(agents["agent_name"])
    assert len(ids) == len(names) == len(agents) > 2000
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".html", ".ipynb", ".json"}
    leaks = []
    for path in files:
        text = _IMAGES.sub("", path.read_text(encoding="utf-8"))
        leaks += [(path.name, x) for x in set(re.findall(r"A1\d{4}", text)) & ids]
        leaks += [(path.name, n) for n in names if n in text]
    assert leaks == []
    # the one table that lists people shows pseudonyms, and says how they are made
    page = (folder / "training_vs_performance.html").read_text()
    assert re.search(r"agent-[0-9a-f]{8}", page) and "keyed hash" in page


def test_pseudonyms_are_keyed_hashes(monkeypatch, capsys):
    import hashlib
    import hmac

    from ccinsight.privacy import KEY_ENV, pseudonymise

    ids = pd.Series(["A10001", "A10002", "A10001", None])
    monkeypatch.setenv(KEY_ENV, "s3cret")
    got = pseudonymise(ids)
    want = "agent-" + hmac.new(b"s3cret", b"A10001", hashlib.sha256).hexdigest()[:8]
    assert got[0] == got[2] == want and got[1] != got[0] and pd.isna(got[3])
    assert capsys.readouterr().err == ""
    monkeypatch.delenv(KEY_ENV)
    assert pseudonymise(ids)[0] != want  # another key, another pseudonym
    assert f"{KEY_ENV} is not set" in capsys.readouterr().err  # and a clear warning


def test_same_inputs_give_byte_identical_findings(synthetic, tmp_path):
    """The notebooks with randomness (a seeded permutation test) and the most arithmetic."""
    params = tmp_path / "deck.yaml"
    base = yaml.safe_load((PROJECT_ROOT / "params" / "monthly.yaml").read_text())
    base["notebooks"] = {k: v for k, v in base["notebooks"].items()
                         if k in ("attrition_survival", "training_vs_performance")}
    params.write_text(yaml.safe_dump(base))
    runs = []
    for name in ("first", "second"):
        result = run_cli("deck", "--params", str(params), "--out", str(tmp_path / name), "--month", MONTH)
        assert result.code == 0, result.text
        runs.append((tmp_path / name / "monthly" / MONTH / "findings.json").read_bytes())
    assert runs[0] == runs[1]
    found = json.loads(runs[0])
    assert found["attrition_survival"]["clustered_exit_p"] is not None  # the seeded permutation test ran


# --------------------------------------------------------------------------- unchanged work skipped
def test_an_unchanged_rerun_is_skipped_and_a_changed_notebook_alone_reruns(small_data, tmp_path):
    out, data = tmp_path / "out", tmp_path / "data"
    shutil.copytree(small_data, data)
    params = deck_params(tmp_path, data=str(data), notebooks={"data_overview": {}, "attrition_survival": {}})
    assert run_cli("deck", "--params", str(params), "--out", str(out)).code == 0
    folder = out / "monthly" / MONTH
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    again = run_cli("deck", "--params", str(params), "--out", str(out))
    assert again.code == 0 and "up to date" in again.out and "kept as it is" in again.out, again.text
    assert "running" not in again.err and "[1/" not in again.err  # no notebook ran
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    overview_html = (folder / "data_overview.html").read_bytes()
    # one notebook's parameter changes: only it runs again, the other's outputs are carried over
    params = deck_params(tmp_path, data=str(data),
                         notebooks={"data_overview": {}, "attrition_survival": {"window_months": 12}})
    third = run_cli("deck", "--params", str(params), "--out", str(out))
    assert third.code == 0 and "1 of 2 notebooks reused" in third.out, third.text
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {n["notebook"]: n["reused"] for n in manifest["notebooks"]} == {"data_overview": True,
                                                                         "attrition_survival": False}
    assert (folder / "data_overview.html").read_bytes() == overview_html
    found = json.loads((folder / "findings.json").read_text())
    assert found["attrition_survival"]["window_start"] == "2025-11-01" and found["data_overview"]
    # a table both read changes in place (same path): both run again; --force reruns everything
    agents = pd.read_parquet(data / "agents.parquet")
    agents.loc[0, "site"] = next(s for s in agents["site"].unique() if s != agents.loc[0, "site"])
    agents.to_parquet(data / "agents.parquet", index=False)
    fourth = run_cli("deck", "--params", str(params), "--out", str(out))
    assert fourth.code == 0 and "reused" not in fourth.out and "deck written" in fourth.out, fourth.text
    forced = run_cli("deck", "--params", str(params), "--out", str(out), "--force")
    assert forced.code == 0
    assert not any(n["reused"] for n in json.loads((folder / "manifest.json").read_text())["notebooks"])
