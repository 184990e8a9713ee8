"""``ccinsight deck --pdf``: the deck as one PDF a manager can forward by e-mail.

Headless Chromium prints the index page and each report with their print stylesheets (a
page break per analysis, figures kept whole); pypdf joins the pages into ``deck.pdf``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ccinsight.errors import OutputError, ParameterError

#: Set to a Chromium (or Chrome) executable to use that one.
BROWSER_ENV = "CCINSIGHT_CHROMIUM"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str:
    """The Chromium that prints the PDF; a clear error when there is none."""
    given = os.environ.get(BROWSER_ENV)
    found = given if given and Path(given).is_file() else next(filter(None, map(shutil.which, BROWSERS)), None)
    if not found:
        raise ParameterError("--pdf needs headless Chromium: install Debian's 'chromium' package (or Chrome), or set "
                             f"{BROWSER_ENV} to its path.")
    return found


def print_page(browser: str, page: Path, target: Path, timeout_s: int = 180) -> None:
    """Print one HTML page to ``target`` as Chromium prints it (its print stylesheet applies)."""
    command = [browser, "--headless", "--disable-gpu", "--no-pdf-header-footer", "--print-to-pdf-no-header",
               f"--print-to-pdf={target}", page.resolve().as_uri()]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run as root otherwise; the pages are our own
    try:
        subprocess.run(command, capture_output=True, timeout=timeout_s, check=True)
    except (subprocess.SubprocessError, OSError) as err:
        raise OutputError(f"Chromium ({browser}) could not print {page.name} to PDF: {err}") from None
    if not target.is_file() or target.stat().st_size == 0:
        raise OutputError(f"Chromium ({browser}) printed no PDF for {page.name}.")


def join(parts: list[Path], target: Path) -> Path:
    """Join PDFs in order into ``target`` (replaced in one step)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        writer.write(f)
    os.replace(tmp, target)
    return target


def write_deck_pdf(folder: Path, reports: list[str], browser: str | None = None) -> Path:
    """``FOLDER/deck.pdf``: the index page, then each report in ``reports`` order."""
    browser = browser or find_browser()
    pages = [folder / "index.html", *(folder / f"{name}.html" for name in reports)]
    with tempfile.TemporaryDirectory(prefix="ccinsight-pdf-") as scratch:
        parts = []
        for i, page in enumerate(p for p in pages if p.is_file()):
            part = Path(scratch) / f"{i:02d}.pdf"
            print_page(browser, page, part)
            parts.append(part)
        return join(parts, folder / "deck.pdf")
