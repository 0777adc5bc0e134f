"""The XSS corpus (bad-inputs M27–M35) through the whole pipeline, and what never leaks.

Every hostile value goes into a real site, the site is built with the CLI, and
every file of the output (pages, feeds, JSON) is scanned: no script we did not
write, no event-handler attribute, no link or image URL outside http, https,
mailto and relative, no HTML comment, no private note.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jinja2
import markdown
import pytest
from buildkit import Node, build, page, parse_html, read, site_gen, tree, write_files
from markupsafe import Markup, escape

from site_gen.markup import MarkdownRenderer, safe_url
from site_gen.render import make_environment, output_text

ATOM = "{http://www.w3.org/2005/Atom}"
SECRET = "SECRET-EDITOR-NOTE"
TITLE = '<script>alert("t")</script><img src=x onerror=alert(1)>'

HOSTILE_MARKDOWN = f"""\
Raw <script>alert(1)</script> and <img src=x onerror="alert(2)"> and
<iframe src="https://evil.example/"></iframe> <style>body{{display:none}}</style>
<div onclick="alert(3)">div</div>

[plain js](javascript:alert(4)) [entity js](jav&#x61;script:alert(5))
[mixed case]( JaVaScRiPt:alert(6)) [vb](vbscript:msgbox(7))
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg4KTwvc2NyaXB0Pg==)
![image js](javascript:alert(9)) ![image data](data:image/svg+xml;base64,PHN2Zz4=)
[reference js][r] and [tab js](java&#x09;script:alert(10))

[fine](https://example.org/ok) [mail](mailto:desk@example.org) [relative](../../topics/t/)

a <!-- {SECRET} --> b

[attr link](https://example.org/x){{: onclick="alert(11)" }}

# Heading {{: onmouseover="alert(12)" }}

[r]: javascript:alert(13)
"""

SITE = {
    "site.yaml": "title: Hostile <b>site</b>\nbase_url: https://example.org/x/\n",
    "content/topics/t.yaml": f"title: '{TITLE} topic'\nsummary: |\n"
    + "".join(f"  {line}\n" for line in HOSTILE_MARKDOWN.splitlines())
    + "tags: ['<script>tag</script>']\n",
    "content/people/p.yaml": f"name: '{TITLE} person'\nrole: '\" onmouseover=\"alert(1)'\n",
    "content/stories/s.yaml": f"""\
title: '{TITLE} story'
date: 2025-11-20
date_text: '<script>alert("date")</script>'
topics: [t]
people: [p]
source:
  name: '<script>src</script>'
  url: https://example.org/src?a=1&b="2"
  author: '<i>me</i>'
summary: |
"""
    + "".join(f"  {line}\n" for line in HOSTILE_MARKDOWN.splitlines())
    + "body: |\n"
    + "".join(f"  {line}\n" for line in HOSTILE_MARKDOWN.splitlines())
    + """\
corrections:
  - date: 2025-11-21
    text: 'fixed <script>alert(1)</script> <!-- SECRET-EDITOR-NOTE -->'
""",
    "content/events/e.yaml": f"title: '{TITLE} event'\ndate: 2025-11-19\ntopics: [t]\n"
    "summary: '[e](javascript:alert(1)) <!-- SECRET-EDITOR-NOTE -->'\n",
    "content/quotes/q.yaml": f"text: '{TITLE} quote'\nspeaker: p\ndate: 2025-11-20\nstory: s\n"
    "context: '<script>ctx</script>'\n",
    "content/questions/qq.yaml": f"""\
question: '{TITLE} question'
topics: [t]
raised: 2025-11-01
deadline: 2025-11-10
why_it_matters: '<script>why</script> <!-- SECRET-EDITOR-NOTE -->'
resolution_criteria: '[c](javascript:alert(1))'
""",
    "content/questions/answered.yaml": f"""\
question: '{TITLE} answered'
topics: [t]
raised: 2025-11-01
status: answered
answered: 2025-11-18
answer: '<img src=x onerror=alert(1)> yes <!-- SECRET-EDITOR-NOTE -->'
""",
}

BAD_SCHEME = re.compile(r"^\s*(javascript|vbscript|data|file):", re.IGNORECASE)


def scan_html(text: str, where: str) -> None:
    """No foreign script, no on* attribute, no bad URL, no comment in one HTML text."""
    assert "<!--" not in text, where
    assert SECRET not in text, where
    doc = parse_html(text)
    for node in doc.iter():
        for name, value in node.attrs.items():
            assert not name.lower().startswith("on"), (where, node.tag, name)
            if node.tag == "link" and node.attrs.get("rel") == "icon" and value == "data:,":
                continue  # the theme's empty favicon, not data from a record
            if name in ("href", "src", "action", "formaction", "srcset", "xlink:href") and value:
                assert not BAD_SCHEME.match(value), (where, node.tag, value)
                assert "script:" not in value.lower().replace("\t", ""), (where, value)
        assert node.tag not in ("iframe", "style", "object", "embed"), (where, node.tag)
        if node.tag == "form":  # only the theme's search form, which stays on the site
            assert node.attrs.get("action") == "./", (where, node.attrs)
        if node.tag == "script":
            assert_our_script(node, where)


def assert_our_script(node: Node, where: str) -> None:
    """Only JSON data (with no '<' in it) or a file from our own static folder."""
    kind = node.attrs.get("type")
    if kind == "application/ld+json":
        raw = "".join(c for c in node.children if isinstance(c, str))
        assert "<" not in raw, where
        json.loads(raw)
        return
    src = node.attrs.get("src") or ""
    assert src and not re.match(r"^[a-z]+:|^//", src), (where, node.attrs)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = write_files(tmp_path_factory.mktemp("xss") / "site", SITE)
    return build(site, "2025-11-25")


def test_hostile_site_checks_clean_apart_from_nothing(tmp_path: Path) -> None:
    site = write_files(tmp_path / "site", SITE)
    run = site_gen("--site", site, "check", "--as-of", "2025-11-25")
    assert run.code == 0, run


def test_no_page_runs_hostile_code(hostile: Path) -> None:
    pages = [rel for rel in tree(hostile) if rel.endswith(".html")]
    assert len(pages) > 8
    for rel in pages:
        scan_html(read(hostile, rel), rel)


def test_hostile_text_is_shown_escaped(hostile: Path) -> None:
    story = page(hostile, "stories/s/")
    assert story.find("h1").text.startswith('<script>alert("t")</script><img src=x onerror=alert(1)> story')
    raw = read(hostile, "stories/s/index.html")
    assert "&lt;script&gt;alert(" in raw
    # Raw HTML in Markdown is escaped into visible text, not dropped silently.
    assert "Raw &lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert story.find(None, class_="kicker").text.startswith('Story · <script>alert("date")</script>')
    assert "<script>src</script>" in story.find(None, class_="source").text
    assert story.find(None, class_="site-title").text == "Hostile <b>site</b>"
    assert not story.find_all("b")


def test_safe_links_survive_and_unsafe_ones_lose_their_href(hostile: Path) -> None:
    story = page(hostile, "stories/s/")
    body = story.find(None, class_="body")
    links = {a.text: a.attrs.get("href") for a in body.find_all("a")}
    assert links["fine"] == "https://example.org/ok"
    assert links["mail"] == "mailto:desk@example.org"
    assert links["relative"] == "../../topics/t/"
    for text in ("plain js", "entity js", "mixed case", "vb", "data", "tab js", "reference js"):
        assert links.get(text) is None, (text, links)
    for img in body.find_all("img"):
        assert img.attrs.get("src") is None, img.attrs
    for a in body.find_all("a"):
        if a.attrs.get("href"):
            assert a.attrs.get("rel") == "noopener noreferrer"
    attr_link = [a for a in body.find_all("a") if a.text.startswith("attr link")]
    assert attr_link and all(set(a.attrs) <= {"href", "rel", "title"} for a in attr_link)


def test_feeds_carry_no_hostile_markup(hostile: Path) -> None:
    for rel in ("feed.xml", "topics/t/feed.xml"):
        text = read(hostile, rel)
        assert SECRET not in text
        root = ET.fromstring(text)
        entries = root.findall(f"{ATOM}entry")
        assert entries, rel
        for entry in entries:
            title = entry.find(f"{ATOM}title")
            assert title is not None and title.get("type") in (None, "text")
            for element in entry.iter():
                if element.get("type") == "html" and element.text:
                    scan_html(element.text, f"{rel} {element.tag}")


# JSON keys whose values are HTML (Markdown fields, TimelineJS text); the rest is plain text.
HTML_KEYS = {"summary", "body", "answer", "why_it_matters", "resolution_criteria", "text", "headline"}


def is_html(where: str) -> bool:
    """Whether the JSON value at this path is HTML (a quote's own text is plain)."""
    return where.rsplit(".", 1)[-1] in HTML_KEYS and not re.search(r"quotes\[\d+\]\.text$", where)


def test_json_exports_carry_only_sanitized_html(hostile: Path) -> None:
    for rel in ("data/briefing.json", "topics/t/timeline.json"):
        text = read(hostile, rel)
        assert SECRET not in text and "<!--" not in text, rel

        def walk(value: object, where: str) -> None:
            if isinstance(value, dict):
                for key, item in value.items():
                    walk(item, f"{where}.{key}")
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    walk(item, f"{where}[{index}]")
            elif isinstance(value, str) and is_html(where):
                scan_html(value, where)

        walk(json.loads(text), rel)
    slides = json.loads(read(hostile, "topics/t/timeline.json"))["events"]
    headlines = [s["text"]["headline"] for s in slides]
    assert all("<script" not in h for h in headlines)
    assert any("&lt;script&gt;" in h for h in headlines)


def test_nothing_anywhere_holds_the_private_note(hostile: Path) -> None:
    for rel, data in tree(hostile).items():
        assert SECRET.encode() not in data, rel
    # attr_list is not enabled: its syntax stays visible text, never an attribute.
    heading = page(hostile, "stories/s/").find(None, class_="body").find("h2")
    assert heading.text == 'Heading {: onmouseover="alert(12)" }'
    assert set(heading.attrs) == set()


def test_allow_html_keeps_harmless_html_and_still_sanitizes(tmp_path: Path) -> None:
    files = dict(SITE)
    files["site.yaml"] = "title: Allowing\nbase_url: https://example.org/x/\nallow_html: true\n"
    files["content/stories/html.yaml"] = (
        "title: Html\ndate: 2025-11-20\ntopics: [t]\nsummary: |\n"
        '  Some <b>bold</b> and <abbr title="World Trade Organization">WTO</abbr>\n'
        '  <span onclick="alert(1)">x</span> <script>alert(1)</script> <a href="javascript:alert(1)">j</a>\n'
        "  <!-- SECRET-EDITOR-NOTE -->\n"
    )
    site = write_files(tmp_path / "site", files)
    out = build(site, "2025-11-25")
    for rel in tree(out):
        if rel.endswith(".html"):
            scan_html(read(out, rel), rel)
    lede = page(out, "stories/html/").find(None, class_="lede")
    assert lede.find("b").text == "bold"
    assert lede.find("abbr").attrs["title"] == "World Trade Organization"
    assert "alert" not in read(out, "stories/html/index.html").split('class="lede')[1].split("</div>")[0]


@pytest.mark.parametrize(
    "record,field",
    [
        ("content/people/p.yaml", "url: javascript:alert(1)"),
        ("content/people/p.yaml", "url: ' JaVaScRiPt:alert(1)'"),
        ("content/people/p.yaml", "url: data:text/html,x"),
        ("content/quotes/q.yaml", "source: {name: n, url: 'javascript:alert(1)'}"),
        ("content/stories/s.yaml", "source:\n  name: n\n  url: vbscript:msgbox(1)"),
    ],
)
def test_url_fields_with_bad_schemes_are_errors_at_check(tmp_path: Path, record: str, field: str) -> None:
    files = dict(SITE)
    text = files[record]
    if record.endswith("s.yaml"):
        text = re.sub(r"source:\n(  .*\n)+", "", text)
    files[record] = text + field + "\n"
    site = write_files(tmp_path / "site", files)
    run = site_gen("--site", site, "check", "--as-of", "2025-11-25")
    assert run.code == 1, run
    assert re.search(rf"^{re.escape(record)}:\d+:\d+: error: ", run.stderr, re.M), run.stderr
    assert site_gen("--site", site, "build", "--as-of", "2025-11-25").code == 1


def test_data_never_becomes_a_template(tmp_path: Path) -> None:
    files = dict(SITE)
    files["content/stories/tpl.yaml"] = (
        "title: '{{ 7*7 }} {% if true %}x{% endif %}'\ndate: 2025-11-20\ntopics: [t]\nsummary: '{{ site }}'\n"
    )
    out = build(write_files(tmp_path / "site", files), "2025-11-25")
    doc = page(out, "stories/tpl/")
    assert doc.find("h1").text.startswith("{{ 7*7 }} {% if true %}x{% endif %}")
    assert "{{ site }}" in doc.find(None, class_="lede").text


# -- the rules behind the corpus, one by one -----------------------------------


def test_sanitizer_not_markdown_options_removes_the_payload() -> None:
    payload = "<script>alert(1)</script> <b onmouseover=alert(1)>x</b>"
    unsafe = markdown.markdown(payload)
    assert "<script>" in unsafe  # Python-Markdown itself passes it through
    cleaned = MarkdownRenderer(allow_html=True).render(payload)
    assert "<script" not in cleaned and "onmouseover" not in cleaned
    assert "<b>x</b>" in cleaned


def test_every_template_autoescapes_whatever_its_name(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    for name in ("x.html.j2", "x.txt", "x.j2"):
        (tmp_path / "templates" / name).write_text("{{ value }}")
    env = make_environment(tmp_path)
    for name in ("x.html.j2", "x.txt", "x.j2"):
        assert env.get_template(name).render(value="<script>") == "&lt;script&gt;"


class Shown:
    """An object that says how it is shown in HTML."""

    def __html__(self) -> str:
        return "<em>shown</em>"

    def __str__(self) -> str:
        return "<never>"


def test_output_escapes_as_jinja_does_and_passes_markup_as_it_is(tmp_path: Path) -> None:
    env = make_environment(tmp_path)
    source = (
        "{% macro m(x) %}<b>{{ x }}</b>{% endmacro %}"
        "{{ m(value) }}|{{ value }}|{{ shown }}|{{ 3 }}|{{ markup }}"
        "|{% set s %}{{ value }}{% endset %}{{ s }}"
        "|{% autoescape false %}{{ value }}{% endautoescape %}"
        "|{% filter upper %}{{ value }}{% endfilter %}"
        "|{% macro c() %}[{{ caller() }}]{% endmacro %}{% call c() %}{{ value }}{% endcall %}"
        "|{{ [value, markup]|join(value) }}"
    )
    values = {"value": "<i>&", "shown": Shown(), "markup": Markup("<p>kept</p>")}
    ours = env.from_string(source).render(**values)
    plain = jinja2.Environment(autoescape=True).from_string(source).render(**values)
    assert ours == plain
    assert ours == (
        "<b>&lt;i&gt;&amp;</b>|&lt;i&gt;&amp;|<em>shown</em>|3|<p>kept</p>|&lt;i&gt;&amp;|<i>&"
        "|&LT;I&GT;&AMP;|[&lt;i&gt;&amp;]|&lt;i&gt;&amp;&lt;i&gt;&amp;<p>kept</p>"
    )
    # the generated code calls output_text, and it hands Markup back as the same object
    assert "environment.output_text(" in env.compile("{{ x }}", raw=True)
    kept = Markup("<li>an entry</li>")
    assert output_text(kept) is kept
    assert output_text("<") == "&lt;"
    for text in ["", "plain", "<&>'\"", "é 🙂 \x00", "a" * 1000 + "&"]:
        assert output_text(text) == escape(text)


def test_safe_url_allows_only_http_https_mailto_and_relative() -> None:
    assert safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert safe_url("mailto:x@example.org") == "mailto:x@example.org"
    assert safe_url("../relative/") == "../relative/"
    for bad in (
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "vbscript:x",
        "data:text/html,x",
        "java\tscript:x",
    ):
        assert safe_url(bad) is None, bad


THEME = Path(__file__).resolve().parent.parent / "templates"


def test_theme_never_marks_data_safe_and_quotes_every_attribute() -> None:
    for path in sorted(THEME.glob("*.html")):
        text = path.read_text()
        assert "|safe" not in text.replace(" ", ""), path.name
        assert "Markup(" not in text, path.name
        # An attribute value from data is always inside quotes.
        assert not re.search(r"=\s*\{\{", text), path.name
        # Data placed inside <script> goes through tojson.
        for block in re.findall(r"<script[^>]*>(.*?)</script>", text, re.S):
            for expression in re.findall(r"\{\{(.*?)\}\}", block):
                assert "tojson" in expression, (path.name, expression)
