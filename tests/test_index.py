"""index: unique ids, references, drafts, relations, date order and overdue questions."""

from __future__ import annotations

import os
from datetime import date

import pytest

from site_gen.site import load_site

AS_OF = "2025-11-20"


def topic(title: str = "T", extra: str = "") -> str:
    return f"title: {title}\nsummary: S\n{extra}"


def event(title: str, when: str, topics: str = "[t]", extra: str = "") -> str:
    return f"title: {title}\ndate: {when}\ntopics: {topics}\n{extra}"


def problems_of(root, **options) -> list[str]:
    return [str(p) for p in load_site(root, as_of=options.pop("as_of", AS_OF), **options).problems]


# --- unique ids -------------------------------------------------------------------------------


def test_duplicate_ids_in_one_kind_across_files(make_site):
    root = make_site(
        {
            "content/topics/t.yaml": topic(),
            "content/events/busan.yaml": event("A", "2025-11-01"),
            "content/events/2025/busan.yml": event("B", "2025-11-02"),
        }
    )
    assert problems_of(root) == [
        "content/events/busan.yaml:1:1: error: duplicate event id 'busan' (also at "
        "content/events/2025/busan.yml:1); ids are unique per kind, rename one"
    ]


def test_duplicate_ids_between_a_list_file_and_a_record_file(make_site):
    root = make_site(
        {
            "content/topics/t.yaml": topic(),
            "content/events/a-list.yaml": "- id: x\n  title: A\n  date: 2025\n  topics: [t]\n"
            "- id: busan\n  title: B\n  date: 2025\n  topics: [t]\n",
            "content/events/busan.yaml": event("C", "2025"),
        }
    )
    assert problems_of(root) == [
        "content/events/busan.yaml:1:1: error: duplicate event id 'busan' (also at "
        "content/events/a-list.yaml:5); ids are unique per kind, rename one"
    ]


def test_duplicate_ids_inside_one_list_file(make_site):
    root = make_site(
        {
            "content/topics/t.yaml": topic(),
            "content/events/list.yaml": "- id: x\n  title: A\n  date: 2025\n  topics: [t]\n"
            "- id: x\n  title: B\n  date: 2025\n  topics: [t]\n",
        }
    )
    assert problems_of(root) == [
        "content/events/list.yaml:5:3: error: duplicate event id 'x' (also at content/events/list.yaml:1); "
        "ids are unique per kind, rename one"
    ]


def test_the_same_id_in_two_kinds_is_fine(make_site):
    root = make_site(
        {
            "content/topics/busan.yaml": topic(),
            "content/events/busan.yaml": event("E", "2025-11-01", "[busan]"),
            "content/stories/busan.yaml": event("S", "2025-11-01", "[busan]", "summary: S\n"),
            "content/people/busan.yaml": "name: Busan\n",
        }
    )
    result = load_site(root, as_of=AS_OF)
    assert result.problems == []
    assert all("busan" in result.site.records[k] for k in ("topics", "events", "stories", "people"))


# --- references -----------------------------------------------------------------------------


def test_unknown_reference_with_did_you_mean_at_the_list_item(make_site):
    root = make_site(
        {
            "content/topics/budget.yaml": topic(),
            "content/topics/trade.yaml": topic(),
            "content/events/e.yaml": "title: E\ndate: 2025-11-01\ntopics:\n  - trade\n  - budgt\n",
        }
    )
    assert problems_of(root) == [
        "content/events/e.yaml:5:5: error: unknown topic 'budgt'; did you mean 'budget'?"
    ]


def test_unknown_reference_without_a_close_id(make_site):
    root = make_site(
        {
            "content/topics/t.yaml": topic(),
            "content/events/e.yaml": event("E", "2025-11-01", "[t, zzzzzz]"),
        }
    )
    assert problems_of(root) == [
        "content/events/e.yaml:3:13: error: unknown topic 'zzzzzz'; create content/topics/zzzzzz.yaml "
        "or fix the id"
    ]


def test_every_kind_of_reference_is_checked(make_site):
    root = make_site(
        {
            "content/topics/t.yaml": topic(extra="related: [tt]\n"),
            "content/stories/s.yaml": event("S", "2025-11-01", extra="summary: S\npeople: [bessant]\n"),
            "content/quotes/q.yaml": "text: Words.\nspeaker: bessant\ndate: 2025-11-01\nstory: ss\n",
            "content/questions/q.yaml": "question: Q?\ntopics: [t]\nraised: 2025-11-01\nstories: [ss]\n",
            "content/events/e.yaml": event("E", "2025-11-01", extra="stories: [s, ss]\n"),
            "content/people/bessent.yaml": "name: Scott Bessent\n",
        }
    )
    assert problems_of(root) == [
        "content/events/e.yaml:4:14: error: unknown story 'ss'; did you mean 's'?",
        "content/questions/q.yaml:4:11: error: unknown story 'ss'; did you mean 's'?",
        "content/quotes/q.yaml:2:10: error: unknown person 'bessant'; did you mean 'bessent'?",
        "content/quotes/q.yaml:4:8: error: unknown story 'ss'; did you mean 's'?",
        "content/stories/s.yaml:5:10: error: unknown person 'bessant'; did you mean 'bessent'?",
        "content/topics/t.yaml:3:11: error: unknown topic 'tt'; did you mean 't'?",
    ]


# --- drafts ---------------------------------------------------------------------------------


def draft_site(make_site):
    return make_site(
        {
            "content/topics/t.yaml": topic(),
            "content/topics/secret.yaml": topic("Secret", "draft: true\n"),
            "content/events/e.yaml": "title: E\ndate: 2025-11-01\ntopics:\n  - t\n  - secret\n",
            "content/events/d.yaml": event("D", "2025-11-01", "[secret]", "draft: true\n"),
        }
    )


def test_a_published_record_referring_to_a_draft_is_an_error(make_site):
    root = draft_site(make_site)
    result = load_site(root, as_of=AS_OF)
    assert [str(p) for p in result.problems] == [
        "content/events/e.yaml:5:5: error: refers to the draft topic 'secret' (content/topics/secret.yaml), "
        "which would be a broken link; publish it (remove draft: true) or remove the reference"
    ]
    assert sorted(result.site.records["topics"]) == ["t"]
    assert sorted(result.site.records["events"]) == ["e"]


def test_with_drafts_a_reference_to_a_draft_is_fine(make_site):
    root = draft_site(make_site)
    result = load_site(root, as_of=AS_OF, drafts=True)
    assert result.problems == []
    assert sorted(result.site.records["topics"]) == ["secret", "t"]
    assert sorted(result.site.records["events"]) == ["d", "e"]
    assert result.site.records["events"]["d"].draft


def test_a_draft_still_gets_unknown_references_reported(make_site):
    root = make_site(
        {
            "content/topics/t.yaml": topic(),
            "content/events/d.yaml": event("D", "2025", "[nope]", "draft: true\n"),
        }
    )
    assert problems_of(root) == [
        "content/events/d.yaml:3:10: error: unknown topic 'nope'; create content/topics/nope.yaml or "
        "fix the id"
    ]


# --- quotes ---------------------------------------------------------------------------------


QUOTE_BASE = {
    "content/topics/t.yaml": topic(),
    "content/people/p.yaml": "name: P\n",
    "content/stories/s.yaml": event("S", "2025-11-01", extra="summary: S\n"),
}


def test_quote_without_story_or_source_gets_a_provenance_warning(make_site):
    root = make_site(
        {**QUOTE_BASE, "content/quotes/q.yaml": "text: Words.\nspeaker: p\ndate: 2025-11-01\ntopics: [t]\n"}
    )
    assert problems_of(root) == [
        "content/quotes/q.yaml:1:1: warning: quote has no provenance; add story: or source: so readers "
        "can check it"
    ]


def test_provenance_after_a_hinted_load_covers_the_quotes_drafts_publish(make_site):
    """A load told what changed (none here) looks only at the changed quotes for
    provenance, unless drafts are now shown: then a draft quote is published too."""
    from site_gen.loader import Loader

    root = make_site(
        {
            **QUOTE_BASE,
            "content/quotes/q.yaml": "text: Words.\nspeaker: p\ndate: 2025-11-01\ntopics: [t]\ndraft: true\n",
        }
    )
    for path in root.rglob("*.yaml"):  # written long ago: a file written this instant is read again
        os.utime(path, (path.stat().st_atime - 60, path.stat().st_mtime - 60))
    loader = Loader(root)
    first = load_site(root, as_of=AS_OF, loader=loader)
    assert first.ok and not first.problems
    hint = {"content/quotes/q.yaml"}  # looked at, unchanged
    again = load_site(root, as_of=AS_OF, loader=loader, hint=hint, previous=first.site, drafts=True)
    assert loader.record_changes == []
    assert [str(p) for p in again.problems] == [
        "content/quotes/q.yaml:1:1: warning: quote has no provenance; add story: or source: so readers "
        "can check it"
    ]


@pytest.mark.parametrize("provenance", ["story: s\n", "source:\n  name: AFP\n"])
def test_quote_with_story_or_source_has_provenance(make_site, provenance):
    root = make_site(
        {
            **QUOTE_BASE,
            "content/quotes/q.yaml": "text: Words.\nspeaker: p\ndate: 2025-11-01\ntopics: [t]\n" + provenance,
        }
    )
    assert problems_of(root) == []


def test_a_quote_without_topics_takes_its_storys(make_site):
    root = make_site(
        {**QUOTE_BASE, "content/quotes/q.yaml": "text: Words.\nspeaker: p\ndate: 2025-11-01\nstory: s\n"}
    )
    site = load_site(root, as_of=AS_OF).site
    quote = site.get("quotes", "q")
    assert [t.id for t in site.record_topics(quote)] == ["t"]
    assert site.topic_records("t", "quotes") == [quote]
    assert site.linked(site.get("people", "p"), "quotes") == [quote]
    assert site.linked(site.get("stories", "s"), "quotes") == [quote]


def test_related_topics_are_symmetric(make_site):
    root = make_site(
        {"content/topics/a.yaml": topic("A", "related: [b, a]\n"), "content/topics/b.yaml": topic("B")}
    )
    site = load_site(root, as_of=AS_OF).site
    assert site.related == {"a": ["b"], "b": ["a"]}


# --- date order -------------------------------------------------------------------------------


def test_records_sort_by_first_instant_coarser_first_then_title(make_site):
    root = make_site(
        {
            "content/topics/t.yaml": topic(),
            "content/events/list.yaml": "".join(
                f"- id: {rid}\n  title: {title}\n  date: '{when}'\n  topics: [t]\n"
                for rid, title, when in [
                    ("e1", "Zeta", "2025-11-01"),
                    ("e2", "Alpha", "2025-11-01"),
                    ("e3", "Month", "2025-11"),
                    ("e4", "Year", "2025"),
                    ("e5", "Instant", "2025-11-01T00:00:00Z"),
                    ("e6", "Approximate", "2025-11~"),
                    ("e7", "Earlier", "2025-10-31T23:59:00Z"),
                    ("e8", "Uncertain", "2025?"),
                ]
            ),
        }
    )
    site = load_site(root, as_of=AS_OF).site
    order = [r.values["title"] for r in site.sorted(site.all("events"))]
    assert order == ["Uncertain", "Year", "Earlier", "Approximate", "Month", "Alpha", "Zeta", "Instant"]
    assert [r.values["title"] for r in site.topic_records("t", "events")] == order


def test_quotes_and_questions_break_ties_by_their_text(make_site):
    root = make_site(
        {
            **QUOTE_BASE,
            "content/quotes/q1.yaml": "text: Beta words.\nspeaker: p\ndate: 2025-11-01\nstory: s\n",
            "content/quotes/q2.yaml": "text: Alpha words.\nspeaker: p\ndate: 2025-11-01\nstory: s\n",
            "content/questions/a.yaml": "question: Why?\ntopics: [t]\nraised: 2025-11-01\n",
            "content/questions/b.yaml": "question: How?\ntopics: [t]\nraised: 2025-11-01\n",
        }
    )
    site = load_site(root, as_of=AS_OF).site
    assert [q.id for q in site.sorted(site.all("quotes"))] == ["q2", "q1"]
    assert [q.id for q in site.sorted(site.all("questions"))] == ["b", "a"]


def test_sorting_uses_the_site_timezone(make_site):
    files = {
        "content/topics/t.yaml": topic(),
        "content/events/day.yaml": event("Day", "2025-11-01"),
        "content/events/instant.yaml": event("Instant", "2025-10-31T16:00:00Z"),
    }
    utc = load_site(make_site(files, name="utc"), as_of=AS_OF).site
    assert [r.id for r in utc.sorted(utc.all("events"))] == ["instant", "day"]
    tokyo = load_site(
        make_site(
            {**files, "site.yaml": "title: B\nbase_url: https://e.org/\ntimezone: Asia/Tokyo\n"}, name="tokyo"
        ),
        as_of=AS_OF,
    ).site
    assert [r.id for r in tokyo.sorted(tokyo.all("events"))] == ["day", "instant"]


# --- overdue questions ------------------------------------------------------------------------


def question(deadline: str, status: str = "open") -> str:
    text = f"question: Q?\ntopics: [t]\nraised: 2025-01-01\ndeadline: {deadline}\nstatus: {status}\n"
    if status == "answered":
        text += "answer: Yes.\nanswered: 2025-12-15\n"
    return text


@pytest.mark.parametrize(
    ("deadline", "status", "as_of", "overdue"),
    [
        ("2025-11", "open", "2025-11-30", False),
        ("2025-11", "open", "2025-12-01", True),
        ("2025-11-30", "open", "2025-11-30", False),
        ("2025-11-30", "open", "2025-12-01", True),
        ("2025", "open", "2025-12-31", False),
        ("2025", "open", "2026-01-01", True),
        ("2025-11", "answered", "2026-06-01", False),
        ("2025-11", "dropped", "2026-06-01", False),
        ("2025-11~", "open", "2025-12-01", True),
    ],
)
def test_overdue_means_open_and_the_whole_deadline_period_is_past(
    make_site, deadline, status, as_of, overdue
):
    root = make_site(
        {"content/topics/t.yaml": topic(), "content/questions/q.yaml": question(deadline, status)}
    )
    result = load_site(root, as_of=as_of)
    assert result.problems == []
    assert result.site.is_overdue(result.site.get("questions", "q")) is overdue


def test_a_question_without_deadline_is_never_overdue(make_site):
    root = make_site(
        {
            "content/topics/t.yaml": topic(),
            "content/questions/q.yaml": "question: Q?\ntopics: [t]\nraised: 2020\n",
        }
    )
    site = load_site(root, as_of=date(2030, 1, 1)).site
    assert not site.is_overdue(site.get("questions", "q"))


def test_an_instant_deadline_is_judged_on_its_day_in_the_site_timezone(make_site):
    files = {"content/topics/t.yaml": topic(), "content/questions/q.yaml": question("2025-11-30T20:00:00Z")}
    utc = load_site(make_site(files, name="utc"), as_of="2025-12-01").site
    assert utc.is_overdue(utc.get("questions", "q"))
    tokyo_yaml = "title: B\nbase_url: https://e.org/\ntimezone: Asia/Tokyo\n"
    tokyo = load_site(make_site({**files, "site.yaml": tokyo_yaml}, name="tokyo"), as_of="2025-12-01").site
    assert not tokyo.is_overdue(tokyo.get("questions", "q")), "it is 1 December 05:00 in Tokyo"


def test_a_datetime_as_of_is_taken_as_its_day(make_site):
    from datetime import datetime

    root = make_site({"content/topics/t.yaml": topic(), "content/questions/q.yaml": question("2025-11")})
    site = load_site(root, as_of=datetime(2025, 12, 1, 10, 30)).site
    assert site.options.as_of == date(2025, 12, 1)
    assert site.is_overdue(site.get("questions", "q"))
