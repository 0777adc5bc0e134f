"""Accessibility: axe-core (WCAG 2.1 A and AA) in Chromium on every page kind of the
example and of the hostile fixture, in light and dark schemes, at phone and desktop
widths; plus the structure axe cannot judge alone, checked on every page."""

# The fixtures come from readerkit; tests name them as arguments.
# ruff: noqa: F811

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from readerkit import (  # noqa: F401
    AXE,
    Built,
    browser,
    example,
    hostile,
    one_per_kind,
    open_search_with_filters,
    serve,
    sites,
)

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCHEMES = ["light", "dark"]
WIDTHS = [390, 1280]
DATETIME = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$")

pytestmark = pytest.mark.skipif(not AXE.is_file(), reason="needs tests/js (npm install)")


def sample(site: Built) -> list[str]:
    """One page of every kind, and a question page in each status the site has."""
    pages = list(one_per_kind(site).values())
    seen = set()
    for page in site.pages():
        if page.startswith("questions/") and page.count("/") == 2:
            status = re.search(
                r'class="question-page" data-question="[^"]+" data-status="(\w+)"', site.html(page)
            )
            if status and status.group(1) not in seen:
                seen.add(status.group(1))
                pages.append(page)
    return sorted(set(pages))


def violations(page, url: str) -> list[str]:
    page.goto(url)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    return [
        f"{url}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def folder_violations(browser, out: Path, rels: list[str], width: int) -> list[str]:  # noqa: ANN001
    """axe's findings on the pages `rels` of the output folder `out`, served over HTTP
    (from its parent) and seen at `width` px."""
    server, origin = serve(out.parent)
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        tab = context.new_page()
        return [v for rel in rels for v in violations(tab, f"{origin}/{out.name}/{rel}")]
    finally:
        context.close()
        server.shutdown()
        server.server_close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("name", ["example", "hostile"])
def test_axe_finds_no_violations(
    browser, sites: dict[str, Built], name: str, scheme: str, width: int
) -> None:  # noqa: F811
    site = sites[name]
    pages = sample(site)
    assert len(pages) >= 12  # every kind: home, lists, topic, story, question, person, years, 404, search
    context = browser.new_context(color_scheme=scheme, viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        found = [v for p in pages for v in violations(page, site.url + p)]
    finally:
        context.close()
    assert not found, "\n".join(found)


@pytest.mark.browser
@pytest.mark.parametrize("scheme", SCHEMES)
def test_search_page_with_results_and_filters_open_passes_axe(browser, example: Built, scheme: str) -> None:  # noqa: F811
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        open_search_with_filters(page, example.url + "search/?q=licences", "#kind-Question", [])
        page.get_by_text("Kind", exact=True).click()
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
        assert not result["violations"], [(v["id"], v["nodes"][0]["target"]) for v in result["violations"]]
        # The search field has a visible label, not only a placeholder.
        assert page.get_by_label("Search stories, questions, topics and people").is_visible()
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("scheme", SCHEMES)
def test_keyboard_focus_is_visible_and_the_skip_link_works(browser, example: Built, scheme: str) -> None:  # noqa: F811
    context = browser.new_context(color_scheme=scheme, viewport={"width": 390, "height": 800})
    page = context.new_page()
    try:
        page.goto(example.url + "topics/rare-earth-licences/")
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
              const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
              return {text: e.textContent, outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
                      visible: r.left >= 0 && r.top >= 0 && r.width > 0};
            }"""
        )
        assert focused["text"] == "Skip to content"
        assert focused["outline"] != "none" and focused["width"] >= 2 and focused["visible"], focused
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert page.evaluate("document.activeElement.tagName") == "A" and outline != "none"
    finally:
        context.close()


# -- structure, on every page of both sites (no browser needed) ----------------------


class Outline(HTMLParser):
    """What the structural checks need from a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[int] = []
        self.times: list[str | None] = []
        self.landmarks: list[str] = []
        self.ids: list[str] = []
        self.list_children: list[str] = []
        self.stack: list[str] = []
        self.skip = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if self.stack and self.stack[-1] in ("ul", "ol"):
            self.list_children.append(tag)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "time":
            self.times.append(a.get("datetime"))
        if tag in ("main", "nav", "header", "footer", "aside"):
            self.landmarks.append(tag)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "a" and "skip-link" in (a.get("class") or ""):
            self.skip = a.get("href") or ""
        if tag not in ("meta", "link", "br", "hr", "img", "input", "wbr", "source"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop() == tag:
                break


@pytest.mark.parametrize("name", ["example", "hostile"])
def test_every_page_has_one_h1_ordered_headings_landmarks_and_machine_dates(
    sites: dict[str, Built],  # noqa: F811
    name: str,
) -> None:
    site = sites[name]
    for page in site.pages():
        outline = Outline()
        outline.feed(site.html(page))
        assert outline.headings.count(1) == 1 and outline.headings[0] == 1, page
        for before, after in zip(outline.headings, outline.headings[1:]):
            assert after <= before + 1, (page, outline.headings)
        assert outline.landmarks.count("main") == 1 and "nav" in outline.landmarks, page
        assert outline.skip == "#main" and "main" in outline.ids, page
        assert len(outline.ids) == len(set(outline.ids)), page
        assert all(child == "li" for child in outline.list_children), page
        assert all(t and DATETIME.match(t) for t in outline.times), (page, outline.times)


def test_every_shown_date_is_a_time_element(example: Built) -> None:  # noqa: F811
    """Dates written out in the text ("13 November 2025") sit inside <time datetime>."""
    months = "January|February|March|April|May|June|July|August|September|October|November|December"
    shown = re.compile(rf"(?:\d{{1,2}} )?(?:{months}) \d{{4}}")
    for page in example.pages():
        html = example.html(page)
        body = html.split("<main", 1)[1].split("</main>", 1)[0]
        # Drop the <time> elements, prose written by editors and the record titles in links/headings.
        body = re.sub(r"<time\b[^>]*>.*?</time>", "", body, flags=re.DOTALL)
        body = re.sub(r'<div class="[^"]*prose[^"]*">.*?</div>', "", body, flags=re.DOTALL)
        body = re.sub(
            r"<(a|h[1-6]|blockquote|figcaption|p class=\"lede\")\b.*?</\1>", "", body, flags=re.DOTALL
        )
        assert not shown.findall(re.sub(r"<[^>]+>", " ", body)), (page, shown.findall(body)[:3])
