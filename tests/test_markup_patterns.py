"""The renderer tries only the inline patterns a text could match, and its HTML is
the same as Python-Markdown's trying every pattern (see skip_idle_inline_patterns)."""

from __future__ import annotations

import random

import markdown
import pytest

from site_gen.markup import INLINE_PATTERN_NEEDS, MarkdownRenderer, render_markdown

# Pieces that touch every inline pattern and the block rules that feed them text.
PIECES = [
    "word",
    "two words",
    "*em*",
    "**strong**",
    "***both***",
    "_under_",
    "__double__",
    " * ",
    " _ ",
    "snake_case_name",
    "2*3*4",
    "`code`",
    "``a ` b``",
    "\\*not em\\*",
    "\\\\",
    "\\`",
    "[link](https://example.org/a_b)",
    "[ref][r1]",
    "[r1]",
    "\n\n[r1]: https://example.org/ref\n\n",
    "![alt](img.png)",
    "![alt][r1]",
    "!",
    "[",
    "]",
    "<https://example.org/x>",
    "<me@example.org>",
    "<b>bold</b>",
    "<!-- note -->",
    "&amp;",
    "&#169;",
    "&copy;",
    "AT&T",
    "a < b > c",
    "  \n",
    "\t\n",
    "line\t  \nnext",
    "\n",
    "\n\n",
    "\n\n- item\n- item two\n\n",
    "\n\n1. one\n2. two\n\n",
    "\n\n> quoted *text*\n\n",
    "\n\n    code block *here*\n\n",
    "\n\n## Heading [x](y)\n\n",
    "\n\n---\n\n",
    "\"quotes\" and 'apostrophes'",
    "emoji 🙂 and é",
]


def _texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12))) for _ in range(count)]


def _every_pattern(allow_html: bool) -> markdown.Markdown:
    md = markdown.Markdown(extensions=["sane_lists"], output_format="html")
    if not allow_html:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
    return md


@pytest.mark.parametrize("allow_html", [False, True])
def test_html_is_the_same_as_with_every_pattern_tried(allow_html: bool) -> None:
    renderer = MarkdownRenderer(allow_html)
    reference = _every_pattern(allow_html)
    texts = list(PIECES) + _texts(seed=7 if allow_html else 3, count=3000)
    differing = [text for text in texts if renderer.render(text) != render_markdown(reference, text)]
    assert differing == []


def test_patterns_a_text_cannot_match_are_left_out() -> None:
    renderer = MarkdownRenderer()
    inline = renderer._md.treeprocessors["inline"]
    renderer.render("Plain words only, no marks at all.")
    assert list(inline.inlinePatterns) == []
    renderer.render("Some *emphasis* and a [link](https://example.org/).")
    named = {name for name in INLINE_PATTERN_NEEDS if name in renderer._md.inlinePatterns}
    tried = {name for name in named if renderer._md.inlinePatterns[name] in inline.inlinePatterns}
    assert {"link", "reference", "em_strong"} <= tried
    assert not tried & {"backtick", "escape", "image_link", "autolink", "automail", "linebreak", "entity"}


def test_a_tab_before_a_line_end_still_breaks_the_line() -> None:
    # Tabs become spaces before inline patterns run: the line break's two spaces
    # exist only in the block tree, not in the text as written.
    text = "first\t\nsecond"
    assert MarkdownRenderer().render(text) == render_markdown(_every_pattern(False), text)
