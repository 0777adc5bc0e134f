"""JSON-LD, Open Graph, Twitter card, canonical and language markup, checked against the records."""

# The fixtures come from readerkit; tests name them as arguments.
# ruff: noqa: F811

from __future__ import annotations

import json
import re
from functools import cache
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment
from readerkit import AS_OF, HOSTILE, REPO, Built, build_site, example, hostile, sites  # noqa: F401

from site_gen.render import Reuse
from site_gen.site import load_site
from site_gen.structured import Graph, KeptNode, tojson

LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.DOTALL)
META = re.compile(r'<meta (property|name)="([^"]+)" content="([^"]*)">')


@cache
def records(root: Path) -> Any:
    result = load_site(root, as_of=AS_OF)
    assert result.ok
    return result.site


def graph(site: Built, page: str) -> list[dict[str, Any]]:
    blocks = LD.findall(site.html(page))
    assert len(blocks) == 1, (page, len(blocks))
    data = json.loads(blocks[0])
    assert data["@context"] == "https://schema.org"
    assert all("@type" in node for node in data["@graph"])
    return data["@graph"]


def of_type(nodes: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [n for n in nodes if n["@type"] == kind]


def one(nodes: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = of_type(nodes, kind)
    assert len(found) == 1, (kind, [n["@type"] for n in nodes])
    return found[0]


def meta(site: Built, page: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for _, key, value in META.findall(site.html(page)):
        found.setdefault(key, []).append(unescape(value))
    return found


def written(when: Any) -> str:
    """A record's date as written, without its qualifier: what JSON-LD must say."""
    return when.text.rstrip("~?") if when.instant is None else when.instant.isoformat()


def base_of(site: Built) -> str:
    return records(REPO if site.name == "example" else HOSTILE).config.base_url


def addressed(site: Built) -> list[str]:
    return [p for p in site.pages() if p != "404.html"]


# -- every page -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["example", "hostile"])
def test_every_page_has_one_graph_and_breadcrumbs_but_home(sites: dict[str, Built], name: str) -> None:  # noqa: F811
    site = sites[name]
    base = base_of(site)
    for page in addressed(site):
        nodes = graph(site, page)
        trails = of_type(nodes, "BreadcrumbList")
        if page == "":
            assert not trails
            continue
        assert len(trails) == 1, page
        items = trails[0]["itemListElement"]
        assert [i["position"] for i in items] == list(range(1, len(items) + 1))
        assert len(items) >= 2 and items[0]["item"] == base
        assert items[-1]["item"] == base + page, page
        assert all(i["item"].startswith(base) and i["name"] for i in items)
    assert not LD.findall(site.html("404.html"))


@pytest.mark.parametrize("name", ["example", "hostile"])
def test_canonical_open_graph_twitter_and_language(sites: dict[str, Built], name: str) -> None:  # noqa: F811
    site = sites[name]
    base, language = base_of(site), records(REPO if name == "example" else HOSTILE).config.language
    for page in addressed(site):
        html, tags = site.html(page), meta(site, page)
        url = base + page
        assert f'<link rel="canonical" href="{url}">' in html, page
        assert f'<link rel="alternate" hreflang="{language}" href="{url}">' in html, page
        assert re.search(rf'<html lang="{language}"[ >]', html), page
        assert tags["og:url"] == [url] and tags["og:locale"] == [language]
        assert tags["og:title"][0] and tags["og:description"][0] and tags["og:site_name"][0]
        assert tags["og:type"] == ["article" if page.startswith("stories/") else "website"]
        assert tags["twitter:card"] == ["summary"] and tags["twitter:title"] == tags["og:title"]
    missing = site.html("404.html")
    assert 'rel="canonical"' not in missing and '<meta name="robots" content="noindex">' in missing


def test_home_is_a_website_with_a_search_action(example: Built) -> None:  # noqa: F811
    config = records(REPO).config
    site = one(graph(example, ""), "WebSite")
    assert site["name"] == config.title and site["url"] == config.base_url
    assert site["inLanguage"] == "en" and site["description"] == config.description
    action = site["potentialAction"]
    assert action["target"]["urlTemplate"] == config.base_url + "search/?q={query}"
    assert action["query-input"] == "required name=query"


# -- page kinds against the records ---------------------------------------------


@pytest.mark.parametrize("name", ["example", "hostile"])
def test_story_is_a_news_article_that_matches_its_record(sites: dict[str, Built], name: str) -> None:  # noqa: F811
    site = sites[name]
    data = records(REPO if name == "example" else HOSTILE)
    base = data.config.base_url
    assert data.records["stories"]
    for story_id, record in data.records["stories"].items():
        v = record.values
        article = one(graph(site, f"stories/{story_id}/"), "NewsArticle")
        url = f"{base}stories/{story_id}/"
        assert article["headline"] == v["title"]
        assert article["datePublished"] == written(v["date"])
        revisions = [v["updated"]] if v.get("updated") else []
        revisions += [c["date"] for c in v.get("corrections", [])]
        latest = max(revisions, key=lambda d: d.start(data.config.tz)) if revisions else v["date"]
        assert article["dateModified"] == written(latest)
        assert article["mainEntityOfPage"] == {"@type": "WebPage", "@id": url} and article["url"] == url
        assert article["publisher"]["name"] == data.config.title
        source = v.get("source")
        if source and source.get("author"):
            assert article["author"] == {"@type": "Person", "name": source["author"]}
        elif source:
            assert article["author"]["@type"] == "Organization"
            assert article["author"]["name"] == source["name"]
        else:
            assert article["author"]["name"] == data.config.title
        assert {t["name"] for t in article["about"]} == {
            data.records["topics"][t].values["title"] for t in v["topics"]
        }
        tags = meta(site, f"stories/{story_id}/")
        assert tags["article:published_time"] == [article["datePublished"]]
        assert tags["article:modified_time"] == [article["dateModified"]]


@pytest.mark.parametrize("name", ["example", "hostile"])
def test_question_carries_its_accepted_answer_only_when_answered(sites: dict[str, Built], name: str) -> None:  # noqa: F811
    site = sites[name]
    data = records(REPO if name == "example" else HOSTILE)
    statuses = set()
    for question_id, record in data.records["questions"].items():
        v = record.values
        statuses.add(v["status"])
        node = one(graph(site, f"questions/{question_id}/"), "Question")
        assert node["name"] == v["question"] and node["text"] == v["question"]
        assert node["dateCreated"] == written(v["raised"])
        if v["status"] == "answered":
            answer = node["acceptedAnswer"]
            assert answer["@type"] == "Answer" and node["answerCount"] == 1
            assert answer["dateCreated"] == written(v["answered"])
            # Plain text: the answer's own words, none of our markup.
            assert answer["text"] and "<p>" not in answer["text"] and "<strong>" not in answer["text"]
        else:
            assert "acceptedAnswer" not in node and node["answerCount"] == 0
    assert {"open", "answered"} <= statuses


def test_accepted_answer_is_the_answers_text(example: Built) -> None:  # noqa: F811
    record = records(REPO).records["questions"]["beijing-suspends-october-controls"]
    assert record.values["status"] == "answered"
    node = one(graph(example, "questions/beijing-suspends-october-controls/"), "Question")
    first_words = " ".join(record.values["answer"].replace("*", "").split()[:4])
    assert node["acceptedAnswer"]["text"].startswith(first_words)


@pytest.mark.parametrize("name", ["example", "hostile"])
def test_quotations_on_the_quote_pages_and_person_pages(sites: dict[str, Built], name: str) -> None:  # noqa: F811
    site = sites[name]
    data = records(REPO if name == "example" else HOSTILE)
    quote_pages = [p for p in site.pages() if p.startswith("quotes/")]
    listed = [q for page in quote_pages for q in of_type(graph(site, page), "Quotation")]
    assert len(listed) == len(data.records["quotes"])
    by_text = {q["text"]: q for q in listed}
    for record in data.records["quotes"].values():
        v = record.values
        node = by_text[v["text"]]
        speaker = data.records["people"][v["speaker"]].values["name"]
        assert node["spokenByCharacter"]["name"] == speaker
        assert node["dateCreated"] == written(v["date"])
        assert node["@id"].endswith(f"#quote-{record.id}")
    for person_id, person in data.records["people"].items():
        nodes = graph(site, f"people/{person_id}/")
        assert one(nodes, "Person")["name"] == person.values["name"]
        assert one(nodes, "ProfilePage")["mainEntity"] == {"@id": one(nodes, "Person")["@id"]}
        said = {q.values["text"] for q in data.records["quotes"].values() if q.values["speaker"] == person_id}
        assert {q["text"] for q in of_type(nodes, "Quotation")} == said


@pytest.mark.parametrize("name", ["example", "hostile"])
def test_events_on_their_topic_pages_keep_the_written_precision(sites: dict[str, Built], name: str) -> None:  # noqa: F811
    site = sites[name]
    data = records(REPO if name == "example" else HOSTILE)
    base = data.config.base_url
    assert data.records["events"]
    for event_id, record in data.records["events"].items():
        v = record.values
        for topic_id in v["topics"]:
            events = {e["name"]: e for e in of_type(graph(site, f"topics/{topic_id}/"), "Event")}
            node = events[v["title"]]
            assert node["startDate"] == written(v["date"]), (event_id, node["startDate"])
            assert node["url"] == f"{base}topics/{v['topics'][0]}/#event-{event_id}"
    timeline = {
        e["name"] for p in site.pages() if p.startswith("timeline/") for e in of_type(graph(site, p), "Event")
    }
    assert timeline == {r.values["title"] for r in data.records["events"].values()}


def test_partial_and_approximate_dates_never_gain_a_day(hostile: Built) -> None:  # noqa: F811
    assert one(graph(hostile, "stories/rtl-story/"), "NewsArticle")["datePublished"] == "2025-11"
    assert one(graph(hostile, "stories/script-story/"), "NewsArticle")["datePublished"] == "2025-06"
    timed = one(graph(hostile, "stories/long-word-story/"), "NewsArticle")
    assert timed["datePublished"] == "2025-11-12T23:45:00+09:00" and timed["dateModified"] == "2025-11-15"
    quotes = {q["text"][:7]: q for q in of_type(graph(hostile, "people/long-name/"), "Quotation")}
    assert quotes["We said"]["dateCreated"] == "2024"
    events = {e["@id"].rsplit("#", 1)[1]: e for e in of_type(graph(hostile, "topics/long-title/"), "Event")}
    assert events["event-script-event"]["startDate"] == "2026-01"
    assert events["event-year-event"]["startDate"] == "2024"


def test_record_text_cannot_close_the_script_element(hostile: Built) -> None:  # noqa: F811
    for page in addressed(hostile):
        html = hostile.html(page)
        for block in LD.findall(html):
            assert "<" not in block and ">" not in block, page
        # Only the JSON-LD block (and the search page's own deferred scripts) are scripts.
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts.count('<script type="application/ld+json">') == 1, page
        assert len(scripts) == (3 if page == "search/" else 1), (page, scripts)
    headline = one(graph(hostile, "stories/script-story/"), "NewsArticle")["headline"]
    assert headline == records(HOSTILE).records["stories"]["script-story"].values["title"]
    assert "</script><script>alert('story')</script>" in headline


@pytest.mark.parametrize(("language", "direction", "locale"), [("ar", "rtl", "ar"), ("en-GB", None, "en_GB")])
def test_language_from_site_yaml_sets_lang_dir_hreflang_and_locale(
    tmp_path: Path, language: str, direction: str | None, locale: str
) -> None:
    site = tmp_path / "site"
    (site / "content/topics").mkdir(parents=True)
    (site / "site.yaml").write_text(f"title: T\nbase_url: https://example.org/t/\nlanguage: {language}\n")
    (site / "content/topics/a.yaml").write_text("title: A\nsummary: S.\n")
    out = build_site(site, tmp_path / "out")
    html = (out / "topics/a/index.html").read_text(encoding="utf-8")
    opening = f'<html lang="{language}"' + (f' dir="{direction}"' if direction else "") + ">"
    assert opening in html
    assert f'hreflang="{language}" href="https://example.org/t/topics/a/"' in html
    assert f'<meta property="og:locale" content="{locale}">' in html
    nodes = json.loads(LD.findall((out / "index.html").read_text(encoding="utf-8"))[0])["@graph"]
    assert one(nodes, "WebSite")["inLanguage"] == language


GRAPH_VALUES: list[Any] = [
    "plain",
    "</script><script>alert('x')</script> & more",
    "non-ASCII: Zürich – 北京 \u2028 😀",
    12,
    1.5,
    None,
    True,
    ["a", {"b": "<c>"}],
    {"z": 1, "a": {"y": [], "b": "'"}},
]


def test_a_graph_is_written_as_tojson_writes_it_and_each_kept_node_once() -> None:
    """The JSON-LD filter writes a page's graph node by node, keeping the text of the
    nodes serve keeps between builds (a year's quotes page holds a thousand): the text
    must be exactly Jinja's `tojson`, whatever the nodes hold."""
    env = Environment(autoescape=True)
    env.filters["tojson"] = tojson
    env.kept_html = Reuse()  # type: ignore[attr-defined]
    env.kept_html.enabled = True  # a builder that builds again (serve's) keeps the texts
    template = env.from_string("{{ ld|tojson }}")
    plain_jinja = Environment(autoescape=True).from_string("{{ ld|tojson }}")
    for count in range(6):
        nodes: list[Any] = []
        for n in range(count):
            node = {"@type": "Quotation", "text": GRAPH_VALUES[n % len(GRAPH_VALUES)], "n": n}
            node["extra"] = GRAPH_VALUES[(n * 5 + 3) % len(GRAPH_VALUES)]
            nodes.append(KeptNode(node) if n % 2 == 0 else node)
        graph = Graph({"@context": "https://schema.org", "@graph": nodes})
        expected = plain_jinja.render(ld=dict(graph))
        assert template.render(ld=graph) == expected
        assert template.render(ld=graph) == expected  # again, from the kept texts
        assert json.loads(unescape(expected)) == json.loads(expected)  # valid JSON either way
    kept = KeptNode({"text": "once"})
    graph = Graph({"@context": "https://schema.org", "@graph": [kept]})
    template.render(ld=graph)
    first = kept.text
    assert first is not None and "once" in first
    template.render(ld=graph)
    assert kept.text is first  # written once
    env.kept_html.enabled = False  # a build that builds once keeps nothing
    once = KeptNode({"text": "<once>"})
    built_once = Graph({"@context": "https://schema.org", "@graph": [once]})
    assert template.render(ld=built_once) == plain_jinja.render(ld=dict(built_once))
    assert once.text is None
    other = {"not": "a graph", "x": "<"}
    assert template.render(ld=other) == plain_jinja.render(ld=other)
