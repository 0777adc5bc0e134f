"""`site-gen serve` in a real headless Chromium: pages reload by themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_serve import OLD_TITLE, STORY, STORY_PAGE, Server

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def test_open_page_reloads_itself_and_shows_the_error_overlay(example_site: Path, browser) -> None:
    server = Server(example_site)
    try:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"http://127.0.0.1:{server.port}{server.base}{STORY_PAGE}")
        assert OLD_TITLE in page.locator("h1").inner_text()
        page.evaluate("window.notReloadedYet = true")

        story = example_site / STORY
        good = story.read_text(encoding="utf-8")
        story.write_text(good.replace(OLD_TITLE, "Reloaded by itself"), encoding="utf-8")
        page.locator("h1", has_text="Reloaded by itself").wait_for(timeout=10_000)
        assert page.evaluate("window.notReloadedYet") is None  # a real reload, not a patch

        story.write_text(good.replace("date: 2024-12-03", "date: 2024-13-45"), encoding="utf-8")
        alert = page.locator("#site-gen-errors[role=alert]")
        alert.wait_for(timeout=10_000)
        assert STORY in alert.inner_text()
        assert alert.is_visible()
        assert OLD_TITLE not in page.locator("h1").inner_text()  # the last good page stays below
        assert "Reloaded by itself" in page.locator("h1").inner_text()

        story.write_text(good, encoding="utf-8")
        alert.wait_for(state="detached", timeout=10_000)
        page.locator("h1", has_text=OLD_TITLE).wait_for(timeout=10_000)
        assert errors == []
    finally:
        server.stop()
