"""deck.pdf: pages joined in order; no Chromium is a clear usage error."""
from __future__ import annotations

import pytest

from ccinsight import pdf
from ccinsight.errors import ParameterError


def _blank_pdf(path, pages: int, width: float):
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=width, height=842)
    with open(path, "wb") as f:
        writer.write(f)
    return path


def test_pages_are_joined_in_order(tmp_path):
    from pypdf import PdfReader

    parts = [_blank_pdf(tmp_path / "a.pdf", 1, 595), _blank_pdf(tmp_path / "b.pdf", 2, 600)]
    joined = PdfReader(str(pdf.join(parts, tmp_path / "deck.pdf")))
    assert [round(float(p.mediabox.width)) for p in joined.pages] == [595, 600, 600]
    assert not list(tmp_path.glob(".deck.pdf.tmp-*"))


def test_no_browser_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(pdf.BROWSER_ENV, str(tmp_path / "no-such-chromium"))
    with pytest.raises(ParameterError, match="--pdf needs headless Chromium: install Debian's 'chromium'"):
        pdf.find_browser()
