"""The renderer tries only the inline patterns a text could match, and renders plain
prose without Python-Markdown; its HTML is the same as Python-Markdown's trying every
pattern (see skip_idle_inline_patterns and plain_paragraphs)."""

from __future__ import annotations

import random

import markdown
import pytest

from site_gen.markup import INLINE_PATTERN_NEEDS, MarkdownRenderer, converted, plain_paragraphs, simple_html

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
    differing = [text for text in texts if renderer.render(text) != converted(reference, text)]
    assert differing == []


def test_patterns_a_text_cannot_match_are_left_out() -> None:
    renderer = MarkdownRenderer()
    inline = renderer._md.treeprocessors["inline"]
    # Numbered lists: neither plain_paragraphs' prose nor simple_html's Markdown.
    renderer.render("Plain words only, no marks at all,\n\n1. in a list.")
    assert list(inline.inlinePatterns) == []
    renderer.render("Some *emphasis* and a [link](https://example.org/).\n\n1. in a list.")
    named = {name for name in INLINE_PATTERN_NEEDS if name in renderer._md.inlinePatterns}
    tried = {name for name in named if renderer._md.inlinePatterns[name] in inline.inlinePatterns}
    assert {"link", "reference", "em_strong"} <= tried
    assert not tried & {"backtick", "escape", "image_link", "autolink", "automail", "linebreak", "entity"}


def test_a_tab_before_a_line_end_still_breaks_the_line() -> None:
    # Tabs become spaces before inline patterns run: the line break's two spaces
    # exist only in the block tree, not in the text as written.
    text = "first\t\nsecond"
    assert MarkdownRenderer().render(text) == converted(_every_pattern(False), text)


# Characters and runs that mean something to Markdown or HTML at some place in a
# line, mixed with those plain prose is made of.
PROSE_PIECES = list("abcXYZ019 .,;:!?'\"()%$@/+=\u2018\u2019\u201c\u201d\u2026\u2013\u2014-")
PROSE_PIECES += list("_*#>&<`[]\\|~\t\u00a0\u00b2\u00e9\u00df\u0301\u2028\u0085\x0c")
PROSE_PIECES += ["a", "b", " ", "\n", "\n\n", "1. ", "- ", "+ ", "  ", "==", "--", "http://x.y", "Mr. ", "I."]


@pytest.mark.parametrize("seed", [1, 2])
def test_plain_prose_is_rendered_as_python_markdown_renders_it(seed: int) -> None:
    rng = random.Random(seed)
    reference = _every_pattern(False)
    texts = ["".join(rng.choice(PROSE_PIECES) for _ in range(rng.randint(1, 16))) for _ in range(60_000)]
    plain = [text for text in texts if plain_paragraphs(text) is not None]
    assert len(plain) > 2000  # the quick path is taken often enough to be tested
    assert [text for text in plain if plain_paragraphs(text) != converted(reference, text)] == []


def test_plain_prose_is_only_prose() -> None:
    assert plain_paragraphs("Talks resume; \u201cno deal yet,\u201d (Reuters) 40% said.\n\nMore.\n") == (
        "<p>Talks resume; \u201cno deal yet,\u201d (Reuters) 40% said.</p>\n<p>More.</p>"
    )
    not_prose = [
        "1. first",
        "- item",
        "snake_case",
        "AT&T",
        "a  \nb",
        " indented",
        "# title",
        "x\n===",
        "a\tb",
    ]
    assert [text for text in not_prose if plain_paragraphs(text) is not None] == []


# The simple Markdown most briefing texts are written in (see simple_html), and
# what comes close to it: marks in odd places, links to other addresses, lists and
# quotes that go on, headings with more after them.
SIMPLE_PIECES = [
    "word",
    "Word",
    "talks",
    "word,",
    "word.",
    "word;",
    "(word)",
    '"word"',
    "word\u2019s",
    "\u2014",
]
SIMPLE_PIECES += ["\u00e9t\u00e9", "40%", "Word:", "a/b", "x=y"]
SIMPLE_PIECES += [
    "*em*",
    "**strong**",
    " *em* ",
    " **two words**",
    "**Yes.**",
    "[a notice](https://example.org/a/1)",
]
SIMPLE_PIECES += ["[two\nwords](http://example.org)", "\n"]
CLOSE_PIECES = ["*a*b", "a*b*", "***x***", "* x *", "**x*", "*x**", "_x_", "`x`", "&", "<b>", "#", "\\"]
CLOSE_PIECES += ["[x](https://example.org/a_b)", "[x](https://example.org/a?b=1&c=2)", "[x](mailto:a@b.c)"]
CLOSE_PIECES += [
    "[x](/relative/)",
    "[x]( https://example.org)",
    "[ x](https://example.org)",
    "[*x*](https://example.org)",
]
CLOSE_PIECES += ["](", "[", "\n- ", "\n> ", "\n>", "\n1. ", "\n#", "- - ", "- 1. ", "  \n", "\n ", "\n=="]


def _simple_texts(seed: int, count: int) -> list[str]:
    """Texts of one to four blocks, each a paragraph, a list, a heading or a quote
    (or none of those) of pieces of simple Markdown and, now and then, of what
    comes close to it."""
    rng = random.Random(seed)
    starts = [
        "",
        "",
        "",
        "- ",
        "## ",
        "# ",
        "### ",
        "> ",
        "###### ",
        "####### ",
        "1. ",
        "* ",
        ">",
        "(",
        "*em* ",
    ]
    joins = ["\n\n", "\n\n", "\n\n", "\n", "\n\n\n"]

    def piece() -> str:
        return rng.choice(CLOSE_PIECES) if rng.random() < 0.04 else rng.choice(SIMPLE_PIECES)

    def line() -> str:
        first = rng.choice(
            [
                "Word",
                "talks",
                "\u00c9t\u00e9",
                '"Quoted',
                "[a](https://a.b/)",
                "**Yes.**",
                "12 on",
                "2025.",
                "3",
                "1) x",
                "10.5",
            ]
        )
        return first + "".join(
            (" " if rng.random() < 0.85 else "") + piece() for _ in range(rng.randint(0, 8))
        )

    def block() -> str:
        start = rng.choice(starts)
        lines = [line() for _ in range(rng.randint(1, 3))]
        glue = "\n" + (start if start in ("- ", "> ") and rng.random() < 0.9 else "")
        return start + glue.join(lines)

    return [rng.choice(joins).join(block() for _ in range(rng.randint(1, 4))) for _ in range(count)]


@pytest.mark.parametrize("seed", [1, 2])
def test_simple_markdown_is_rendered_as_python_markdown_renders_it(seed: int) -> None:
    reference = _every_pattern(False)
    simple = [text for text in _simple_texts(seed, 60_000) if simple_html(text) is not None]
    assert len(simple) > 3000  # the quick path is taken often enough to be tested
    kinds = ("<em>", "<strong>", "<a href", "<ul>", "<h2>", "<h3>", "<blockquote>")
    assert all(any(kind in simple_html(text) for text in simple) for kind in kinds)
    assert [text for text in simple if simple_html(text) != converted(reference, text)] == []


def test_simple_markdown_is_only_simple_markdown() -> None:
    text = (
        "Talks *resume*; see the [notice](https://example.org/n/1).\n\n"
        "## What **changed**\n\n- One.\n- Two.\n\n> Quoted\n> on.\n"
    )
    assert simple_html(text) == (
        '<p>Talks <em>resume</em>; see the <a href="https://example.org/n/1" rel="noopener noreferrer">'
        "notice</a>.</p>\n<h2>What <strong>changed</strong></h2>\n<ul>\n<li>One.</li>\n<li>Two.</li>\n</ul>\n"
        "<blockquote>\n<p>Quoted\non.</p>\n</blockquote>"
    )
    not_simple = [
        "- a\n\n- b",  # one loose list
        "> a\n\n> b",  # one quote
        "- a\nmore",  # an item that goes on
        "> a\nmore",
        "a snake_case name",
        "x *y * z",
        "[x](javascript:alert(1))",
        "[x](https://example.org/a?b=1&c=2)",
        "# title #",
        "- - nested",
        "1. first",
        "a\n- b",
    ]
    assert [text for text in not_simple if simple_html(text) is not None] == []
