"""Files that are data, not pages: Atom feeds, sitemap, robots.txt, JSON exports."""

from __future__ import annotations

import heapq
import json
from datetime import datetime
from typing import Any, Callable
from xml.sax.saxutils import escape, quoteattr

from . import __version__
from .index import TOPICAL, Site
from .jsontext import dumps_indented
from .model import Record
from .routes import Route
from .views import ViewBuilder

FEED_ENTRIES = 50
ATOM = "http://www.w3.org/2005/Atom"


def absolute(site: Site, path: str) -> str:
    return site.config.base_url + path


def _updated(vb: ViewBuilder, record: Record) -> tuple[datetime, str | None]:
    """The entry's Atom `updated` instant, and the newest correction (named and dated).

    Only revisions dated up to the as-of date count: the briefing cannot know later ones.
    """
    tz, as_of = vb.tz, vb.site.options.as_of
    moments: list[tuple[datetime, str | None]] = [(record.values["date"].start(tz), None)]
    updated = record.values.get("updated")
    if updated and updated.first_day(tz) <= as_of:
        moments.append((updated.start(tz), None))
    for correction in record.values.get("corrections", []):
        when = correction["date"]
        if when.first_day(tz) <= as_of:
            label = f"<p><strong>Correction ({escape(when.display(tz))}):</strong></p>"
            moments.append((when.start(tz), label + vb.md.render(correction["text"])))
    # max() keeps the first of equal instants: a correction on the story's own day still counts.
    return max(reversed(moments), key=lambda m: m[0])


def feed(vb: ViewBuilder, topic_id: str) -> str:
    """Atom feed of stories and events (of one topic, or of the whole site)."""
    site = vb.site
    if topic_id:
        records = [r for k in ("stories", "events") for r in site.topic_records(topic_id, k)]
        title = f"{site.records['topics'][topic_id].values['title']} · {site.config.title}"
        self_path, page_path = f"topics/{topic_id}/feed.xml", f"topics/{topic_id}/"
    else:
        records = site.all("stories") + site.all("events")
        title, self_path, page_path = site.config.title, "feed.xml", ""
    records = [r for r in records if r.values["date"].first_day(vb.tz) <= site.options.as_of]
    updated = [(vb.cached("feed_updated", r, lambda record: _updated(vb, record)), r) for r in records]
    # The newest few of thousands: the same as sorting them all, newest first, and cutting.
    entries = heapq.nlargest(FEED_ENTRIES, updated, key=lambda p: (p[0][0], p[1].id))
    newest = entries[0][0][0].isoformat() if entries else f"{site.options.as_of.isoformat()}T00:00:00+00:00"
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="{ATOM}" xml:lang={quoteattr(site.config.language)}>',
        f"  <title>{escape(title)}</title>",
        f"  <id>{escape(absolute(site, self_path))}</id>",
        f'  <link rel="self" type="application/atom+xml" href={quoteattr(absolute(site, self_path))}/>',
        f'  <link rel="alternate" type="text/html" href={quoteattr(absolute(site, page_path))}/>',
        f"  <updated>{newest}</updated>",
        f'  <generator version="{__version__}">site-gen</generator>',
    ]
    if site.config.description:
        lines.append(f"  <subtitle>{escape(site.config.description)}</subtitle>")
    for (updated, note), record in entries:
        lines.extend(_entry(vb, record, updated, note))
    lines.append("</feed>")
    return "\n".join(lines) + "\n"


def _entry(vb: ViewBuilder, record: Record, updated: datetime, note: str | None) -> list[str]:
    site = vb.site
    url = absolute(site, vb.urls.record(record.kind, record.id))
    when = record.values["date"]
    published = when.start(vb.tz).isoformat()
    title = record.values["title"]
    if note:
        title = f"{title} (corrected)"
    summary = vb.md.render(record.values["summary"]) if record.values.get("summary") else ""
    # Atom dates are exact instants; the date as the briefing shows it goes in the text.
    if record.values.get("date_text") or when.qualifier:
        summary = f"<p>{escape(vb.shown_date(record))}</p>{summary}"
    if note:
        summary = note + summary
    lines = [
        "  <entry>",
        f"    <title>{escape(title)}</title>",
        f"    <id>{escape(url)}</id>",
        f'    <link rel="alternate" type="text/html" href={quoteattr(url)}/>',
        f"    <published>{published}</published>",
        f"    <updated>{updated.isoformat()}</updated>",
        f"    <author><name>{escape(_author(site, record))}</name></author>",
    ]
    lines += [
        f"    <category term={quoteattr(t)}/>" for t in site.topics_of.get((record.kind, record.id), [])
    ]
    if summary:
        lines.append(f'    <summary type="html">{escape(summary)}</summary>')
    lines.append("  </entry>")
    return lines


def _author(site: Site, record: Record) -> str:
    source = record.values.get("source") or {}
    return source.get("author") or source.get("name") or site.config.title


def sitemap(vb: ViewBuilder, pages: list[Route]) -> str:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for route in pages:
        lines.append(f"  <url><loc>{escape(absolute(vb.site, route.url_path))}</loc></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def robots(vb: ViewBuilder) -> str:
    return f"User-agent: *\nAllow: /\n\nSitemap: {absolute(vb.site, 'sitemap.xml')}\n"


# -- JSON exports -----------------------------------------------------------


def _date(vb: ViewBuilder, when: Any) -> dict[str, str] | None:
    if when is None:
        return None
    return {
        "text": when.text,
        "iso": when.iso(vb.tz),
        "display": when.display(vb.tz),
        "precision": when.precision,
        "qualifier": when.qualifier or None,
    }


def _ref(vb: ViewBuilder, kind: str, record_id: str) -> dict[str, str]:
    record = vb.site.records[kind][record_id]
    return {
        "id": record_id,
        "label": vb.site.label(record),
        "permalink": absolute(vb.site, vb.urls.record(kind, record_id)),
    }


def record_json(vb: ViewBuilder, record: Record) -> dict[str, Any]:
    """A record with references resolved, dates in both forms and Markdown as HTML."""
    from .fields import KINDS, Date, ListOf, Mapping, Markdown, Ref

    # `permalink`, not `url`: a person's own `url` field keeps its name.
    out: dict[str, Any] = {
        "id": record.id,
        "permalink": absolute(vb.site, vb.urls.record(record.kind, record.id)),
    }
    if record.draft:
        out["draft"] = True
    for spec in KINDS[record.kind].fields:
        value = record.values.get(spec.name)
        if spec.name in ("id", "draft") or value is None:
            continue
        kind = spec.type
        if isinstance(kind, Date):
            out[spec.name] = _date(vb, value)
        elif isinstance(kind, Markdown):
            out[spec.name] = vb.md.render(value)
        elif isinstance(kind, Ref):
            out[spec.name] = _ref(vb, kind.kind, value)
        elif isinstance(kind, ListOf) and isinstance(kind.item, Ref):
            out[spec.name] = [_ref(vb, kind.item.kind, v) for v in value]
        elif isinstance(kind, ListOf) and isinstance(kind.item, Mapping):
            out[spec.name] = [{"date": _date(vb, c["date"]), "text": vb.md.render(c["text"])} for c in value]
        else:
            out[spec.name] = value
    if record.kind in TOPICAL:
        out["topics"] = [_ref(vb, "topics", t) for t in vb.site.topics_of.get((record.kind, record.id), [])]
    if record.kind == "questions":
        out["overdue"] = vb.site.is_overdue(record)
    return out


def briefing_json(vb: ViewBuilder, record: Callable[[ViewBuilder, Record], Any] | None = None) -> str:
    """The whole export; `record` stands in for record_json (the builder reuses unchanged records')."""
    site = vb.site
    make = record or record_json
    data: dict[str, Any] = {
        "$schema": absolute(site, SCHEMA_PATH),
        "format": "site-gen briefing",
        "version": BRIEFING_VERSION,
        "site": {
            "title": site.config.title,
            "base_url": site.config.base_url,
            "description": site.config.description,
            "language": site.config.language,
            "timezone": site.config.timezone,
        },
        "as_of": site.options.as_of.isoformat(),
    }
    for kind in KIND_ORDER:
        data[kind] = [make(vb, r) for r in site.sorted(site.all(kind))]
    return dumps_indented(data) + "\n"


BRIEFING_VERSION = 1
SCHEMA_PATH = "data/briefing.schema.json"
KIND_ORDER = ("topics", "stories", "quotes", "questions", "people", "events")


def briefing_schema(vb: ViewBuilder | None = None) -> str:
    """The JSON Schema of /data/briefing.json, derived from the field table."""
    return json.dumps(briefing_schema_data(), ensure_ascii=False, indent=1) + "\n"


def briefing_schema_data() -> dict[str, Any]:
    from .fields import KINDS

    text = {"type": "string"}
    nullable = {"type": ["string", "null"]}
    defs: dict[str, Any] = {
        "date": {
            "type": "object",
            "description": "A date as the editor wrote it, with a sortable ISO 8601 instant.",
            "required": ["text", "iso", "display", "precision", "qualifier"],
            "additionalProperties": False,
            "properties": {
                "text": {**text, "description": "as written in the record, qualifier included"},
                "iso": {**text, "format": "date-time", "description": "the period's first instant"},
                "display": {**text, "description": "as the site shows it ('c. May 2023')"},
                "precision": {"enum": ["year", "month", "day", "datetime"]},
                "qualifier": {"enum": ["~", "?", None]},
            },
        },
        "ref": {
            "type": "object",
            "description": "A reference to another record, resolved.",
            "required": ["id", "label", "permalink"],
            "additionalProperties": False,
            "properties": {"id": text, "label": text, "permalink": {**text, "format": "uri"}},
        },
    }
    for name, kind in KINDS.items():
        defs[name] = _record_schema(name, kind)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "site-gen briefing export",
        "description": "Every published record of a briefing site, references resolved, "
        "dates as written plus a sortable form, Markdown as sanitized HTML.",
        "type": "object",
        "required": ["format", "version", "site", "as_of", *KIND_ORDER],
        "properties": {
            "$schema": {**text, "format": "uri"},
            "format": {"const": "site-gen briefing"},
            "version": {"const": BRIEFING_VERSION},
            "site": {
                "type": "object",
                "required": ["title", "base_url", "description", "language", "timezone"],
                "additionalProperties": False,
                "properties": {
                    "title": text,
                    "base_url": {**text, "format": "uri"},
                    "description": nullable,
                    "language": text,
                    "timezone": text,
                },
            },
            "as_of": {**text, "format": "date"},
            **{k: {"type": "array", "items": {"$ref": f"#/$defs/{k}"}} for k in KIND_ORDER},
        },
        "additionalProperties": False,
        "$defs": defs,
    }


def _record_schema(name: str, kind: Any) -> dict[str, Any]:
    from .fields import Date, ListOf, Mapping, Markdown, Ref, Text

    html = {"type": "string", "description": "sanitized HTML"}
    properties: dict[str, Any] = {
        "id": {"type": "string"},
        "permalink": {"type": "string", "format": "uri", "description": "where the site shows it"},
        "draft": {"const": True, "description": "present only in a build with drafts"},
    }
    required = ["id", "permalink"]
    for spec in kind.fields:
        if spec.name in ("id", "draft"):
            continue
        field = spec.type
        if isinstance(field, Date):
            schema: dict[str, Any] = {"$ref": "#/$defs/date"}
        elif isinstance(field, Markdown):
            schema = dict(html)
        elif isinstance(field, Ref):
            schema = {"$ref": "#/$defs/ref"}
        elif isinstance(field, ListOf) and isinstance(field.item, Ref):
            schema = {"type": "array", "items": {"$ref": "#/$defs/ref"}}
        elif isinstance(field, ListOf) and isinstance(field.item, Mapping):
            schema = {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["date", "text"],
                    "additionalProperties": False,
                    "properties": {"date": {"$ref": "#/$defs/date"}, "text": html},
                },
            }
        elif isinstance(field, Text) or (isinstance(field, ListOf) and isinstance(field.item, Text)):
            # Text is exported as the string it was read as, whatever YAML scalar it came from.
            schema = (
                {"type": "string"}
                if isinstance(field, Text)
                else {"type": "array", "items": {"type": "string"}}
            )
        elif isinstance(field, Mapping):
            schema = {
                "type": "object",
                "additionalProperties": False,
                "required": [f.name for f in field.fields.values() if f.required],
                "properties": {
                    f.name: {"type": "string", "description": f.doc} for f in field.fields.values()
                },
            }
        else:
            schema = field.json_schema()
        if spec.doc:
            note = " (sanitized HTML)" if isinstance(field, Markdown) else ""
            schema = {**schema, "description": spec.doc + note}
        properties[spec.name] = schema
        if spec.required and spec.required_if is None and spec.name != "topics":
            required.append(spec.name)
    if name in TOPICAL:
        properties["topics"] = {"type": "array", "items": {"$ref": "#/$defs/ref"}}
        required.append("topics")
    if name == "questions":
        properties["overdue"] = {"type": "boolean", "description": "open with its deadline passed"}
        required.append("overdue")
    return {"type": "object", "required": required, "additionalProperties": False, "properties": properties}


def _timeline_date(vb: ViewBuilder, when: Any) -> dict[str, Any]:
    if when.instant is not None:
        local = when.instant.astimezone(vb.tz)
        return {
            "year": local.year,
            "month": local.month,
            "day": local.day,
            "hour": local.hour,
            "minute": local.minute,
        }
    found: dict[str, Any] = {"year": when.year}
    if when.precision in ("month", "day"):
        found["month"] = when.month
    if when.precision == "day":
        found["day"] = when.day
    return found


def timeline_json(vb: ViewBuilder, topic_id: str) -> str:
    """The topic's timeline in TimelineJS's JSON format."""
    site = vb.site
    topic = site.records["topics"][topic_id]
    events = []
    for kind in TOPICAL:
        for record in site.topic_records(topic_id, kind):
            for key, entry in vb.entries(record):
                events.append((key, _slide(vb, record, entry)))
    events.sort(key=lambda pair: pair[0])
    data = {
        "title": {
            "text": {
                "headline": _escape_html(topic.values["title"]),
                "text": vb.md.render(topic.values["summary"]),
            }
        },
        "events": [slide for _, slide in events],
    }
    return dumps_indented(data) + "\n"


def _slide(vb: ViewBuilder, record: Record, entry: Any) -> dict[str, Any]:
    from .dates import parse_date

    when = parse_date(entry.date.written)
    text = str(entry.summary or "")
    if entry.quote is not None:
        speaker = ", ".join(p for p in (entry.quote.speaker.label, entry.quote.speaker_role) if p)
        text = f"<p>— {_escape_html(speaker)}</p>"
    slide: dict[str, Any] = {
        "start_date": _timeline_date(vb, when),
        "text": {"headline": _escape_html(entry.title), "text": text},
        "unique_id": entry.anchor,
        "group": entry.label,
        "display_date": entry.date_shown,
    }
    return slide


def _escape_html(text: str) -> str:
    from markupsafe import escape as html_escape

    return str(html_escape(text))


EXPORTS: dict[str, Callable[..., str]] = {
    "feed": feed,
    "robots": robots,
    "briefing_json": briefing_json,
    "briefing_schema": briefing_schema,
    "timeline_json": timeline_json,
}
