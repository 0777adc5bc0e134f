"""Weight and print: the home page with its CSS stays small, nothing blocks rendering,
images keep their space; a printed topic page keeps its timeline, shows where links
go and leaves the navigation out."""

# The fixtures come from readerkit; tests name them as arguments.
# ruff: noqa: F811

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from readerkit import Built, browser, example, hostile, sites  # noqa: F401

from site_gen.site import load_site

BUDGET = 60 * 1024
TOPIC = "topics/rare-earth-licences/"


def test_home_page_with_its_css_is_under_60_kb(example: Built) -> None:
    html = example.file("").read_bytes()
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)">', html.decode())
    assert styles == ["static/site.css"]
    total = len(html) + sum((example.out / href).stat().st_size for href in styles)
    assert total < BUDGET, f"home page and CSS weigh {total} bytes"


@pytest.mark.parametrize("name", ["example", "hostile"])
def test_no_page_has_a_render_blocking_script(sites: dict[str, Built], name: str) -> None:
    site = sites[name]
    for page in site.pages():
        head = site.html(page).split("</head>", 1)[0]
        for tag in re.findall(r"<script\b[^>]*>", head):
            if "application/ld+json" in tag:
                continue  # data, not code
            assert "src=" in tag, (page, tag)  # no inline code at all
            assert re.search(r"\b(defer|async)\b|type=\"module\"", tag), (page, tag)
        assert "<script" not in site.html(page).split("</head>", 1)[1], page


def test_images_have_width_and_height(example: Built) -> None:
    for page in example.pages():
        for tag in re.findall(r"<img\b[^>]*>", example.html(page)):
            assert re.search(r"\bwidth=", tag) and re.search(r"\bheight=", tag), (page, tag)


# -- print --------------------------------------------------------------------


@pytest.fixture(scope="module")
def printed(browser, example: Built, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The topic page printed to PDF by Chromium: its text, and the folder with the PDF."""
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        pytest.skip("needs poppler-utils")
    folder = tmp_path_factory.mktemp("print")
    page = browser.new_page()
    try:
        page.goto(example.url + TOPIC)
        page.pdf(path=str(folder / "topic.pdf"), format="A4", print_background=True)
    finally:
        page.close()
    text = subprocess.run(
        ["pdftotext", "-layout", str(folder / "topic.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text, folder


@pytest.mark.browser
def test_printed_topic_keeps_its_timeline(printed: tuple[str, Path]) -> None:
    text = " ".join(printed[0].split())
    site = load_site(Path(__file__).resolve().parent.parent, as_of="2025-11-20").site
    assert site is not None
    titles = [
        r.values["title"]
        for kind in ("stories", "events")
        for r in site.records[kind].values()
        if "rare-earth-licences" in r.values["topics"]
    ]
    assert len(titles) >= 5
    for title in titles:
        # pdftotext may break a long title across lines (and hyphenate it): compare its first words.
        assert " ".join(title.split()[:4]) in text, title
    for heading in ("Timeline", "April 2025", "November 2025", "What we don't know"):
        assert heading.lower() in text.lower()


@pytest.mark.browser
def test_printed_topic_shows_link_targets_and_hides_navigation(printed: tuple[str, Path]) -> None:
    text = " ".join(printed[0].split())
    assert "White House <https://www.whitehouse.gov/>" in text  # a link in the summary
    assert "This page: https://example.org/rare-earths/topics/rare-earth-licences/" in text
    for screen_only in (
        "Skip to content",
        "Briefing Topics Timeline",
        "What we know What we don't know",
        "Atom feed",
    ):
        assert screen_only not in text, screen_only
    assert "Rare Earths Watch › Topics" not in text  # breadcrumbs


@pytest.mark.browser
def test_printed_topic_renders_to_pages_with_ink(printed: tuple[str, Path]) -> None:
    """The PDF converts to images (looked at by hand when the print CSS changes); none is blank."""
    folder = printed[1]
    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", str(folder / "topic.pdf"), str(folder / "page")], check=True
    )
    pages = sorted(folder.glob("page-*.png"))
    assert 2 <= len(pages) <= 12
    for png in pages:
        assert png.stat().st_size > 2000, png
