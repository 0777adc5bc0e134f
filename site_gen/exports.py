"""Files that are data, not pages: Atom feeds, sitemap, robots.txt, JSON exports."""

from __future__ import annotations

import json
from typing import Any, Callable
from xml.sax.saxutils import escape, quoteattr

from . import __version__
from .index import TOPICAL, Site
from .model import Record
from .routes import Route
from .views import ViewBuilder

FEED_ENTRIES = 50
ATOM = "http://www.w3.org/2005/Atom"


def absolute(site: Site, path: str) -> str:
    return site.config.base_url + path


def _updated(vb: ViewBuilder, record: Record) -> tuple[str, str | None]:
    """The entry's Atom `updated` instant, and the newest correction's note."""
    tz = vb.tz
    moments = [(record.values["date"].start(tz), None)]
    if record.values.get("updated"):
        moments.append((record.values["updated"].start(tz), None))
    for correction in record.values.get("corrections", []):
        moments.append((correction["date"].start(tz), vb.md.render(correction["text"])))
    when, note = max(moments, key=lambda m: m[0])
    return when.isoformat(), note


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
    entries = sorted(((_updated(vb, r), r) for r in records), key=lambda p: (p[0][0], p[1].id), reverse=True)
    entries = entries[:FEED_ENTRIES]
    newest = entries[0][0][0] if entries else f"{site.options.as_of.isoformat()}T00:00:00+00:00"
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


def _entry(vb: ViewBuilder, record: Record, updated: str, note: str | None) -> list[str]:
    site = vb.site
    url = absolute(site, vb.urls.record(record.kind, record.id))
    published = record.values["date"].start(vb.tz).isoformat()
    title = record.values["title"]
    if note:
        title = f"{title} (corrected)"
    summary = vb.md.render(record.values["summary"]) if record.values.get("summary") else ""
    if note:
        summary = f"<p><strong>Correction:</strong></p>{note}{summary}"
    lines = [
        "  <entry>",
        f"    <title>{escape(title)}</title>",
        f"    <id>{escape(url)}</id>",
        f'    <link rel="alternate" type="text/html" href={quoteattr(url)}/>',
        f"    <published>{published}</published>",
        f"    <updated>{updated}</updated>",
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
        "url": absolute(vb.site, vb.urls.record(kind, record_id)),
    }


def record_json(vb: ViewBuilder, record: Record) -> dict[str, Any]:
    """A record with references resolved, dates in both forms and Markdown as HTML."""
    from .fields import KINDS, Date, ListOf, Mapping, Markdown, Ref

    out: dict[str, Any] = {"id": record.id, "url": absolute(vb.site, vb.urls.record(record.kind, record.id))}
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


def briefing_json(vb: ViewBuilder) -> str:
    site = vb.site
    data: dict[str, Any] = {
        "format": "site-gen briefing",
        "version": 1,
        "site": {
            "title": site.config.title,
            "base_url": site.config.base_url,
            "description": site.config.description,
            "language": site.config.language,
            "timezone": site.config.timezone,
        },
        "as_of": site.options.as_of.isoformat(),
    }
    for kind in ("topics", "stories", "quotes", "questions", "people", "events"):
        data[kind] = [record_json(vb, r) for r in site.sorted(site.all(kind))]
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


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
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def _slide(vb: ViewBuilder, record: Record, entry: Any) -> dict[str, Any]:
    from .dates import parse_date

    when = parse_date(entry.date.written)
    slide: dict[str, Any] = {
        "start_date": _timeline_date(vb, when),
        "text": {"headline": _escape_html(entry.title), "text": str(entry.summary or "")},
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
    "timeline_json": timeline_json,
}
