"""The HTML report as a reader sees it: rendered by headless Chromium (Debian's ``chromium``, driven by playwright).

One small seeded report is built and opened once at a 1200 px wide viewport; the tests read what the browser
laid out. Without Chromium or playwright the tests skip, unless ``EXTENT_REQUIRE_BROWSER=1`` (CI), when they fail.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
from typer.testing import CliRunner

from extent.cli.main import app

pytestmark = [pytest.mark.browser, pytest.mark.sampling]

WIDTH = 1200
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# A number as the report prints it: 1,493, 0.7, 98.1%; a numeric cell is numbers joined by these words only.
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?%?")
CONNECTIVES = {"to", "of", "about", "exact", "points"}
PLACEHOLDERS = {"", "[c]", "n/a"}  # suppressed, missing: no alignment asked of them

# Each cell: its text, tag, column header, computed alignment, rendered width and number of laid-out lines.
CELLS_JS = """() => [...document.querySelectorAll('td, th')].map(c => {
  const r = document.createRange(); r.selectNodeContents(c);
  const lines = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top))).size;
  const head = c.closest('table').rows[0].cells[c.cellIndex];
  return {text: c.innerText.trim(), tag: c.tagName, header: head ? head.innerText.trim() : '',
          align: getComputedStyle(c).textAlign, width: c.getBoundingClientRect().width, lines: lines};
})"""
WIDE_JS = """(w) => [...document.querySelectorAll('body *')].filter(e => {
  const r = e.getBoundingClientRect(); return r.right > w + 0.5 || r.width > w;
}).map(e => e.tagName + ': ' + e.innerText.slice(0, 60))"""
IMAGES_JS = "() => [...document.images].map(i => ({src: i.getAttribute('src'), width: i.naturalWidth, done: i.complete}))"


def chromium_or_skip():
    """The Chromium binary, or skip (fail when ``EXTENT_REQUIRE_BROWSER=1``) saying what is missing."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the playwright package (pip install -e '.[browser]')"
    else:
        missing = None if path else "a Chromium binary (apt-get install chromium)"
    if missing:
        message = f"the browser test needs {missing}"
        if os.environ.get("EXTENT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{message}; EXTENT_REQUIRE_BROWSER=1 requires it")
        pytest.skip(message)
    return path


def is_numeric(text: str) -> bool:
    """Numbers joined only by ``to``/``of``/``about``, brackets and dashes: '148 (63 to 406)', '18 of 23'."""
    if not NUMBER.search(text):
        return False
    rest = NUMBER.sub(" ", text).replace("(", " ").replace(")", " ").replace("-", " ")
    return all(w in CONNECTIVES for w in rest.split())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The report rendered at 1200 px: console messages, page errors, cells, images, widths and a screenshot."""
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    root = tmp_path_factory.mktemp("browser")
    out = root / "rep"
    res = CliRunner().invoke(app, ["report", "--out", str(out), "--draws", "150", "--tune", "150", "--seed", "3"])
    assert res.exit_code == 0, res.output
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            console, errors = [], []
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((out / "report.html").as_uri(), wait_until="load")
            facts = {
                "console": console,
                "errors": errors,
                "scroll_width": page.evaluate("document.documentElement.scrollWidth"),
                "wide": page.evaluate(WIDE_JS, WIDTH),
                "cells": page.evaluate(CELLS_JS),
                "images": page.evaluate(IMAGES_JS),
                "text": page.inner_text("body"),
                "screenshot": root / "report.png",
            }
            page.screenshot(path=facts["screenshot"], full_page=True)
        finally:
            browser.close()
    return facts


def test_no_console_messages_or_page_errors(rendered):
    assert [m for m in rendered["console"] if not m.startswith(("log:", "debug:", "info:"))] == []
    assert rendered["errors"] == []


def test_nothing_is_wider_than_the_viewport(rendered):
    assert rendered["scroll_width"] <= WIDTH
    assert rendered["wide"] == []


def test_numbers_are_right_aligned_and_text_left_aligned(rendered):
    cells = [c for c in rendered["cells"] if c["tag"] == "TD" and c["text"] not in PLACEHOLDERS]
    numeric = [c for c in cells if is_numeric(c["text"])]
    text = [c for c in cells if not is_numeric(c["text"])]
    assert len(numeric) > 100 and len(text) > 100  # the report's tables, not an empty page
    assert [c["text"] for c in numeric if c["align"] != "right"] == []
    assert [c["text"] for c in text if c["align"] not in ("left", "start")] == []


def test_numbers_are_formatted_for_people(rendered):
    cells = [c["text"] for c in rendered["cells"]]
    # 134 and 54 (20 to 137), never 134.0 or 54.0 (20.0 to 137); one decimal stays for small rates (0.3 to 2.0)
    assert [t for t in cells if re.search(r"\d\d\.0\b(?![\d%])", t)] == []
    assert [t for t in cells if re.search(r"\de[+-]\d", t)] == []  # never 1.49e+03
    years = [c["text"] for c in rendered["cells"] if c["header"] == "year" and c["tag"] == "TD"]
    assert "2001" in years and [y for y in years if not re.fullmatch(r"\d{4}", y)] == []  # never 2,001
    assert "1,493" in cells and "5,972" in cells


def test_no_markdown_leaks_into_the_page(rendered):
    text = rendered["text"]
    assert "`" not in text and "**" not in text and "](" not in text
    assert [c["text"] for c in rendered["cells"] if "_" in c["text"] and c["tag"] == "TH"] == []


def test_cells_wrap_like_prose_and_numbers_do_not(rendered):
    """Long notes get a readable column (not one word per line); numbers ('269 to 1,049') and short labels
    ('Table 14', 'per force per annum') stay on one line."""
    cells = [c for c in rendered["cells"] if c["tag"] == "TD"]
    long = [c for c in cells if len(c["text"].split()) >= 8]
    assert len(long) > 100
    assert [c["text"][:40] for c in long if c["width"] < 150 or len(c["text"].split()) / c["lines"] < 2] == []
    one_line = [c for c in cells if is_numeric(c["text"]) or (len(c["text"].split()) <= 3 and len(c["text"]) <= 16)
                or c["text"] == "per force per annum"]
    assert len(one_line) > 300
    assert [c["text"] for c in one_line if c["lines"] > 1] == []


def test_images_load_and_a_screenshot_is_taken(rendered):
    assert [i["src"] for i in rendered["images"]] == ["forest.png", "sensitivity.png", "claims-shares.png",
                                                          "claims-trends.png"]
    assert all(i["done"] and i["width"] > 0 for i in rendered["images"])
    shot = rendered["screenshot"]
    assert shot.stat().st_size > 10_000
    from PIL import Image

    with Image.open(shot) as im:
        assert im.width == WIDTH and im.height > 5 * 900
