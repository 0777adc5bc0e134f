"""Markdown fields to safe HTML: Python-Markdown, then the nh3 sanitizer.

Safety never rests on Markdown options: whatever Python-Markdown emits is
cleaned by nh3 against an allow-list of tags, attributes and URL schemes.
Plain prose and simple Markdown (most texts) skip both: their quick paths
accept no `<`, `>` or `&` and only http(s) links of plain characters, and
write what the two would (tests/test_markup_patterns.py compares them).
Results are cached by text, so a rebuild renders only new or changed prose.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

import markdown
import nh3

from .workers import wanted as wanted_workers

URL_SCHEMES = {"http", "https", "mailto"}
ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "a",
    "em",
    "strong",
    "b",
    "i",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "del",
    "sup",
    "sub",
    "abbr",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
_COMMENT = re.compile(r"<!--.*?(-->|\Z)", re.DOTALL)
_HEADING = re.compile(r"<(/?)h1>")
_BARE_IMAGE = re.compile(r"<img(?![^>]* src=)[^>]*>")
_BARE_LINK = re.compile(r'<a((?:(?! href=)[^>])*?) rel="noopener noreferrer">')


class MarkdownRenderer:
    """Renders and sanitizes Markdown, remembering every result by its text."""

    def __init__(
        self, allow_html: bool = False, cache: dict[str, str] | None = None, new: set[str] | None = None
    ) -> None:
        self.allow_html = allow_html
        self.cache: dict[str, str] = cache if cache is not None else {}
        # The texts rendered here, not found in `cache` (the builder saves them).
        self.new: set[str] = new if new is not None else set()
        self._md = markdown.Markdown(extensions=["sane_lists"], output_format="html")
        if not allow_html:
            # Raw HTML becomes visible text; the sanitizer still runs below.
            self._md.preprocessors.deregister("html_block")
            self._md.inlinePatterns.deregister("html")
        skip_idle_inline_patterns(self._md)

    def render(self, text: str) -> str:
        """Sanitized HTML for one Markdown text."""
        cached = self.cache.get(text)
        if cached is None:
            cached = self.cache[text] = render_markdown(self._md, text)
            self.new.add(text)
        return cached

    def render_all(self, texts: Iterable[str]) -> None:
        """Fill the cache for many texts (in worker processes when many are new)."""
        missing = sorted({t for t in texts if t not in self.cache})
        workers = wanted_workers()
        if len(missing) < 500 or workers < 2:
            for text in missing:
                self.render(text)
            return
        from concurrent.futures import ProcessPoolExecutor

        size = max(100, len(missing) // 8)
        chunks = [missing[i : i + size] for i in range(0, len(missing), size)]
        with ProcessPoolExecutor(workers) as pool:
            for chunk, rendered in zip(
                chunks, pool.map(_render_chunk, chunks, [self.allow_html] * len(chunks))
            ):
                self.cache.update(zip(chunk, rendered))
        self.new.update(missing)


def _render_chunk(texts: list[str], allow_html: bool) -> list[str]:
    renderer = MarkdownRenderer(allow_html)
    return [renderer.render(text) for text in texts]


# What each of Python-Markdown's inline patterns needs in a text to match at all
# (its regular expression cannot match without one of these). Patterns not named
# here, or with a name whose pattern has other needs, are always tried.
INLINE_PATTERN_NEEDS: dict[str, tuple[str, ...]] = {
    "backtick": ("`",),
    "escape": ("\\",),
    "reference": ("[",),
    "link": ("[",),
    "image_link": ("![",),
    "image_reference": ("![",),
    "short_reference": ("[",),
    "short_image_ref": ("![",),
    "autolink": ("<",),
    "automail": ("<",),
    "linebreak": ("  \n",),
    "html": ("<",),
    "entity": ("&",),
    "em_strong": ("*",),  # before Python-Markdown 3.11 (since, see _needs)
    "em_strong2": ("_",),
    "not_strong": ("*", "_"),
}


def skip_idle_inline_patterns(md: markdown.Markdown) -> None:
    """Make `md` try, in each text, only the inline patterns that could match in it.

    Python-Markdown tries each of its fourteen inline patterns on every piece of
    text, one Python call each, and that is a third of its time on a briefing's
    prose. A pattern whose characters appear nowhere in a document's text cannot
    match in any piece of it, so leaving it out of that document gives the same
    HTML. The text looked at is the block tree just before inline processing,
    after every preprocessor (tabs expanded, line endings normalised).
    """
    inline = md.treeprocessors["inline"]
    patterns = [(pattern, _needs(md, pattern)) for pattern in md.inlinePatterns]
    run_all = inline.run

    def run_needed(root: Any) -> Any:
        text = "\n".join(part for node in root.iter() for part in (node.text, node.tail) if part)
        inline.inlinePatterns = [
            pattern for pattern, needs in patterns if needs is None or any(n in text for n in needs)
        ]
        return run_all(root)

    inline.run = run_needed


def _needs(md: markdown.Markdown, pattern: Any) -> tuple[str, ...] | None:
    if pattern is getattr(md, "delimiters", None) and getattr(pattern, "tokens", None):
        return tuple(pattern.tokens)  # Python-Markdown 3.11's one emphasis pattern: '*', '_'
    for name, needs in INLINE_PATTERN_NEEDS.items():
        if name in md.inlinePatterns and md.inlinePatterns[name] is pattern:
            return needs
    return None


# The punctuation of plain prose: what neither Markdown nor HTML gives a meaning to.
_PROSE_PUNCTUATION = " .,;:!?'\"()%$@/+=‘’“”…–—-"
# A character of plain prose: a letter or digit (of any script), or that punctuation.
_PROSE_CHAR = rf"(?:[^\W_]|[{re.escape(_PROSE_PUNCTUATION)}])"
# A line of plain prose: it starts with a letter or an opening quote or bracket,
# holds only prose characters, and does not end with a space (two make a line break).
_PROSE_LINE = rf"(?:[^\W\d_]|[\"'‘“(]){_PROSE_CHAR}*(?<! )"
_PLAIN_PROSE = re.compile(rf"{_PROSE_LINE}(?:\n+{_PROSE_LINE})*\n*")
_BLANK_LINES = re.compile(r"\n\n+")


def plain_paragraphs(text: str) -> str | None:
    """The HTML of a text that is plain prose, in paragraphs: what Python-Markdown and
    the sanitizer make of it, without them (a tenth of the time); None for any other
    text. Most of the example briefing's texts are such prose (41 of 59), and each cost
    Python-Markdown a tenth of a millisecond (tests/test_markup_patterns.py checks the
    two agree)."""
    if not _PLAIN_PROSE.fullmatch(text):
        return None
    return "\n".join(f"<p>{part}</p>" for part in _BLANK_LINES.split(text.rstrip("\n")))


# Simple Markdown: paragraphs of prose with `*em*`, `**strong**` and links to
# http(s) addresses; lists of one-line `- ` items; `#` headings of one line; and
# quoted paragraphs (each line after `> `), each block apart from the next by a
# blank line. What most briefing texts are written in.
_PROSE_RUN = re.compile(rf"(?:{_PROSE_CHAR}|\n)*")
# How a line of a paragraph may start: a letter, a number not followed by a dot
# (`1.` starts a numbered list), an opening quote or bracket, a link, or emphasis
# around a word (never a list's marker or a space).
_LINE_START = re.compile(r"(?:[^\W\d_]|\d+(?![\d.])|[\"'‘“(\[]|\*\*?[^\W_])")
# A link's text: prose, over lines too, without parentheses (they would end its address).
_LABEL_CHAR = rf"(?:[^\W_]|[{re.escape(_PROSE_PUNCTUATION.translate({ord('('): None, ord(')'): None}))}\n])"
_INLINE = re.compile(
    rf"(?P<mark>\*\*?)(?P<marked>[^\W_]{_PROSE_CHAR}*?)(?P=mark)"
    rf"|\[(?P<label>[^\W_]{_LABEL_CHAR}*?)\]"
    r"\((?P<href>https?://[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~/-]*)?)\)"
)
_HEADING_LINE = re.compile(r"(#{1,6}) (\S.*)")
# Around emphasis: what may come before its opening and after its closing mark.
_BEFORE_MARK = " (\n"
_AFTER_MARK = " .,;:!?)'\"’”\n"


def simple_html(text: str) -> str | None:
    """The HTML of a text written in simple Markdown (see above): what Python-Markdown
    and the sanitizer make of it, without them (a fifth of the time); None for any
    other text. Most texts of a briefing are written so (13,767 of the 13,818 texts
    of the bench corpus that are more than plain prose, 23 of the example's 25);
    tests/test_markup_patterns.py checks the two agree."""
    plain = plain_paragraphs(text)  # the commonest case, in one regular expression
    if plain is not None:
        return plain
    html = []
    last = ""
    for block in _BLANK_LINES.split(text.rstrip("\n")):
        kind, made = _block(block)
        # Two lists, or two quotes, a blank line apart are one loose list or one quote.
        if made is None or kind == last and kind != "p":
            return None
        html.append(made)
        last = kind
    return "\n".join(html)


def _block(block: str) -> tuple[str, str | None]:
    """A block's kind ("p", "ul", "h", "quote") and its HTML (None: not simple)."""
    lines = block.split("\n")
    first = lines[0]
    if first.startswith("- "):
        items = [
            _inline(line[2:]) if line.startswith("- ") and _LINE_START.match(line, 2) else None
            for line in lines
        ]
        if None in items:
            return "ul", None
        return "ul", "<ul>\n" + "".join(f"<li>{item}</li>\n" for item in items) + "</ul>"
    if first.startswith("#"):
        heading = _HEADING_LINE.fullmatch(block)
        inner = _inline(heading.group(2)) if heading else None
        if heading is None or inner is None:
            return "h", None
        level = max(2, len(heading.group(1)))  # a page has one h1, its title (see converted)
        return "h", f"<h{level}>{inner}</h{level}>"
    if first.startswith(">"):
        if not all(line.startswith("> ") for line in lines):
            return "quote", None
        inner = _paragraph([line[2:] for line in lines])
        return "quote", None if inner is None else f"<blockquote>\n{inner}\n</blockquote>"
    return "p", _paragraph(lines)


def _paragraph(lines: list[str]) -> str | None:
    if not all(_LINE_START.match(line) and not line.endswith(" ") for line in lines):
        return None
    inner = _inline("\n".join(lines))
    return None if inner is None else f"<p>{inner}</p>"


def _inline(text: str) -> str | None:
    """A paragraph's or item's HTML: its emphasis and links, the rest prose as it is."""
    if not text or text[0] == " " or text[-1] == " ":
        return None
    out, at = [], 0
    for match in _INLINE.finditer(text):
        start, end = match.span()
        if not _PROSE_RUN.fullmatch(text, at, start):
            return None
        out.append(text[at:start])
        mark = match.group("mark")
        if mark:
            inner = match.group("marked")
            before = text[start - 1] if start else " "
            after = text[end] if end < len(text) else " "
            if inner[-1] == " " or before not in _BEFORE_MARK or after not in _AFTER_MARK:
                return None
            tag = "strong" if len(mark) == 2 else "em"
            out.append(f"<{tag}>{inner}</{tag}>")
        else:
            label = match.group("label")
            if label[-1] in " \n":
                return None
            out.append(f'<a href="{match.group("href")}" rel="noopener noreferrer">{label}</a>')
        at = end
    if not _PROSE_RUN.fullmatch(text, at):
        return None
    out.append(text[at:])
    return "".join(out)


def render_markdown(md: markdown.Markdown, text: str) -> str:
    """Sanitized HTML for one Markdown text."""
    quick = simple_html(text)
    return quick if quick is not None else converted(md, text)


def converted(md: markdown.Markdown, text: str) -> str:
    """`text` through Python-Markdown and the sanitizer."""
    # Comments are editors' private notes: removed before Markdown sees them.
    source = _COMMENT.sub("", text)
    html = md.reset().convert(source)
    # A page has one h1 (its title); headings in prose start at h2.
    html = _HEADING.sub(r"<\1h2>", html)
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    # nh3 adds rel even to a link whose unsafe href it dropped (rel without href is invalid
    # HTML) and keeps an image whose unsafe src it dropped (an image without src is too).
    return _BARE_IMAGE.sub("", _BARE_LINK.sub(r"<a\1>", cleaned))


def safe_url(url: str) -> str | None:
    """`url` when it is http(s), mailto or relative; None for anything else."""
    value = url.strip()
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", value)
    if scheme and scheme.group(1).lower() not in URL_SCHEMES:
        return None
    if re.search(r"[\x00-\x20]", value):
        return None
    return value


_ANY_HEADING = re.compile(r"<h([2-6])((?:\s[^>]*)?)>(.*?)</h\1>", re.DOTALL)


def nest_headings(html: str) -> str:
    """Sanitized HTML whose headings become bold paragraphs.

    For text shown inside the sections of a page's own headings (a summary in
    a timeline entry, an answer in a question card, a correction): an editor's
    heading there would break the page's heading order. (A text shown as a
    page's body keeps its headings, from h2 down: see render_markdown.)
    """
    if "<h" not in html:
        return html
    return _ANY_HEADING.sub(lambda m: f"<p{m.group(2)}><strong>{m.group(3)}</strong></p>", html)
