"""Search: the Pagefind index is built with the site, reproducibly and only when pages
change; /search/ finds things in Chromium, filters by kind, and the site reads fine
with JavaScript off."""

# The fixtures come from readerkit; tests name them as arguments.
# ruff: noqa: F811

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from buildkit import BEFORE_DEADLINE, fixture_site, tree, tree_digest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from readerkit import (  # noqa: F401
    REPO,
    Built,
    browser,
    build_site,
    example,
    hostile,
    open_search_with_filters,
    sites,
)

from site_gen.builder import Builder
from site_gen.search import canonical_index, pagefind_program

pytestmark = pytest.mark.skipif(pagefind_program() is None, reason="needs pagefind (pip install '.[search]')")
LICENCE_QUESTION = "questions/general-licence-terms-by-end-november/"


def fragments(out: Path) -> list[dict]:
    """The index's page records (url, content, filters), read straight from its files."""
    found = []
    for path in sorted((out / "pagefind/fragment").iterdir()):
        body = gzip.decompress(path.read_bytes())
        assert body.startswith(b"pagefind_dcd")
        found.append(json.loads(body[len(b"pagefind_dcd") :]))
    return found


def index_tree(out: Path) -> dict[str, str]:
    return {rel: digest for rel, digest in tree_digest(out).items() if rel.startswith("pagefind/")}


# -- the index --------------------------------------------------------------------


def test_the_index_holds_the_content_pages_with_kind_and_topic_filters(example: Built) -> None:  # noqa: F811
    assert (example.out / "pagefind/pagefind.js").is_file()
    assert (example.out / "pagefind/pagefind-ui.js").is_file()
    pages = {f["url"]: f for f in fragments(example.out)}
    base = "/"
    indexed = {url.strip("/").split("/")[0] for url in pages}
    assert indexed == {"stories", "questions", "topics", "people"}  # lists and the home page repeat these
    question = pages[base + LICENCE_QUESTION]
    assert question["filters"] == {"kind": ["Question"], "topic": ["Rare-earth general licences"]}
    escaped = [f["filters"]["topic"] for f in pages.values() if "&#x27;" in str(f) or "&amp;" in str(f)]
    assert not escaped  # plain titles are stored as they are
    assert "general licences" in question["content"]
    # The navigation, breadcrumbs and footer are not indexed; the filters' own text is not either.
    for fragment in pages.values():
        assert "Skip to content" not in fragment["content"]
        assert "Atom feed" not in fragment["content"]
    story = pages[base + "stories/madrid-talks/"]
    assert story["filters"]["kind"] == ["Story"] and story["meta"]["title"] == "Madrid talks turn to TikTok"


def test_index_markup_only_on_content_pages(example: Built) -> None:  # noqa: F811
    for page in example.pages():
        html = example.html(page)
        indexed = page.startswith(("stories/", "questions/", "topics/", "people/")) and page.count("/") == 2
        assert ("data-pagefind-body" in html) == indexed, page
        assert 'class="site-header" data-pagefind-ignore="all"' in html
        assert 'class="site-footer" data-pagefind-ignore="all"' in html


def test_index_is_reproducible_and_rebuilt_only_when_pages_change(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    first = Builder(site, tmp_path / "a", cache=False).build(BEFORE_DEADLINE)
    second = Builder(site, tmp_path / "b", cache=False).build(BEFORE_DEADLINE)
    assert first.ok and second.ok
    assert index_tree(tmp_path / "a") and index_tree(tmp_path / "a") == index_tree(tmp_path / "b")
    assert any(rel.startswith("pagefind/") for rel in first.outputs)  # in the manifest publish uses

    builder = Builder(site, tmp_path / "c")
    builder.build(BEFORE_DEADLINE)
    again = builder.build(BEFORE_DEADLINE)
    assert again.written == []  # nothing changed: the index is not made again

    story = site / "content/stories/may-day.yaml"
    story.write_text(story.read_text().replace("The first of May.", "The zanzibarite of May."))
    edited = builder.build(BEFORE_DEADLINE)
    assert any(rel.startswith("pagefind/fragment/") for rel in edited.written)
    assert any("zanzibarite" in f["content"] for f in fragments(tmp_path / "c"))
    # Replaced index files are gone, and the result equals a fresh build's.
    fresh = Builder(site, tmp_path / "d", cache=False).build(BEFORE_DEADLINE)
    assert fresh.ok and tree(tmp_path / "c") == tree(tmp_path / "d")


def test_pagefind_runs_differ_but_the_canonical_index_does_not(tmp_path: Path, example: Built) -> None:  # noqa: F811
    """Pagefind writes filter values in hash-map order; canonical_index fixes the order."""
    program = pagefind_program()
    assert program is not None
    raw, fixed = set(), set()
    for run in range(4):
        out = tmp_path / str(run)
        subprocess.run(
            [str(program), "--site", str(example.out), "--output-path", str(out), "--quiet"], check=True
        )
        files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        raw.add(tuple(sorted(files)))
        fixed.add(tuple(sorted(canonical_index(files).items())))
    assert len(fixed) == 1
    # Canonical files still point at each other: entry → meta → filters.
    files = dict(next(iter(fixed)))
    entry = json.loads(files["pagefind-entry.json"])
    meta = gzip.decompress(files[f"pagefind.{entry['languages']['en']['hash']}.pf_meta"])
    filters = [rel for rel in files if rel.startswith("filter/")]
    assert filters and all(rel[len("filter/") : -len(".pf_filter")].encode() in meta for rel in filters)


def test_without_pagefind_the_build_warns_and_the_site_still_builds(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}

    def build_now() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "site_gen", "--site", str(site), "build", "--as-of", BEFORE_DEADLINE]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)

    env["PAGEFIND_BINARY_PATH"] = str(tmp_path / "no-such-pagefind")
    proc = build_now()
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "search index not built" in line]
    assert len(warnings) == 1 and warnings[0].startswith("site.yaml:1:1: warning: ")
    assert "pip install 'site-gen[search]'" in warnings[0]
    assert (site / "output/search/index.html").is_file()
    assert not (site / "output/pagefind").exists()
    # Pagefind installed since (here: found again), nothing else changed: the next build
    # is not one with nothing to do, it makes the index.
    env.pop("PAGEFIND_BINARY_PATH")
    again = build_now()
    assert again.returncode == 0 and "search index not built" not in again.stderr, again.stderr
    assert (site / "output/pagefind/pagefind.js").is_file()


# -- in the browser ---------------------------------------------------------------


def result_links(page, href: str) -> list[str]:  # noqa: ANN001
    """The search result links once `href` is among them, or those shown after 15 s:
    Pagefind's UI adds each result as its fragment arrives, so the first link to
    appear is not the whole list."""
    shows = "href => [...document.querySelectorAll('.pagefind-ui__result-link')].some(e => e.href === href)"
    try:
        page.wait_for_function(shows, arg=href, timeout=15000)
    except PlaywrightTimeout:
        pass  # the caller's assertion says what was shown instead
    return page.eval_on_selector_all(".pagefind-ui__result-link", "els => els.map(e => e.href)")


@pytest.mark.browser
def test_searching_licences_finds_the_general_licence_question(browser, example: Built) -> None:  # noqa: F811
    page = browser.new_page()
    try:
        page.goto(example.url + "search/")
        field = page.get_by_label("Search stories, questions, topics and people")
        field.fill("licences")
        links = result_links(page, example.url + LICENCE_QUESTION)
        assert example.url + LICENCE_QUESTION in links
        # The query in the address (the plain form's way) gives the same results.
        page.goto(example.url + "search/?q=licences")
        first = result_links(page, example.url + LICENCE_QUESTION)
        assert example.url + LICENCE_QUESTION in first
        assert page.get_by_label("Search stories, questions, topics and people").input_value() == "licences"
    finally:
        page.close()


@pytest.mark.browser
def test_filtering_by_kind_keeps_only_questions(browser, example: Built) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(f"{request.url}: {request.failure}"))
    page.on("console", lambda message: message.type == "error" and failed.append(message.text))
    try:
        open_search_with_filters(page, example.url + "search/?q=licences", "#kind-Question", failed)
        if not page.eval_on_selector("#kind-Question", "e => e.closest('details').open"):
            page.get_by_text("Kind", exact=True).click()
        page.locator("#kind-Question").check(timeout=15000)
        page.wait_for_function(
            "() => { const links = [...document.querySelectorAll('.pagefind-ui__result-link')];"
            " return links.length > 0 && links.every(a => a.href.includes('/questions/')); }",
            timeout=15000,
        )
        links = page.eval_on_selector_all(".pagefind-ui__result-link", "els => els.map(e => e.href)")
        assert example.url + LICENCE_QUESTION in links
    finally:
        page.close()


@pytest.mark.browser
def test_hostile_text_in_results_stays_text(browser, hostile: Built) -> None:  # noqa: F811
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        open_search_with_filters(page, hostile.url + "search/?q=alert", ".pagefind-ui__filter-label", [])
        # Open every filter group, so the topic titles are laid out as a reader sees them.
        # (Clicking the "Topic" toggle instead timed out on a loaded CI machine.)
        page.eval_on_selector_all(".pagefind-ui__filter-block", "els => els.forEach(e => { e.open = true; })")
        page.wait_for_timeout(500)
        assert dialogs == []
        assert page.evaluate("document.querySelectorAll('script:not([src]):not([type]), img').length") == 0
        topics = page.locator(".pagefind-ui__filter-label").all_inner_texts()
        title = "<script>alert('topic')</script> <img src=x onerror=alert('img')> & </script>"
        assert any(t.startswith(title) for t in topics), topics
        titles = page.eval_on_selector_all(".pagefind-ui__result-link", "els => els.map(e => e.textContent)")
        assert any("</script><script>alert('story')</script>" in t for t in titles)
    finally:
        page.close()


@pytest.mark.browser
def test_with_javascript_off_the_site_reads_and_the_search_form_is_a_link(browser, example: Built) -> None:  # noqa: F811
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(example.url)
        questions = page.locator("[data-question]")
        assert questions.count() >= 3
        assert questions.first.is_visible()
        assert "general licences" in page.locator("#open").locator("..").inner_text()
        page.get_by_role("link", name="Search").click()
        page.get_by_label("Search stories, questions, topics and people").fill("licences")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**/search/?q=licences")
        assert page.get_by_text("needs JavaScript").is_visible()
        assert page.get_by_role("link", name="the questions").get_attribute("href") == "../questions/"
    finally:
        context.close()


def test_the_search_page_loads_its_scripts_without_blocking(example: Built) -> None:  # noqa: F811
    html = example.html("search/")
    assert '<script src="../pagefind/pagefind-ui.js" defer></script>' in html
    assert '<script src="../static/search.js" defer></script>' in html
    assert '<form class="search-form" action="./" method="get" role="search"' in html
    assert "pagefind-ui" not in example.html("")  # only the search page loads the search code


def test_a_site_built_with_another_base_path_searches_from_there(tmp_path: Path, browser) -> None:  # noqa: F811
    """The search code finds the index relative to the page, wherever the site is served."""
    from readerkit import serve

    out = build_site(REPO, tmp_path / "deep/er/site", "--base-url", "https://example.com/deep/er/site/")
    server, origin = serve(tmp_path)
    page = browser.new_page()
    try:
        page.goto(origin + "/deep/er/site/search/?q=licences")
        wanted = origin + "/deep/er/site/" + LICENCE_QUESTION
        links = result_links(page, wanted)
        assert wanted in links
        assert out.is_dir()
    finally:
        page.close()
        server.shutdown()
        server.server_close()
