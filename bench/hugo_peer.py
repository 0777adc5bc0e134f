# ruff: noqa: E501  (Hugo templates are kept one element per line, as Hugo sees them)
"""The same corpus as a Hugo site, for bench/run.py --peers.

Each story, question, person and topic becomes one Markdown page with front
matter; stories carry their topics as a taxonomy, so Hugo makes one list
page per topic (with the topic's own summary from its _index.md). The
templates show about what site-gen's pages show: a story with its summary,
body, source, people, topics and quotes; a topic with every story (date,
title, summary); a person with their quotes; the question list; a home page
with the latest stories; section lists paginated by 100. Markdown fields kept
in front matter (summaries, answers) go through `markdownify`, as site-gen
renders every Markdown field.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

KINDS = ("topics", "stories", "quotes", "questions", "people", "events")

CONFIG = """baseURL = "https://example.org/bench/"
languageCode = "en"
title = "Synthetic Briefing"
disableKinds = ["RSS", "sitemap", "robotsTXT", "404"]
[taxonomies]
  topic = "topics"
[pagination]
  pagerSize = 100
[markup.goldmark.renderer]
  unsafe = false
"""

LAYOUTS = {
    "_default/baseof.html": """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} · {{ site.Title }}</title>
<meta name="description" content="{{ .Params.description | default site.Title }}">
<link rel="canonical" href="{{ .Permalink }}"></head>
<body><header><a href="{{ relURL "" }}">{{ site.Title }}</a>
<nav><a href="{{ relURL "topics/" }}">Topics</a> <a href="{{ relURL "stories/" }}">Stories</a>
<a href="{{ relURL "questions/" }}">Questions</a> <a href="{{ relURL "people/" }}">People</a></nav></header>
<main>{{ block "main" . }}{{ end }}</main><footer>{{ site.Title }}</footer></body></html>
""",
    "_default/single.html": """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<p><time datetime="{{ .Params.written }}">{{ .Date.Format "2 January 2006" }}</time></p>
{{ with .Params.summary }}<div class="lede">{{ . | markdownify }}</div>{{ end }}
{{ .Content }}
{{ with .Params.source }}<p>Source: {{ with .url }}<a href="{{ . }}">{{ end }}{{ .name }}{{ with .url }}</a>{{ end }}</p>{{ end }}
{{ with .Params.people }}<p>People: {{ range . }}<a href="{{ relURL (printf "people/%s/" .) }}">{{ . }}</a> {{ end }}</p>{{ end }}
{{ with .GetTerms "topics" }}<ul>{{ range . }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>{{ end }}
{{ with .Params.quotes }}<section><h2>Quotes</h2>{{ range . }}<blockquote><p>{{ .text }}</p><footer>{{ .speaker }}, {{ .date }}</footer></blockquote>{{ end }}</section>{{ end }}
{{ with .Params.answer }}<h2>Answer</h2>{{ . | markdownify }}{{ end }}
</article>{{ end }}
""",
    "_default/list.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
{{ range .Paginator.Pages }}<article><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<p>{{ .Date.Format "2 January 2006" }}</p>{{ with .Params.summary }}{{ . | markdownify }}{{ end }}</article>
{{ end }}{{ with .Paginator }}{{ if .HasNext }}<a href="{{ .Next.URL }}">Older</a>{{ end }}{{ end }}{{ end }}
""",
    "_default/term.html": """{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}
<ol class="timeline">{{ range .Pages.ByDate.Reverse }}<li><time>{{ .Date.Format "2 January 2006" }}</time>
<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ with .Params.summary }}{{ . | markdownify }}{{ end }}</li>
{{ end }}</ol>{{ end }}
""",
    "_default/terms.html": """{{ define "main" }}<h1>Topics</h1><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> ({{ len .Pages }})</li>{{ end }}</ul>{{ end }}
""",
    "people/single.html": """{{ define "main" }}<h1>{{ .Title }}</h1><p>{{ .Params.role }} {{ .Params.org }}</p>
{{ range .Params.quotes }}<blockquote><p>{{ .text }}</p><footer>{{ .date }}</footer></blockquote>{{ end }}{{ end }}
""",
    "index.html": """{{ define "main" }}<h1>{{ site.Title }}</h1>
{{ range first 50 (where site.RegularPages "Section" "stories").ByDate.Reverse }}<article><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>{{ with .Params.summary }}{{ . | markdownify }}{{ end }}</article>{{ end }}{{ end }}
""",
}


def _records(corpus: Path) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for kind in KINDS:
        for path in sorted((corpus / "content" / kind).rglob("*.yaml")):
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
            for item in data if isinstance(data, list) else [data]:
                item.setdefault("id", path.stem)
                found[kind].append(_plain(item))
    return found


def _plain(value: Any) -> Any:
    """Dates and other YAML types as the text written, for front matter."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _iso(written: Any) -> str:
    text = str(written).rstrip("~?")
    if "T" in text:
        return text
    parts = (text.split("-") + ["01", "01"])[:3]
    return "-".join(parts)


def _page(out: Path, rel: str, front: dict[str, Any], body: str = "") -> None:
    path = out / "content" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    # JSON front matter: exact, and cheap for Hugo to read.
    path.write_text(json.dumps(front, ensure_ascii=False, indent=1) + "\n\n" + body, encoding="utf-8")


def convert(corpus: Path, out: Path) -> int:
    """Write the Hugo site for `corpus` into `out`; returns the number of content pages."""
    if out.exists():
        shutil.rmtree(out)
    (out / "layouts").mkdir(parents=True)
    (out / "hugo.toml").write_text(CONFIG)
    for rel, text in LAYOUTS.items():
        path = out / "layouts" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    records = _records(corpus)
    stories = {s["id"]: s for s in records["stories"]}
    story_quotes: dict[str, list[dict[str, Any]]] = {}
    person_quotes: dict[str, list[dict[str, Any]]] = {}
    for quote in records["quotes"]:
        brief = {"text": quote["text"], "speaker": quote["speaker"], "date": str(quote["date"])}
        person_quotes.setdefault(quote["speaker"], []).append(brief)
        if quote.get("story"):
            story_quotes.setdefault(quote["story"], []).append(brief)
    pages = 0
    for story in stories.values():
        front = {
            "title": story["title"],
            "date": _iso(story["date"]),
            "written": str(story["date"]),
            "topics": story["topics"],
            "summary": story["summary"],
            "source": story.get("source"),
            "people": story.get("people", []),
            "tags": story.get("tags", []),
            "quotes": story_quotes.get(story["id"], []),
            "draft": bool(story.get("draft")),
        }
        _page(out, f"stories/{story['id']}.md", front, story.get("body", ""))
        pages += 1
    for question in records["questions"]:
        front = {
            "title": question["question"],
            "date": _iso(question["raised"]),
            "written": str(question["raised"]),
            "summary": question.get("why_it_matters", ""),
            "answer": question.get("answer", ""),
            "status": question.get("status", "open"),
        }
        _page(out, f"questions/{question['id']}.md", front, question.get("resolution_criteria", ""))
        pages += 1
    for person in records["people"]:
        front = {
            "title": person["name"],
            "role": person.get("role", ""),
            "org": person.get("org", ""),
            "quotes": person_quotes.get(person["id"], []),
        }
        _page(out, f"people/{person['id']}.md", front)
        pages += 1
    for topic in records["topics"]:
        _page(out, f"topics/{topic['id']}/_index.md", {"title": topic["title"]}, topic["summary"])
        pages += 1
    return pages
