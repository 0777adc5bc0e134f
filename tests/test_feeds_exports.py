"""Atom feeds, /data/briefing.json (with its JSON Schema) and TimelineJS timeline.json."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from buildkit import AFTER_DEADLINE, BEFORE_DEADLINE, build, fixture_site, read

REPO = Path(__file__).resolve().parent.parent
A = "{http://www.w3.org/2005/Atom}"
BASE = "https://example.org/brief/"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

EXTRA = {
    # 01:00 UTC on 27 November: before the fixture's "timed" story (04:30 UTC), although its
    # text sorts after it.
    "content/stories/tokyo.yaml": "title: Tokyo morning\ndate: 2025-11-27T10:00:00+09:00\n"
    "topics: [beta]\nsummary: From Tokyo.\n",
    "content/stories/draft.yaml": "title: Draft story\ndate: 2025-11-28\ntopics: [alpha]\nsummary: s\n"
    "draft: true\n",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture_site(tmp_path_factory.mktemp("feeds") / "site", EXTRA)


@pytest.fixture(scope="module")
def out(site: Path) -> Path:
    return build(site, BEFORE_DEADLINE)


def feed(out: Path, rel: str) -> ET.Element:
    root = ET.fromstring(read(out, rel))
    assert root.tag == f"{A}feed"
    return root


def instant(text: str | None) -> datetime:
    assert text and RFC3339.match(text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def entries(root: ET.Element) -> dict[str, ET.Element]:
    found = {}
    for entry in root.findall(f"{A}entry"):
        link = entry.find(f"{A}link[@rel='alternate']")
        assert link is not None
        found[link.get("href", "")] = entry
    return found


@pytest.mark.parametrize("rel", ["feed.xml", "topics/alpha/feed.xml", "topics/beta/feed.xml"])
def test_feeds_are_atom_with_absolute_links_and_rfc3339_dates(out: Path, rel: str) -> None:
    root = feed(out, rel)
    for name in ("id", "title", "updated"):
        assert (root.findtext(f"{A}{name}") or "").strip(), name
    self_link = root.find(f"{A}link[@rel='self']")
    assert self_link is not None and self_link.get("href") == BASE + rel
    alternate = root.find(f"{A}link[@rel='alternate']")
    assert alternate is not None and (alternate.get("href") or "").startswith(BASE)
    newest = instant(root.findtext(f"{A}updated"))
    found = root.findall(f"{A}entry")
    assert found
    ids = [e.findtext(f"{A}id") for e in found]
    assert len(ids) == len(set(ids))
    updates = []
    for entry in found:
        assert (entry.findtext(f"{A}title") or "").strip()
        assert (entry.findtext(f"{A}id") or "").startswith(BASE)
        link = entry.find(f"{A}link[@rel='alternate']")
        assert link is not None and (link.get("href") or "").startswith(BASE)
        published = instant(entry.findtext(f"{A}published"))
        updated = instant(entry.findtext(f"{A}updated"))
        assert updated >= published
        assert entry.find(f"{A}author/{A}name") is not None
        updates.append(updated)
    assert updates == sorted(updates, reverse=True)  # newest first, by instant
    assert newest == updates[0]


def test_site_feed_holds_published_stories_and_events_up_to_the_as_of_date(out: Path) -> None:
    links = set(entries(feed(out, "feed.xml")))
    stories = {"year-only", "approx-may", "uncertain-year", "may-day", "before-vote", "corrected", "timed"}
    stories |= {"old-delta", "tokyo"}
    expected = {f"{BASE}stories/{s}/" for s in stories}
    expected |= {f"{BASE}topics/alpha/#event-may-event"}
    assert links == expected  # no draft, no future event, no quote or question


def test_topic_feed_holds_only_its_topic(out: Path) -> None:
    links = set(entries(feed(out, "topics/beta/feed.xml")))
    assert links == {f"{BASE}stories/before-vote/", f"{BASE}stories/tokyo/"}
    categories = {c.get("term") for c in feed(out, "topics/beta/feed.xml").iter(f"{A}category")}
    assert categories == {"alpha", "beta"}


def test_feed_order_uses_instants_not_text(out: Path) -> None:
    order = list(entries(feed(out, "feed.xml")))
    assert order.index(f"{BASE}stories/timed/") < order.index(f"{BASE}stories/tokyo/")


def test_a_correction_moves_updated_and_is_named(site: Path, tmp_path: Path) -> None:
    after = entries(feed(build(site, BEFORE_DEADLINE, out=tmp_path / "after"), "feed.xml"))
    entry = after[f"{BASE}stories/corrected/"]
    assert instant(entry.findtext(f"{A}updated")).isoformat() == "2025-11-25T00:00:00+00:00"
    assert instant(entry.findtext(f"{A}published")).isoformat() == "2025-11-10T00:00:00+00:00"
    assert entry.findtext(f"{A}title") == "Corrected story (corrected)"
    summary = entry.findtext(f"{A}summary") or ""
    assert "Correction (25 November 2025)" in summary
    assert "An earlier version gave the wrong <strong>figure</strong>." in summary
    # Before the correction's date, the entry is as first updated (12 November), not corrected.
    before = entries(feed(build(site, "2025-11-20", out=tmp_path / "before"), "feed.xml"))
    entry = before[f"{BASE}stories/corrected/"]
    assert instant(entry.findtext(f"{A}updated")).isoformat() == "2025-11-12T00:00:00+00:00"
    assert entry.findtext(f"{A}title") == "Corrected story"
    assert "Correction" not in (entry.findtext(f"{A}summary") or "")


def test_feed_shows_date_text_and_qualified_dates_as_the_site_does(out: Path) -> None:
    found = entries(feed(out, "feed.xml"))
    assert "<p>before the vote</p>" in (found[f"{BASE}stories/before-vote/"].findtext(f"{A}summary") or "")
    assert "<p>c. May 2023</p>" in (found[f"{BASE}stories/approx-may/"].findtext(f"{A}summary") or "")
    assert "<p>1 May 2023</p>" not in (found[f"{BASE}stories/may-day/"].findtext(f"{A}summary") or "")


def test_pages_announce_their_feeds(out: Path) -> None:
    home = read(out, "index.html")
    assert 'type="application/atom+xml"' in home and 'href="feed.xml"' in home
    topic = read(out, "topics/alpha/index.html")
    assert 'href="feed.xml"' in topic  # the topic's own feed, relative to its page


# -- /data/briefing.json ---------------------------------------------------------


def briefing(out: Path) -> dict[str, Any]:
    return json.loads(read(out, "data/briefing.json"))


def by_id(data: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in data[kind]}


def test_briefing_json_validates_against_its_schema(out: Path) -> None:
    schema = json.loads(read(out, "data/briefing.schema.json"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    data = briefing(out)
    assert data["$schema"] == BASE + "data/briefing.schema.json"
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors


def test_briefing_json_has_every_published_record_and_no_draft(out: Path) -> None:
    data = briefing(out)
    assert data["format"] == "site-gen briefing" and data["version"] == 1
    assert data["as_of"] == BEFORE_DEADLINE
    assert data["site"]["base_url"] == BASE
    assert set(by_id(data, "topics")) == {"alpha", "beta", "gamma", "delta"}
    assert set(by_id(data, "stories")) == {
        "year-only",
        "approx-may",
        "uncertain-year",
        "may-day",
        "before-vote",
        "corrected",
        "timed",
        "old-delta",
        "tokyo",
    }
    assert set(by_id(data, "events")) == {"hearing", "may-event", "summit"}
    assert set(by_id(data, "quotes")) == {"ann-says", "ann-old"}
    assert set(by_id(data, "people")) == {"ann"}
    assert len(data["questions"]) == 6
    assert "draft" not in read(out, "data/briefing.json").lower().replace("draft story", "")


def test_briefing_json_fields_match_the_records(out: Path) -> None:
    data = briefing(out)
    story = by_id(data, "stories")["before-vote"]
    assert story["permalink"] == BASE + "stories/before-vote/"
    assert story["date"] == {
        "text": "2025-11-20",
        "iso": "2025-11-20T00:00:00+00:00",
        "display": "20 November 2025",
        "precision": "day",
        "qualifier": None,
    }
    assert story["date_text"] == "before the vote"
    assert story["topics"] == [
        {"id": "alpha", "label": "Alpha affair", "permalink": BASE + "topics/alpha/"},
        {"id": "beta", "label": "Beta dispute", "permalink": BASE + "topics/beta/"},
    ]
    assert story["people"] == [{"id": "ann", "label": "Ann Example", "permalink": BASE + "people/ann/"}]
    assert story["summary"] == "<p>Shown with its date text.</p>"
    approx = by_id(data, "stories")["approx-may"]["date"]
    assert (approx["text"], approx["display"], approx["qualifier"], approx["precision"]) == (
        "2023-05~",
        "c. May 2023",
        "~",
        "month",
    )
    assert by_id(data, "stories")["uncertain-year"]["date"]["display"] == "2024?"
    timed = by_id(data, "stories")["timed"]["date"]
    assert timed["text"] == "2025-11-26T23:30:00-05:00" and timed["precision"] == "datetime"
    corrected = by_id(data, "stories")["corrected"]
    assert corrected["corrections"][0]["date"]["text"] == "2025-11-25"
    assert (
        corrected["corrections"][0]["text"]
        == "<p>An earlier version gave the wrong <strong>figure</strong>.</p>"
    )
    assert corrected["source"] == {
        "name": "Example Wire",
        "url": "https://example.org/wire",
        "author": "A. Writer",
    }
    quote = by_id(data, "quotes")["ann-says"]
    assert quote["speaker"]["permalink"] == BASE + "people/ann/"
    assert quote["story"]["id"] == "before-vote"
    assert [t["id"] for t in quote["topics"]] == ["alpha", "beta"]  # the story's topics
    person = by_id(data, "people")["ann"]
    assert person["url"] == "https://example.org/ann" and person["permalink"] == BASE + "people/ann/"
    event = by_id(data, "events")["hearing"]
    assert event["permalink"] == BASE + "topics/alpha/#event-hearing"
    topic = by_id(data, "topics")["alpha"]
    assert topic["summary"] == "<p>The <strong>alpha</strong> affair, followed since 2023.</p>"
    assert topic["related"] == [{"id": "beta", "label": "Beta dispute", "permalink": BASE + "topics/beta/"}]
    answered = by_id(data, "questions")["answered-one"]
    assert answered["answer"] == "<p>No, she <strong>stayed</strong>.</p>"
    assert answered["answered"]["text"] == "2025-11-24"


def test_iso_dates_sort_like_the_site(out: Path) -> None:
    stories = briefing(out)["stories"]
    isos = [datetime.fromisoformat(s["date"]["iso"]) for s in stories]
    assert isos == sorted(isos)


def test_briefing_json_overdue_follows_the_as_of_date(site: Path, tmp_path: Path) -> None:
    before = by_id(briefing(build(site, BEFORE_DEADLINE, out=tmp_path / "b")), "questions")
    after = by_id(briefing(build(site, AFTER_DEADLINE, out=tmp_path / "a")), "questions")
    assert (before["open-nov"]["overdue"], after["open-nov"]["overdue"]) == (False, True)
    assert before["open-oct"]["overdue"] and after["open-oct"]["overdue"]
    assert not after["answered-one"]["overdue"] and not after["dropped-one"]["overdue"]


def test_drafts_build_marks_draft_records(site: Path, tmp_path: Path) -> None:
    data = briefing(build(site, BEFORE_DEADLINE, "--drafts", out=tmp_path / "d"))
    assert by_id(data, "stories")["draft"]["draft"] is True
    assert "draft" not in by_id(data, "stories")["tokyo"]


# -- TimelineJS --------------------------------------------------------------------

PRECISIONS = ("year", "month", "day", "hour", "minute", "second", "millisecond")


def check_timelinejs(data: dict[str, Any]) -> None:
    """TimelineJS's JSON format rules (its docs' "JSON format" page), as a validator."""
    assert set(data) <= {"events", "title", "eras", "scale"}
    assert isinstance(data["events"], list) and data["events"]
    title = data.get("title")
    if title is not None:
        assert "start_date" not in title and set(title) <= {"text", "media", "background", "unique_id"}
    ids = []
    for slide in data["events"]:
        assert set(slide) <= {
            "start_date",
            "end_date",
            "text",
            "media",
            "group",
            "display_date",
            "background",
            "autolink",
            "unique_id",
        }, slide
        date = slide["start_date"]
        assert set(date) <= {*PRECISIONS, "display_date", "format"}
        assert isinstance(date["year"], int)
        # A finer part only with every coarser part present.
        present = [p in date for p in PRECISIONS]
        assert present == sorted(present, reverse=True), date
        if "month" in date:
            assert 1 <= date["month"] <= 12
        if "day" in date:
            assert 1 <= date["day"] <= 31
        assert set(slide["text"]) <= {"headline", "text"}
        assert isinstance(slide["text"]["headline"], str) and slide["text"]["headline"]
        assert isinstance(slide["unique_id"], str) and slide["unique_id"]
        ids.append(slide["unique_id"])
        if "display_date" in slide:
            assert isinstance(slide["display_date"], str)
    assert len(ids) == len(set(ids))


def test_timeline_json_follows_timelinejs_format_and_the_records(out: Path) -> None:
    data = json.loads(read(out, "topics/alpha/timeline.json"))
    check_timelinejs(data)
    assert data["title"]["text"]["headline"] == "Alpha affair"
    slides = {s["unique_id"]: s for s in data["events"]}
    assert slides["story-year-only"]["start_date"] == {"year": 2023}
    assert slides["story-approx-may"]["start_date"] == {"year": 2023, "month": 5}
    assert slides["story-approx-may"]["display_date"] == "c. May 2023"
    assert slides["story-may-day"]["start_date"] == {"year": 2023, "month": 5, "day": 1}
    assert slides["story-before-vote"]["display_date"] == "before the vote"
    assert slides["story-timed"]["start_date"] == {
        "year": 2025,
        "month": 11,
        "day": 27,
        "hour": 4,
        "minute": 30,
    }
    assert slides["quote-ann-says"]["text"]["headline"] == "We will see."
    assert "Ann Example" in slides["quote-ann-says"]["text"]["text"]
    assert slides["question-open-nov-deadline"]["start_date"] == {"year": 2025, "month": 11}
    assert (
        slides["question-answered-one-answered"]["text"]["text"] == "<p>No, she <strong>stayed</strong>.</p>"
    )
    # The same entries as the topic page's timeline, in the same order.
    page = read(out, "topics/alpha/index.html")
    section = page[page.index('id="timeline"') :]
    anchors = re.findall(r'<li class="entry[^"]*" id="([^"]+)"', section)
    assert [s["unique_id"] for s in data["events"]] == anchors


def test_example_timeline_json_files_follow_timelinejs_format(tmp_path: Path) -> None:
    example = build(REPO, "2025-11-20", out=tmp_path / "out")
    files = sorted(example.glob("topics/*/timeline.json"))
    assert len(files) >= 2
    for path in files:
        check_timelinejs(json.loads(path.read_text()))


def test_timeline_json_headline_is_escaped(tmp_path: Path) -> None:
    site = fixture_site(
        tmp_path / "site",
        {
            "content/stories/x.yaml": "title: 'A <b>bold</b> & \"quoted\"'\n"
            "date: 2025-11-01\ntopics: [alpha]\nsummary: s\n"
        },
    )
    data = json.loads(read(build(site), "topics/alpha/timeline.json"))
    slide = next(s for s in data["events"] if s["unique_id"] == "story-x")
    assert slide["text"]["headline"] == "A &lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoted&#34;"


# -- TimelineJS itself, in Chromium ---------------------------------------------------

TIMELINEJS = "@knight-lab/timelinejs@3.9.11"


@pytest.fixture(scope="session")
def timelinejs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TimelineJS from npm (tests/js when it has it, else a private install); skip if unavailable."""
    shipped = REPO / "tests/js/node_modules/@knight-lab/timelinejs/dist"
    if (shipped / "js/timeline.js").is_file():
        return shipped
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    folder = tmp_path_factory.mktemp("timelinejs")
    try:
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(folder), TIMELINEJS],
            check=True,
            capture_output=True,
            timeout=180,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"npm install {TIMELINEJS} failed: {exc}")
    dist = folder / "node_modules/@knight-lab/timelinejs/dist"
    if not (dist / "js/timeline.js").is_file():
        pytest.skip("TimelineJS installed without dist/js/timeline.js")
    return dist


@pytest.mark.browser
@pytest.mark.slow
def test_timelinejs_renders_the_example_timeline(timelinejs: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    example = build(REPO, "2025-11-20", out=tmp_path / "out")
    data = json.loads((example / "topics/rare-earth-licences/timeline.json").read_text())
    html = tmp_path / "embed.html"
    html.write_text(
        f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{(timelinejs / "css/timeline.css").as_uri()}">
<script src="{(timelinejs / "js/timeline.js").as_uri()}"></script></head>
<body><div id="timeline-embed" style="width: 1000px; height: 600px"></div></body></html>"""
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(html.as_uri())
            page.evaluate(
                """data => new Promise((resolve, reject) => {
                    window.tl = new TL.Timeline('timeline-embed', data);
                    window.tl.on('loaded', resolve);
                    setTimeout(() => reject(new Error('TimelineJS did not load')), 15000);
                })""",
                data,
            )
            slides = page.locator(".tl-slide")
            assert slides.count() == len(data["events"]) + 1  # the title slide too
            markers = page.locator(".tl-timemarker")
            assert markers.count() == len(data["events"])
            text = page.locator("#timeline-embed").inner_text()
            assert "Rare-earth general licences" in text
            headlines = page.eval_on_selector_all(".tl-headline", "els => els.map(e => e.textContent)")
            first = data["events"][0]["text"]["headline"].replace("&#39;", "'").replace("&amp;", "&")
            assert first in headlines
            assert not errors, errors
        finally:
            browser.close()
