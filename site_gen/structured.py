"""Structured data for search engines and link previews: JSON-LD and Open Graph.

Built from the same view objects the page shows, never from records, so the
markup can only say what the page says. Every page gets one JSON-LD graph:
the page's main entity (a NewsArticle, a Question, a Person, a WebSite...),
the quotes and events it lists, and a BreadcrumbList on every page but home.

Dates keep the precision the editor wrote: a month stays "2025-11" (schema.org
accepts ISO 8601 partial dates), an approximate "2025-05~" becomes "2025-05",
and a day is never invented.

The template renders the graph with `|tojson`, which escapes `<`, `>`, `&` and
`'`, so no record text can close the <script> element it sits in.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from html import unescape
from typing import Any, Callable, Iterable, Mapping

from jinja2 import pass_context, pass_eval_context
from jinja2.filters import do_tojson
from markupsafe import Markup

SCHEMA = "https://schema.org"
LIST_KINDS = ("topics", "timeline", "questions", "people", "quotes", "search")
_TAG = re.compile(r"<[^>]+>")

Node = dict[str, Any]


class Graph(dict[str, Any]):
    """A page's JSON-LD ({"@context", "@graph"}): `tojson` writes it node by node."""


class KeptNode(dict[str, Any]):
    """A node kept between builds (see _kept), with its JSON text once written."""

    __slots__ = ("text",)

    def __init__(self, node: Node) -> None:
        super().__init__(node)
        self.text: str | None = None


def _json(value: Any) -> str:
    """JSON the way Jinja's `tojson` writes it (keys sorted), safe inside <script>."""
    text = json.dumps(value, sort_keys=True)
    return (
        text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")
    )


def _node_json(node: Node) -> str:
    if type(node) is not KeptNode:
        return _json(node)
    if node.text is None:  # kept nodes are never changed once made
        node.text = _json(node)
    return node.text


def graph_json(graph: Graph, keep: bool) -> str:
    """`graph` as `tojson` writes it, the same text; with `keep` (a builder that builds
    again: serve's, build --watch's), each kept node's JSON is written once: a year's
    quotes page holds a thousand quotes, and an edit while serving changed one of
    them (json.dumps of the whole was 9 ms at 10,000 stories)."""
    nodes = graph.get("@graph", ())
    if not keep or not any(type(node) is KeptNode for node in nodes):
        return _json(graph)  # built once, or nothing kept (a story page): one call is quicker
    parts = []
    for key in sorted(graph):
        value = graph[key]
        text = "[" + ", ".join(map(_node_json, value)) + "]" if key == "@graph" else _json(value)
        parts.append(f"{_json(key)}: {text}")
    return "{" + ", ".join(parts) + "}"


@pass_eval_context
def tojson(eval_ctx: Any, value: Any, indent: int | None = None) -> Markup:
    """Jinja's `tojson` filter, quicker for a page's JSON-LD graph (same text)."""
    policies = eval_ctx.environment.policies
    plain_dumps = policies["json.dumps_function"] in (None, json.dumps)
    if (
        type(value) is Graph
        and indent is None
        and plain_dumps
        and policies["json.dumps_kwargs"] == {"sort_keys": True}
    ):
        kept_html = getattr(eval_ctx.environment, "kept_html", None)  # see render.Reuse
        return Markup(graph_json(value, keep=bool(kept_html is not None and kept_html.enabled)))
    return do_tojson(eval_ctx, value, indent)


def plain(html: object) -> str:
    """Text of an HTML fragment (sanitized Markdown), whitespace collapsed."""
    return " ".join(unescape(_TAG.sub(" ", str(html))).split())


def when(date_view: Any) -> str:
    """A date as schema.org reads it: ISO 8601 at the precision written."""
    return str(date_view.machine)


def _absolute(site: Any, path: str) -> str:
    return str(site.base_url) + path


def _drop_empty(node: Node) -> Node:
    return {k: v for k, v in node.items() if v not in (None, "", [], {})}


def _publisher(site: Any) -> Node:
    return {
        "@type": "Organization",
        "@id": _absolute(site, "#publisher"),
        "name": site.title,
        "url": site.base_url,
    }


def _topics(site: Any, links: Iterable[Any]) -> list[Node]:
    return [{"@type": "Thing", "name": t.label, "url": _absolute(site, t.path)} for t in links]


def _person(site: Any, link: Any, role: str | None = None) -> Node:
    return _drop_empty(
        {
            "@type": "Person",
            "name": link.label,
            "url": _absolute(site, link.path) if link.path else None,
            "jobTitle": role,
        }
    )


def breadcrumbs(site: Any, page: Any) -> Node | None:
    """The page's trail as a BreadcrumbList (none for the home page)."""
    if page.kind == "home" or len(page.breadcrumbs) < 2:
        return None
    items = [
        {"@type": "ListItem", "position": number, "name": crumb.label, "item": _absolute(site, crumb.path)}
        for number, crumb in enumerate(page.breadcrumbs, start=1)
    ]
    return {"@type": "BreadcrumbList", "itemListElement": items}


def website(site: Any) -> Node:
    return _drop_empty(
        {
            "@type": "WebSite",
            "@id": _absolute(site, "#website"),
            "name": site.title,
            "url": site.base_url,
            "description": site.description,
            "inLanguage": site.language,
            "publisher": _publisher(site),
            "potentialAction": {
                "@type": "SearchAction",
                "target": {"@type": "EntryPoint", "urlTemplate": _absolute(site, "search/?q={query}")},
                "query-input": "required name=query",
            },
        }
    )


def web_page(site: Any, page: Any, kind: str = "WebPage", about: list[Node] | None = None) -> Node:
    return _drop_empty(
        {
            "@type": kind,
            "@id": page.canonical,
            "url": page.canonical,
            "name": page.title,
            "description": page.description,
            "inLanguage": site.language,
            "isPartOf": {"@id": _absolute(site, "#website")},
            "about": about,
        }
    )


def news_article(site: Any, page: Any, context: Mapping[str, Any]) -> Node:
    """A story: the briefing's own account, crediting its source."""
    story, source = context["story"], context.get("source")
    revised = [d for d in [context.get("updated"), *(c.date for c in context.get("corrections", ()))] if d]
    latest = max(revised, key=lambda d: datetime.fromisoformat(d.iso)) if revised else story.date
    if source is not None and source.author:
        author: Node = {"@type": "Person", "name": source.author}
    elif source is not None:
        author = {"@type": "Organization", "name": source.name, "url": source.url}
    else:
        author = _publisher(site)
    return _drop_empty(
        {
            "@type": "NewsArticle",
            "@id": page.canonical + "#article",
            "headline": story.title,
            "description": page.description,
            "datePublished": when(story.date),
            "dateModified": when(latest),
            "author": _drop_empty(author),
            "publisher": _publisher(site),
            "mainEntityOfPage": {"@type": "WebPage", "@id": page.canonical},
            "url": page.canonical,
            "inLanguage": site.language,
            "about": _topics(site, story.topics),
            "keywords": list(context.get("tags", ())),
            "mentions": [_person(site, p) for p in context.get("people", ())],
            "isBasedOn": source.url if source is not None else None,
        }
    )


# The story page being rendered and its article: json_ld() and open_graph() both
# need it, and making it is a fifth of their cost on a story page.
_last_article: list[tuple[Any, Node]] = []


def _page_article(site: Any, page: Any, context: Mapping[str, Any]) -> Node:
    """news_article for the page rendered with `context` (a Jinja context is made anew
    for each page render, so holding it tells one render from the next)."""
    if _last_article and _last_article[0][0] is context:
        return _last_article[0][1]
    article = news_article(site, page, context)
    _last_article[:] = [(context, article)]
    return article


_KEPT_AT_MOST = 50_000
_kept_nodes: dict[tuple[str, int, str], tuple[Any, Node]] = {}


def forget_kept_nodes() -> None:
    """Let go of every kept node, and the view each holds: called when the views they
    were made for are let go (a batch's process starting its views afresh, a big
    build's end), which would otherwise live on here, up to _KEPT_AT_MOST of them."""
    _kept_nodes.clear()


def _kept(name: str, view: Any, where: str, make: Callable[..., Node], *args: Any) -> Node:
    """`make(*args)`, kept for the same view object at the same place (`where`: what else
    the node depends on). A serving builder keeps views between builds, and the
    big list pages hold a thousand quotes or events."""
    key = (name, id(view), where)
    found = _kept_nodes.get(key)
    if found is not None and found[0] is view:
        return found[1]
    if len(_kept_nodes) >= _KEPT_AT_MOST:
        _kept_nodes.clear()
    node = KeptNode(make(*args))
    _kept_nodes[key] = (view, node)  # the view is held, so its id is not reused meanwhile
    return node


def quotation(site: Any, quote: Any, page: Any, anchored: bool) -> Node:
    """A quote; `anchored` when this page carries the quote's own anchor (the quotes
    pages', which are kept: see _kept)."""
    if not anchored:
        return _quotation(site, quote, page, anchored)
    where = f"{page.canonical}\0{site.base_url}"
    return _kept("quotation", quote, where, _quotation, site, quote, page, anchored)


def _quotation(site: Any, quote: Any, page: Any, anchored: bool) -> Node:
    source = quote.source
    return _drop_empty(
        {
            "@type": "Quotation",
            "@id": f"{page.canonical}#{quote.anchor}" if anchored else None,
            "text": quote.text,
            "spokenByCharacter": _person(site, quote.speaker, quote.speaker_role),
            "dateCreated": when(quote.date),
            "description": quote.context,
            "isBasedOn": _absolute(site, quote.story.path)
            if quote.story
            else (source.url if source else None),
            "citation": source.name if source and not quote.story else None,
            "about": _topics(site, quote.topics),
        }
    )


def question(site: Any, view: Any, url: str) -> Node:
    """A question; answered ones carry their accepted answer."""
    node: Node = {
        "@type": "Question",
        "@id": url + "#question",
        "name": view.question,
        "text": view.question,
        "url": url,
        "dateCreated": when(view.raised),
        "answerCount": 1 if view.status == "answered" and view.answer else 0,
        "about": _topics(site, view.topics),
    }
    if view.status == "answered" and view.answer:
        node["acceptedAnswer"] = _drop_empty(
            {
                "@type": "Answer",
                "text": plain(view.answer),
                "dateCreated": when(view.answered) if view.answered else None,
                "url": url + "#answer",
            }
        )
    return _drop_empty(node)


def events(site: Any, groups: Iterable[Any]) -> list[Node]:
    """The events on a timeline (timeline groups of entries)."""
    found = []
    for group in groups:
        for entry in group.entries:
            if entry.kind != "event":
                continue
            found.append(_kept("event", entry, str(site.base_url), _event, site, entry))
    return found


def _event(site: Any, entry: Any) -> Node:
    return _drop_empty(
        {
            "@type": "Event",
            "@id": _absolute(site, entry.path),
            "name": entry.title,
            "startDate": when(entry.date),
            "description": plain(entry.summary) if entry.summary else None,
            "url": _absolute(site, entry.path),
            "about": _topics(site, entry.topics),
        }
    )


def person(site: Any, page: Any, view: Mapping[str, Any]) -> Node:
    return _drop_empty(
        {
            "@type": "Person",
            "@id": page.canonical + "#person",
            "name": view["name"],
            "jobTitle": view.get("role"),
            "affiliation": {"@type": "Organization", "name": view["org"]} if view.get("org") else None,
            "url": page.canonical,
            "sameAs": view.get("url"),
        }
    )


def graph(context: Mapping[str, Any]) -> Node | None:
    """The JSON-LD of one page (None for the 404 page, which has no address of its own)."""
    site, page = context["site"], context["page"]
    kind = page.kind
    if kind == "not_found":
        return None
    nodes: list[Node] = []
    if kind == "home":
        nodes.append(website(site))
    elif kind == "story":
        nodes.append(_page_article(site, page, context))
        nodes += [quotation(site, q, page, False) for q in context.get("quotes", ())]
    elif kind == "question":
        nodes.append(question(site, context["question"], page.canonical))
    elif kind == "topic":
        topic = context["topic"]
        about = [{"@type": "Thing", "name": topic["title"]}]
        nodes.append(web_page(site, page, "CollectionPage", about))
        nodes += events(site, context.get("timeline", ()))
        nodes += [quotation(site, q, page, False) for q in context.get("quotes", ())]
    elif kind == "person":
        nodes.append(
            _drop_empty(
                {**web_page(site, page, "ProfilePage"), "mainEntity": {"@id": page.canonical + "#person"}}
            )
        )
        nodes.append(person(site, page, context["person"]))
        nodes += [quotation(site, q, page, False) for q in context.get("quotes", ())]
    elif kind in LIST_KINDS:
        nodes.append(web_page(site, page, "SearchResultsPage" if kind == "search" else "CollectionPage"))
        if kind == "timeline":
            nodes += events(site, context.get("timeline", ()))
        elif kind == "quotes":
            nodes += [quotation(site, q, page, True) for q in context.get("quotes", ())]
    else:
        nodes.append(web_page(site, page))
    trail = breadcrumbs(site, page)
    if trail is not None:
        nodes.append(trail)
    return Graph({"@context": SCHEMA, "@graph": nodes})


def open_graph(context: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Open Graph properties beyond the ones every page has: locale and article times."""
    site, page = context["site"], context["page"]
    pairs = [("og:locale", str(site.language).replace("-", "_"))]
    if page.kind == "story":
        article = _page_article(site, page, context)
        pairs.append(("article:published_time", article["datePublished"]))
        pairs.append(("article:modified_time", article["dateModified"]))
        pairs += [("article:section", t.label) for t in context["story"].topics[:1]]
        pairs += [("article:tag", tag) for tag in context.get("tags", ())]
    return pairs


@pass_context
def json_ld_global(context: Any) -> Node | None:
    """Jinja global `json_ld()`: the page's JSON-LD graph."""
    return graph(context)


@pass_context
def open_graph_global(context: Any) -> list[tuple[str, str]]:
    """Jinja global `open_graph()`: extra Open Graph (property, content) pairs."""
    return open_graph(context)
