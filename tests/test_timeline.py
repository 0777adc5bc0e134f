"""Timelines: completeness, order, headings, dates at their precision, the data- contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from buildkit import Node, build, fixture_site, page, parse_html, tree, write_files

# Topic alpha's timeline, as the spec orders it: by first instant, coarser
# first at equal instants, then by title (a quote's text, a question's question).
ALPHA = [
    ("2023", [("story-year-only", "story", "2023")]),
    (
        "May 2023",
        [
            ("story-approx-may", "story", "2023-05~"),
            ("event-may-event", "event", "2023-05"),
            ("story-may-day", "story", "2023-05-01"),
            ("quote-ann-old", "quote", "2023-05-01"),
        ],
    ),
    ("2024", [("story-uncertain-year", "story", "2024?")]),
    ("September 2025", [("question-open-oct-raised", "question-raised", "2025-09-01")]),
    (
        "October 2025",
        [
            ("question-answered-one-raised", "question-raised", "2025-10-01"),
            ("question-open-oct-deadline", "question-deadline", "2025-10-15"),
        ],
    ),
    (
        "November 2025",
        [
            ("question-open-nov-deadline", "question-deadline", "2025-11"),
            ("question-open-nov-raised", "question-raised", "2025-11-02"),
            ("story-corrected", "story", "2025-11-10"),
            ("question-answered-one-deadline", "question-deadline", "2025-11-15"),
            ("story-before-vote", "story", "2025-11-20"),
            ("quote-ann-says", "quote", "2025-11-20"),
            ("question-open-later-raised", "question-raised", "2025-11-21"),
            ("question-answered-one-answered", "question-answered", "2025-11-24"),
            ("story-timed", "story", "2025-11-26T23:30:00-05:00"),
        ],
    ),
    ("December 2025", [("event-hearing", "event", "2025-12-05")]),
    (
        "March 2026",
        [
            ("event-summit", "event", "2026-03~"),
            ("question-open-later-deadline", "question-deadline", "2026-03"),
        ],
    ),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = fixture_site(tmp_path_factory.mktemp("timeline") / "site")
    return build(site)


def timeline_groups(doc: Node, within: Node | None = None) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """(heading, [(id, data-kind, data-date)]) for each month section of a timeline."""
    scope = within or doc
    groups = []
    for section in scope.find_all("section", class_="timeline-month"):
        heading = section.find(None, class_="month-heading").text
        entries = [
            (li.attrs["id"] or "", li.attrs["data-kind"] or "", li.attrs["data-date"] or "")
            for li in section.find_all("li", data_kind=True)
        ]
        groups.append((heading, entries))
    return groups


def test_topic_timeline_is_complete_and_in_spec_order(built: Path) -> None:
    doc = page(built, "topics/alpha/")
    section = doc.find("section", aria_labelledby="timeline")
    assert timeline_groups(doc, section) == ALPHA


def test_month_headings_carry_machine_dates(built: Path) -> None:
    doc = page(built, "topics/alpha/")
    machines = [
        t.attrs["datetime"] for t in doc.find_all("h3", class_="month-heading") for t in t.find_all("time")
    ]
    assert machines == ["2023", "2023-05", "2024", "2025-09", "2025-10", "2025-11", "2025-12", "2026-03"]


def test_dates_are_shown_at_their_precision_with_qualifiers(built: Path) -> None:
    doc = page(built, "topics/alpha/")

    def shown(anchor: str) -> str:
        return doc.by_id(anchor).find(None, class_="entry-date").text

    assert shown("story-year-only") == "2023"
    assert shown("story-approx-may") == "c. May 2023"
    assert shown("story-uncertain-year") == "2024?"
    assert shown("event-may-event") == "May 2023"
    assert shown("story-may-day") == "1 May 2023"  # no leading zero
    assert shown("event-summit") == "c. March 2026"
    # A date-time is shown in the site's timezone (UTC here).
    assert shown("story-timed").startswith("27 November 2025, 04:30")
    time = doc.by_id("story-approx-may").find("time")
    assert time.attrs["datetime"] == "2023-05"  # a valid HTML date, qualifier dropped


def test_date_text_replaces_the_date_but_not_its_place(built: Path) -> None:
    doc = page(built, "topics/alpha/")
    entry = doc.by_id("story-before-vote")
    assert entry.find(None, class_="entry-date").text == "before the vote"
    assert entry.find("time").attrs["datetime"] == "2025-11-20"
    assert entry.attrs["data-date"] == "2025-11-20"
    # The story page shows the date text too.
    assert "before the vote" in page(built, "stories/before-vote/").find(None, class_="kicker").text


def test_only_timeline_entries_carry_data_date_and_data_kind(built: Path) -> None:
    kinds = {"story", "event", "quote", "question-raised", "question-deadline", "question-answered"}
    for rel, data in tree(built).items():
        if not rel.endswith(".html"):
            continue
        doc = parse_html(data.decode())
        for node in doc.find_all(None, data_date=True) + doc.find_all(None, data_kind=True):
            assert node.has("data-date") and node.has("data-kind"), (rel, node.attrs)
            assert node.attrs["data-kind"] in kinds, (rel, node.attrs)
            assert "entry" in (node.attrs.get("class") or "").split(), (rel, node.attrs)
            parent = node.parent
            assert parent is not None and parent.tag == "ol" and "timeline" in (parent.attrs["class"] or "")


def test_merged_timeline_holds_every_topic_once(built: Path) -> None:
    shown = [
        entry
        for rel in ("timeline/", "timeline/2024/", "timeline/2023/")
        for _, entries in timeline_groups(page(built, rel))
        for entry in entries
    ]
    anchors = [anchor for anchor, _, _ in shown]
    assert len(anchors) == len(set(anchors))  # a two-topic story appears once
    alpha = {a for _, entries in ALPHA for a, _, _ in entries}
    assert alpha <= set(anchors)
    assert {"story-old-delta", "question-open-nodeadline-raised", "question-dropped-one-raised"} <= set(
        anchors
    )
    entry = page(built, "timeline/").by_id("story-before-vote")
    assert [a.text for a in entry.find(None, class_="topic-tags").find_all("a")] == [
        "Alpha affair",
        "Beta dispute",
    ]


def test_a_topic_timeline_holds_only_its_own_records(built: Path) -> None:
    groups = timeline_groups(page(built, "topics/beta/"))
    anchors = {a for _, entries in groups for a, _, _ in entries}
    assert anchors == {
        "story-before-vote",
        "quote-ann-says",
        "event-summit",
        "question-open-later-raised",
        "question-open-later-deadline",
        "question-open-nodeadline-raised",
        "question-dropped-one-raised",
    }


PRECISION = {
    "site.yaml": "title: P\nbase_url: https://example.org/\ntimezone: Asia/Tokyo\n",
    "content/topics/t.yaml": "title: T\nsummary: s\n",
    "content/stories/s.yaml": """\
- {id: day, title: Zed day, date: 2024-01-01, topics: [t], summary: s}
- {id: month, title: Zed month, date: 2024-01, topics: [t], summary: s}
- {id: year, title: Zed year, date: "2024", topics: [t], summary: s}
- {id: instant, title: Alpha instant, date: "2024-01-01T00:00:00+09:00", topics: [t], summary: s}
- {id: day-b, title: Beta day, date: 2024-01-01, topics: [t], summary: s}
- {id: late-utc, title: Late UTC, date: "2023-12-31T20:00:00Z", topics: [t], summary: s}
""",
}


def test_coarser_first_at_equal_instants_then_title_in_site_timezone(tmp_path: Path) -> None:
    site = write_files(tmp_path / "site", PRECISION)
    out = build(site, "2024-06-01")
    groups = timeline_groups(page(out, "topics/t/"))
    assert [(h, [a for a, _, _ in es]) for h, es in groups] == [
        ("2024", ["story-year"]),
        # 2023-12-31T20:00Z is 1 January 2024, 05:00 in Tokyo: January's heading, after the
        # Tokyo-midnight instant, which shares the first instant of the day-precision dates.
        ("January 2024", ["story-month", "story-day-b", "story-day", "story-instant", "story-late-utc"]),
    ]
    late = page(out, "topics/t/").by_id("story-late-utc").find(None, class_="entry-date").text
    assert late.startswith("1 January 2024, 05:00")
