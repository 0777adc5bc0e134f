"""Screenshots in headless Chromium: the example's pages at phone and desktop widths.

The PNGs land in the test's tmp_path for a person to look at; the test asserts that
nothing overflows the viewport sideways and that the page actually rendered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from buildkit import build

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
PAGES = {
    "home": "index.html",
    "topic": "topics/rare-earth-licences/index.html",
    "story": "stories/white-house-fact-sheet/index.html",
    "questions": "questions/index.html",
    "timeline": "timeline/index.html",
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(REPO, "2025-11-20", out=tmp_path_factory.mktemp("screens") / "out")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


# Every page at both widths in light mode; the home and a topic in dark mode too.
CASES = [(n, w, "light") for n in PAGES for w in (390, 1280)] + [
    (n, w, "dark") for n in ("home", "topic") for w in (390, 1280)
]


@pytest.mark.parametrize("name,width,scheme", CASES)
def test_page_fits_the_viewport(
    example: Path, browser: object, tmp_path: Path, name: str, width: int, scheme: str
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto((example / PAGES[name]).as_uri())
        shot = tmp_path / f"{name}-{width}-{scheme}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name} at {width}px is {scroll_width}px wide"
        # No single element sticks out of the viewport either (a clipped table, a long URL).
        wide = page.evaluate(
            """w => [...document.querySelectorAll('main *')]
                .filter(e => e.getBoundingClientRect().right > w + 1)
                .map(e => e.tagName + '.' + e.className).slice(0, 5)""",
            width,
        )
        assert not wide, wide
        # The stylesheet applied: the main column is narrower than a desktop window.
        main_width = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
        assert main_width <= min(width, 1000)
        assert page.locator("h1").count() == 1
    finally:
        context.close()


def test_long_words_and_titles_do_not_overflow_on_a_phone(browser: object, tmp_path: Path) -> None:
    from buildkit import fixture_site

    long_word = "Donaudampfschifffahrtsgesellschaftskapitänsmütze" * 3
    site = fixture_site(
        tmp_path / "site",
        {
            "content/stories/long.yaml": f"title: {long_word}\ndate: 2025-11-29\ntopics: [alpha]\n"
            f"summary: See https://example.org/{'a' * 120} and {long_word}.\n",
        },
    )
    out = build(site)
    context = browser.new_context(viewport={"width": 390, "height": 900})  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        for rel in ("stories/long/index.html", "topics/alpha/index.html", "index.html"):
            page.goto((out / rel).as_uri())
            page.screenshot(path=str(tmp_path / (rel.replace("/", "-") + ".png")), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, rel
    finally:
        context.close()
