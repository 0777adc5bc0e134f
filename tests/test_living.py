"""Issue 8, the living briefing: what we know, what we don't, what changed, what's next,
overdue questions, corrections and staleness, each at two as-of dates around a deadline.

The fixture's question open-nov has the deadline "2025-11": open and not overdue as of
2025-11-30, overdue as of 2025-12-01.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from buildkit import (
    AFTER_DEADLINE,
    BEFORE_DEADLINE,
    Node,
    build,
    fixture_site,
    page,
    parse_html,
    site_gen,
    tree,
)

EXTRA = {
    "content/events/vote.yaml": "title: Vote held\ndate: 2025-11-26\ntopics: [alpha]\nsummary: The vote.\n",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture_site(tmp_path_factory.mktemp("living") / "site", EXTRA)


@pytest.fixture(scope="module")
def outs(site: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("living-out")
    return {day: build(site, day, out=folder / day) for day in (BEFORE_DEADLINE, AFTER_DEADLINE)}


def section(doc: Node, heading_id: str) -> Node:
    return doc.find("section", aria_labelledby=heading_id)


def questions_in(node: Node) -> list[tuple[str, str, bool]]:
    return [
        (q.attrs["data-question"] or "", q.attrs["data-status"] or "", q.has("data-overdue"))
        for q in node.find_all(None, data_question=True)
    ]


def h2_ids(doc: Node) -> list[str]:
    return [h.attrs.get("id") or "" for h in doc.find("main").find_all("h2")]


# -- the topic page ----------------------------------------------------------------


def test_topic_page_opens_with_know_dont_know_next_then_timeline(outs: dict[str, Path]) -> None:
    for out in outs.values():
        ids = h2_ids(page(out, "topics/alpha/"))
        assert ids[:4] == ["known", "unknown", "next", "timeline"], ids


def test_what_we_know_has_answers_and_latest_developments(outs: dict[str, Path]) -> None:
    known = section(page(outs[BEFORE_DEADLINE], "topics/alpha/"), "known")
    assert questions_in(known) == [("answered-one", "answered", False)]
    assert "No, she stayed." in known.find(None, data_question="answered-one").text
    latest = [li.find("a").text for li in known.find("ul", class_="changes").find_all("li")]
    # The newest stories and events up to the as-of date, newest first; nothing scheduled.
    assert latest == ["Late-night statement", "Vote held", "Talks before the vote"]
    assert "Hearing scheduled" not in known.text


@pytest.mark.parametrize(
    "day,expected",
    [
        (
            BEFORE_DEADLINE,
            [("open-oct", "open", True), ("open-nov", "open", False), ("open-later", "open", False)],
        ),
        (
            AFTER_DEADLINE,
            [("open-oct", "open", True), ("open-nov", "open", True), ("open-later", "open", False)],
        ),
    ],
)
def test_what_we_dont_know_lists_open_questions_overdue_first(
    outs: dict[str, Path], day: str, expected: list[tuple[str, str, bool]]
) -> None:
    unknown = section(page(outs[day], "topics/alpha/"), "unknown")
    assert questions_in(unknown) == expected
    nov = unknown.find(None, data_question="open-nov")
    assert "A signed settlement." in nov.text  # resolution criteria
    assert nov.find("time", datetime="2025-11").text == "November 2025"  # deadline
    assert ("Overdue" in nov.text) is (day == AFTER_DEADLINE)


@pytest.mark.parametrize(
    "day,expected",
    [
        (
            BEFORE_DEADLINE,
            [
                "November 2025 Deadline Will alpha settle by the end of November?",
                "5 December 2025 Scheduled Hearing scheduled",
                "c. March 2026 Scheduled Summit",
                "March 2026 Deadline Will the summit happen?",
            ],
        ),
        (
            AFTER_DEADLINE,
            [
                "5 December 2025 Scheduled Hearing scheduled",
                "c. March 2026 Scheduled Summit",
                "March 2026 Deadline Will the summit happen?",
            ],
        ),
    ],
)
def test_whats_next_lists_upcoming_deadlines_and_events_nearest_first(
    outs: dict[str, Path], day: str, expected: list[str]
) -> None:
    for rel in ("topics/alpha/", ""):
        items = [li.text for li in section(page(outs[day], rel), "next").find_all("li")]
        assert items == expected, rel


def test_whats_next_of_a_topic_holds_only_that_topic(outs: dict[str, Path]) -> None:
    items = [li.text for li in section(page(outs[BEFORE_DEADLINE], "topics/beta/"), "next").find_all("li")]
    assert items == ["c. March 2026 Scheduled Summit", "March 2026 Deadline Will the summit happen?"]


# -- the home page ---------------------------------------------------------------


def changes(out: Path, topic: str = "Alpha affair") -> list[str]:
    """The home page's 'what changed' items that name `topic`, without the topic names."""
    changed = section(page(out, ""), "changed")
    found = []
    for li in changed.find("ul", class_="changes").find_all("li", class_="change"):
        names = [a.text for a in li.find(None, class_="change-topics").find_all("a")]
        if topic in names:
            found.append(li.text.rsplit(" (", 1)[0])
    return found


@pytest.mark.parametrize(
    "day,expected",
    [
        (
            BEFORE_DEADLINE,  # the window is 23–30 November
            [
                "Story 27 November 2025, 04:30 UTC: Late-night statement",
                "Event 26 November 2025: Vote held",
                "Corrected 25 November 2025: Corrected story",
                "Answered 24 November 2025: Did the minister resign?",
            ],
        ),
        (
            AFTER_DEADLINE,  # 24 November to 1 December
            [
                "Story 27 November 2025, 04:30 UTC: Late-night statement",
                "Event 26 November 2025: Vote held",
                "Corrected 25 November 2025: Corrected story",
                "Answered 24 November 2025: Did the minister resign?",
            ],
        ),
        (
            "2025-11-21",  # 14–21 November: new story (shown by its date text), quote, question
            [
                "Raised 21 November 2025: Will the summit happen?",
                "Quote 20 November 2025: We will see.",
                "Story before the vote: Talks before the vote",
            ],
        ),
        (
            "2025-11-13",
            ["Updated 12 November 2025: Corrected story", "Story 10 November 2025: Corrected story"],
        ),
    ],
)
def test_home_what_changed_in_the_recent_window(
    site: Path, tmp_path: Path, day: str, expected: list[str]
) -> None:
    out = build(site, day, out=tmp_path / day)
    assert changes(out) == expected
    note = section(page(out, ""), "changed").find("p", class_="section-note").text
    assert note.startswith("In the 7 days to")


def test_home_lists_each_change_once_and_each_active_topic(outs: dict[str, Path]) -> None:
    changed = section(page(outs[BEFORE_DEADLINE], ""), "changed")
    items = [li.text for li in changed.find("ul", class_="changes").find_all("li", class_="change")]
    assert len(items) == len(set(items))
    assert changes(outs[BEFORE_DEADLINE], "Beta dispute") == []
    pulse = [li.find("a").text for li in changed.find("ul", class_="topic-pulse").find_all("li")]
    assert pulse == ["Alpha affair", "Beta dispute", "Delta stalled matter"]  # gamma is closed
    alpha = changed.find("ul", class_="topic-pulse").find_all("li")[0].text
    assert "4 new or changed" in alpha and "3 open questions" in alpha


def test_home_counts_overdue_questions(outs: dict[str, Path]) -> None:
    before = section(page(outs[BEFORE_DEADLINE], ""), "open").find(None, class_="overdue-note").text
    after = section(page(outs[AFTER_DEADLINE], ""), "open").find(None, class_="overdue-note").text
    assert before.startswith("1 overdue") and after.startswith("2 overdue")


def test_home_shows_the_most_pressing_open_questions_and_links_them_all(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past HOME_QUESTIONS open questions the home page shows the first ones in the
    questions' order, counts every open and overdue one, and links /questions/."""
    from site_gen import pages
    from site_gen.builder import Builder

    monkeypatch.setattr(pages, "HOME_QUESTIONS", 1)
    assert Builder(site, tmp_path / "out", cache=False).build(AFTER_DEADLINE).ok
    home = section(page(tmp_path / "out", ""), "open")
    assert questions_in(home) == [("open-oct", "open", True)]
    assert home.find(None, class_="overdue-note").text.startswith("2 overdue")  # not only those shown
    more = home.find("p", class_="more-questions")
    assert more.text.startswith("These are the 1 most pressing of 4 open questions.")
    assert more.find("a").attrs["href"] == "questions/"
    assert len(questions_in(section(page(tmp_path / "out", "questions/"), "open"))) == 4


@pytest.mark.parametrize(
    "day,expected",
    [
        (
            BEFORE_DEADLINE,
            [
                ("open-oct", "open", True),
                ("open-nov", "open", False),
                ("open-later", "open", False),
                ("open-nodeadline", "open", False),
            ],
        ),
        (
            AFTER_DEADLINE,
            [
                ("open-oct", "open", True),
                ("open-nov", "open", True),
                ("open-later", "open", False),
                ("open-nodeadline", "open", False),
            ],
        ),
    ],
)
def test_home_and_questions_page_put_overdue_first(
    outs: dict[str, Path], day: str, expected: list[tuple[str, str, bool]]
) -> None:
    home = page(outs[day], "")
    assert questions_in(section(home, "open")) == expected
    overdue = [q for q, _, late in expected if late]
    marked = [a.attrs["data-question"] for a in home.find_all(None, class_="is-overdue")]
    assert marked == overdue
    listing = page(outs[day], "questions/")
    assert questions_in(section(listing, "open")) == expected
    assert questions_in(section(listing, "answered")) == [("answered-one", "answered", False)]
    assert questions_in(section(listing, "dropped")) == [("dropped-one", "dropped", False)]


@pytest.mark.parametrize("day", [BEFORE_DEADLINE, AFTER_DEADLINE])
def test_every_listed_question_carries_the_data_contract(outs: dict[str, Path], day: str) -> None:
    overdue = {"open-oct"} | ({"open-nov"} if day == AFTER_DEADLINE else set())
    status = {
        "open-oct": "open",
        "open-nov": "open",
        "open-later": "open",
        "open-nodeadline": "open",
        "answered-one": "answered",
        "dropped-one": "dropped",
    }
    seen: set[str] = set()
    for rel, data in tree(outs[day]).items():
        if not rel.endswith(".html"):
            continue
        for node in parse_html(data.decode()).find_all(None, data_question=True):
            qid = node.attrs["data-question"] or ""
            assert node.attrs.get("data-status") == status[qid], (rel, qid)
            assert node.has("data-overdue") is (qid in overdue), (rel, qid)
            seen.add(rel)
    assert {"index.html", "questions/index.html", "topics/alpha/index.html"} <= seen
    assert "topics/beta/index.html" in seen


# -- corrections, dates and qualifiers on pages ------------------------------------------


def test_story_page_shows_corrections_with_their_dates(outs: dict[str, Path]) -> None:
    story = page(outs[BEFORE_DEADLINE], "stories/corrected/")
    box = story.find("aside", class_="corrections")
    item = box.find("li")
    assert item.find("time").attrs["datetime"] == "2025-11-25"
    assert item.text == "25 November 2025: An earlier version gave the wrong figure."
    assert "12 November 2025" in story.find(None, class_="kicker").text  # updated


def test_qualified_dates_on_home_and_questions(site: Path, tmp_path: Path) -> None:
    extra = {
        "content/questions/approx.yaml": "question: Roughly when?\ntopics: [alpha]\nraised: 2025-11~\n"
        "deadline: 2026?\n",
    }
    out = build(fixture_site(tmp_path / "site", {**EXTRA, **extra}), BEFORE_DEADLINE)
    question = page(out, "questions/approx/")
    text = question.find("dl", class_="question-dates").text
    assert "c. November 2025" in text and "2026?" in text
    assert "2026? Deadline Roughly when?" in [li.text for li in section(page(out, ""), "next").find_all("li")]


# -- check: staleness and overdue questions --------------------------------------------


def stale_warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": warning: " in line and "topic '" in line]


def test_check_warns_about_stale_active_topics_at_their_file_and_line(site: Path) -> None:
    run = site_gen("--site", site, "check", "--as-of", BEFORE_DEADLINE)
    assert run.code == 0, run
    warnings = stale_warnings(run.stderr)
    assert len(warnings) == 1, run.stderr
    assert re.match(r"^content/topics/delta\.yaml:1:1: warning: topic 'delta' is active", warnings[0])
    assert "30 days" in warnings[0]
    strict = site_gen("--site", site, "check", "--strict", "--as-of", BEFORE_DEADLINE)
    assert strict.code == 1, strict
    assert stale_warnings(strict.stderr) == warnings


def test_staleness_follows_the_as_of_date(site: Path) -> None:
    # Beta's newest dated record up to the as-of date is the question raised on 21 November.
    fresh = site_gen("--site", site, "check", "--as-of", "2025-12-21")
    stale = site_gen("--site", site, "check", "--as-of", "2025-12-22")
    topics = {
        day: sorted(re.findall(r"topic '([a-z-]+)'", "\n".join(stale_warnings(run.stderr))))
        for day, run in (("fresh", fresh), ("stale", stale))
    }
    assert "beta" not in topics["fresh"] and "beta" in topics["stale"]
    assert "gamma" not in topics["stale"]  # a closed topic is never stale


def test_staleness_located_in_a_list_file(tmp_path: Path) -> None:
    site = fixture_site(
        tmp_path / "site",
        {
            "content/topics/delta.yaml": None,
            "content/topics/more.yaml": "- id: epsilon\n  title: E\n  summary: s\n"
            "- id: delta\n  title: Delta stalled matter\n  summary: s\n",
        },
    )
    run = site_gen("--site", site, "check", "--as-of", BEFORE_DEADLINE)
    located = [w.split(": warning")[0] for w in stale_warnings(run.stderr)]
    assert located == ["content/topics/more.yaml:1:3", "content/topics/more.yaml:4:3"], run.stderr


@pytest.mark.parametrize(
    "day,expected",
    [(BEFORE_DEADLINE, ["open-oct"]), (AFTER_DEADLINE, ["open-oct", "open-nov"])],
)
def test_check_lists_overdue_questions_in_its_summary_not_as_warnings(
    site: Path, day: str, expected: list[str]
) -> None:
    run = site_gen("--site", site, "check", "--as-of", day)
    assert run.code == 0, run
    lines = run.stderr.splitlines()
    header = [i for i, line in enumerate(lines) if "overdue" in line and "question" in line]
    assert header, run.stderr
    listed = re.findall(r"^\s+([a-z0-9-]+): deadline", run.stderr, re.M)
    assert listed == expected
    assert not [line for line in lines if ": warning: " in line and "overdue" in line]
    # Overdue questions do not make --strict fail on their own.
    assert "1 warning" in run.stderr


def test_no_overdue_summary_when_nothing_is_overdue(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site", {"content/questions/open-oct.yaml": None})
    run = site_gen("--site", site, "check", "--as-of", BEFORE_DEADLINE)
    assert run.code == 0, run
    assert "overdue" not in run.stderr


def test_home_recent_quotes_are_those_said_by_the_as_of_date(tmp_path: Path) -> None:
    future = {
        "content/quotes/later.yaml": "text: Not said yet.\nspeaker: ann\ndate: 2025-12-05\ntopics: [alpha]\n"
        "source: {name: Wire}\n"
    }
    site = fixture_site(tmp_path / "site", future)
    before = section(page(build(site, BEFORE_DEADLINE, out=tmp_path / "a"), ""), "quotes").text
    after = section(page(build(site, "2025-12-05", out=tmp_path / "b"), ""), "quotes").text
    assert "Not said yet." not in before and "We will see." in before
    assert after.index("Not said yet.") < after.index("We will see.")
