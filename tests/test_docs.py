"""The code examples of the docs guides: they parse (fast tier) and run (slow tier: they fit the built-in dataset
several times, a few minutes in all)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
GUIDES = sorted(p.name for p in DOCS.glob("guide-*.md"))


def blocks(page: str) -> list[str]:
    return BLOCK.findall((DOCS / page).read_text())


def test_every_guide_has_examples():
    assert GUIDES == ["guide-report-writer.md", "guide-researcher.md", "guide-statistician.md"]
    assert all(blocks(page) for page in GUIDES)


@pytest.mark.parametrize("page", GUIDES)
def test_guide_examples_parse(page):
    for i, code in enumerate(blocks(page), 1):
        compile(code, f"{page}, block {i}", "exec")


@pytest.mark.slow
@pytest.mark.parametrize("page", GUIDES)
def test_guide_examples_run(page, tmp_path, monkeypatch):
    """A page's blocks run in order in one namespace (later blocks use earlier names), in an empty folder."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for i, code in enumerate(blocks(page), 1):
        exec(compile(code, f"{page}, block {i}", "exec"), namespace)
    assert namespace["data"].n_units == 52  # every guide works on the built-in dataset


def test_the_api_reference_documents_every_public_name():
    import extent

    pages = "".join(p.read_text() for p in (DOCS / "api").glob("*.md"))
    documented = set(re.findall(r"^::: extent\.(\w+)", pages, re.M))
    assert documented == set(extent.__all__) - {"__version__"}
