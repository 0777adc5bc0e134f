"""Headings written in Markdown fit the page they are shown on: one level-1 heading
per page (its title) and no heading nested in a timeline entry or a card."""

from __future__ import annotations

import re
from pathlib import Path

from buildkit import BEFORE_DEADLINE, fixture_site

from site_gen.builder import Builder

STORY = """\
title: Headed story
date: 2025-11-18
topics: [alpha]
summary: |
  ## Background

  The summary has a heading.
body: |
  # A big heading

  Text.

  ## A smaller one

  More text.
"""

LEVELS = re.compile(r"<h([1-6])\b")


def levels(html: str) -> list[int]:
    return [int(level) for level in LEVELS.findall(html)]


def test_markdown_headings_never_skip_levels_or_add_a_title(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site", {"content/stories/headed.yaml": STORY})
    out = tmp_path / "out"
    assert Builder(site, out, cache=False).build(BEFORE_DEADLINE).ok
    story = (out / "stories/headed/index.html").read_text(encoding="utf-8")
    assert levels(story).count(1) == 1  # the page's title only
    assert "<h2>A big heading</h2>" in story and "<h2>A smaller one</h2>" in story
    for page in ("index.html", "timeline/index.html", "topics/alpha/index.html"):
        html = (out / page).read_text(encoding="utf-8")
        if page != "index.html":  # the home page lists the story without its summary
            assert "<p><strong>Background</strong></p>" in html, page  # the summary's heading
        assert ">Background</h" not in html, page
        shown = levels(html)
        assert shown.count(1) == 1, page
        # Going down, a heading is at most one level below the one before it.
        assert all(b <= a + 1 for a, b in zip(shown, shown[1:])), (page, shown)
