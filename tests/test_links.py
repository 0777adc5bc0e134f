"""Relative links between pages: the same as the standard library's relpath, whichever
page asked first (relative_url keeps the links that depend only on a page's depth)."""

from __future__ import annotations

import itertools
import posixpath
import random

import pytest

from site_gen.render import relative_url

PAGES = [
    "",
    "index.html",
    "feed.xml",
    "404.html",
    "stories/a/",
    "stories/b/",
    "stories/a/index.html",
    "topics/x/",
    "topics/x/2024/",
    "topics/x/feed.xml",
    "topics/y/2025/",
    "timeline/2024/",
    "people/p/",
    "data/briefing.json",
    "topics/",
    "a/b/c/d/",
    "weird//path/",
    "dots/./here/",
]
TARGETS = [
    "",
    "#top",
    "static/site.css",
    "feed.xml",
    "stories/a/",
    "stories/b/#q-1",
    "stories/",
    "topics/x/",
    "topics/x/2024/",
    "topics/y/",
    "topics/x/feed.xml",
    "people/p/",
    "timeline/2024/#m-2024-03",
    "a/b/c/d/",
    "a/b/",
    "../outside/",
    "./here/",
    "/rooted/",
    "double//slash/",
]


def reference(from_path: str, target: str) -> str:
    target_path, hash_, fragment = target.partition("#")
    base = from_path if from_path.endswith("/") or not from_path else posixpath.dirname(from_path)
    rel = posixpath.relpath("/" + target_path, "/" + base)
    if (target_path.endswith("/") or not target_path) and not rel.endswith("/"):
        rel += "/"
    if rel in ("./", ""):
        rel = "./"
    return rel + hash_ + fragment


def test_every_link_is_the_relpath_whatever_page_asked_first() -> None:
    pairs = list(itertools.product(PAGES, TARGETS))
    for order in range(3):
        random.Random(order).shuffle(pairs)
        wrong = [(page, to) for page, to in pairs if relative_url(page, to) != reference(page, to)]
        assert wrong == []


def test_links_from_pages_as_deep_share_their_text_only_outside_their_folder() -> None:
    assert relative_url("stories/a/", "topics/x/") == "../../topics/x/"
    assert relative_url("topics/z/", "topics/x/") == "../x/"
    assert relative_url("people/p/", "topics/x/") == "../../topics/x/"
    assert relative_url("topics/x/2024/", "topics/x/") == "../"
    assert relative_url("", "stories/a/") == "stories/a/"
    assert relative_url("stories/a/", "stories/a/#q") == "./#q"


def test_links_stay_right_when_what_is_kept_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    from site_gen import render

    monkeypatch.setattr(render, "_FOLDERS", {})
    monkeypatch.setattr(render, "_AWAY", {})
    monkeypatch.setattr(render, "_FOLDERS_KEPT", 3)
    monkeypatch.setattr(render, "_AWAY_KEPT", 5)
    pairs = list(itertools.product(PAGES, TARGETS)) * 2
    random.Random(9).shuffle(pairs)
    assert [relative_url(page, to) for page, to in pairs] == [reference(page, to) for page, to in pairs]
    assert len(render._FOLDERS) <= 3 and len(render._AWAY) <= 5
