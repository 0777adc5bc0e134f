"""Long lists split by year: a topic with more than SPLIT_ABOVE records keeps its
recent years on its page and gives each earlier year a page of its own, and so
does /questions/ for its answered and dropped questions. Small ones stay whole.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from buildkit import BEFORE_DEADLINE, build, fixture_site, page, read, site_gen, tree, write_files
from readerkit import AXE, VNU, browser, serve  # noqa: F401

from site_gen import routes
from site_gen.builder import Builder
from site_gen.routes import SPLIT_ABOVE

STORIES = SPLIT_ABOVE + 20
SETTLED = SPLIT_ABOVE + 5


def long_topic_files() -> dict[str, str | None]:
    """Enough alpha stories (2022 to 2025) and settled beta questions (2023 to 2025) to split."""
    files: dict[str, str | None] = {}
    start = date(2022, 1, 5)
    for n in range(STORIES):
        day = start + timedelta(days=n * 11)
        files[f"content/stories/long-{n}.yaml"] = (
            f"title: Alpha step {n}\ndate: {day.isoformat()}\ntopics: [alpha]\nsummary: Step {n}.\n"
        )
    files["content/events/old-hearing.yaml"] = (
        "title: An old hearing\ndate: 2022-03-04\ntopics: [alpha]\nsummary: Heard.\n"
    )
    for n in range(SETTLED):
        year = 2023 + n % 3
        status = "answered" if n % 4 else "dropped"
        text = f"question: Settled question {n}?\ntopics: [beta]\nraised: {year}-02-01\nstatus: {status}\n"
        if status == "answered":
            text += f"answered: {year}-0{1 + n % 9}-15\nanswer: Yes, {n}.\n"
        files[f"content/questions/settled-{n}.yaml"] = text
    return files


@pytest.fixture(scope="module")
def long_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture_site(tmp_path_factory.mktemp("split") / "site", long_topic_files())


@pytest.fixture(scope="module")
def built(long_site: Path) -> Path:
    return build(long_site)


def entry_dates(out: Path, rel: str) -> list[str]:
    return [str(node.attrs["data-date"]) for node in page(out, rel).find_all("li", data_date=True)]


def entries(out: Path, rel: str) -> list[tuple[str, ...]]:
    return [
        (str(n.attrs.get("id")), str(n.attrs["data-kind"]), str(n.attrs["data-date"]))
        for n in page(out, rel).find_all("li", data_date=True)
    ]


def test_a_long_topic_keeps_its_recent_years_and_pages_each_earlier_year(
    built: Path, long_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    years = {y: entry_dates(built, f"topics/alpha/{y}/") for y in (2022, 2023, 2024)}
    for year, dates in years.items():
        assert dates and all(d.startswith(str(year)) for d in dates), (year, dates)
    main = entry_dates(built, "topics/alpha/")
    assert main and all(d[:4] >= "2025" for d in main)
    # Nothing is lost: the pages together hold what one unsplit page would, in the same order.
    monkeypatch.setattr(routes, "SPLIT_ABOVE", 10**6)
    whole = tmp_path / "whole"
    assert Builder(long_site, whole, cache=False).build(BEFORE_DEADLINE).ok
    split = [e for rel in ("2022/", "2023/", "2024/", "") for e in entries(built, f"topics/alpha/{rel}")]
    assert split == entries(whole, "topics/alpha/")
    nav = page(built, "topics/alpha/").find("nav", **{"aria-label": "Timeline years"})
    assert [a.attrs["href"] for a in nav.find_all("a")] == ["./", "2024/", "2023/", "2022/"]
    year_nav = page(built, "topics/alpha/2023/").find("nav", **{"aria-label": "Timeline years"})
    assert year_nav.find("a", **{"aria-current": "page"}).text == "2023"


def test_what_we_know_and_whats_next_stay_on_the_topic_page(built: Path) -> None:
    topic = page(built, "topics/alpha/")
    for section in ("known", "unknown", "next"):
        topic.by_id(section)
    year = read(built, "topics/alpha/2023/index.html")
    assert 'id="unknown"' not in year and "the topic's page" in year


def test_an_event_links_to_the_year_page_that_shows_it(built: Path) -> None:
    data = read(built, "data/briefing.json")
    assert "https://example.org/brief/topics/alpha/2022/#event-old-hearing" in data
    page(built, "topics/alpha/2022/").by_id("event-old-hearing")


def test_a_small_topic_stays_on_one_page(built: Path) -> None:
    assert not list((built / "topics/delta").glob("20*"))
    assert page(built, "topics/delta/").find_all("nav", **{"aria-label": "Timeline years"}) == []


def test_many_settled_questions_page_their_earlier_years(built: Path) -> None:
    questions = page(built, "questions/")
    open_ids = {
        n.attrs["data-question"] for n in questions.by_id("open").parent.find_all(None, data_question=True)
    }
    assert open_ids  # every open question stays
    settled = {
        n.attrs["data-question"]
        for n in questions.find_all(None, data_question=True)
        if n.attrs["data-status"] != "open"
    }
    archived: set[str] = set()
    for year in (2023, 2024):
        doc = page(built, f"questions/archive/{year}/")
        found = {n.attrs["data-question"] for n in doc.find_all(None, data_question=True)}
        assert found and not any(
            n.attrs["data-status"] == "open" for n in doc.find_all(None, data_status=True)
        )
        archived |= found
    assert not settled & archived
    all_settled = {f"settled-{n}" for n in range(SETTLED)} | {"dropped-one"}
    assert all_settled <= settled | archived
    assert all(f"settled-{n}" in settled for n in range(SETTLED) if n % 3 == 2)  # settled in 2025


def test_archive_pages_are_in_the_sitemap(built: Path) -> None:
    sitemap = read(built, "sitemap.xml")
    for rel in ("topics/alpha/2022/", "questions/archive/2023/"):
        assert f"https://example.org/brief/{rel}</loc>" in sitemap


def fresh(site: Path, target: Path) -> dict[str, bytes]:
    shutil.rmtree(target, ignore_errors=True)
    assert Builder(site, target, cache=False).build(BEFORE_DEADLINE).ok
    return tree(target)


def test_an_edit_in_an_earlier_year_rewrites_that_year_not_the_others(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site", long_topic_files())
    out = build(site)
    before = tree(out)
    story = site / "content/stories/long-40.yaml"  # dated in 2023
    story.write_text(story.read_text().replace("Step 40.", "Step forty."))
    run = site_gen("--site", site, "build", "--as-of", BEFORE_DEADLINE)
    assert run.code == 0, run
    after = tree(out)
    assert after == fresh(site, tmp_path / "ref")
    changed = {rel for rel in after if before.get(rel) != after[rel]}
    assert "topics/alpha/2023/index.html" in changed
    assert not {"topics/alpha/2022/index.html", "topics/alpha/2024/index.html"} & changed


def test_a_topic_that_shrinks_below_the_threshold_is_one_page_again(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site", long_topic_files())
    out = build(site)
    assert (out / "topics/alpha/2022/index.html").exists()
    write_files(site, {f"content/stories/long-{n}.yaml": None for n in range(45)})
    run = site_gen("--site", site, "build", "--as-of", BEFORE_DEADLINE)
    assert run.code == 0, run
    assert tree(out) == fresh(site, tmp_path / "ref")
    assert not any(re.fullmatch(r"topics/alpha/\d{4}/index\.html", rel) for rel in tree(out))
    assert "brief/topics/alpha/#event-old-hearing" in read(out, "data/briefing.json")


SPLIT_PAGES = ["topics/alpha/", "topics/alpha/2023/", "questions/", "questions/archive/2023/"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None or not VNU.is_file(), reason="needs java and tests/js (npm)")
def test_split_pages_are_valid_html(built: Path) -> None:
    from test_html_valid import vnu_errors

    errors = vnu_errors([str(built / rel / "index.html") for rel in SPLIT_PAGES])
    assert not errors, errors[:10]


@pytest.mark.browser
@pytest.mark.skipif(not AXE.is_file(), reason="needs tests/js (npm install)")
@pytest.mark.parametrize("width", [390, 1280])
def test_split_pages_pass_axe(browser, built: Path, width: int) -> None:  # noqa: ANN001, F811
    from test_a11y import folder_violations

    found = folder_violations(browser, built, SPLIT_PAGES, width)
    assert not found, "\n".join(found)


def test_a_kept_builder_moves_an_entry_between_a_long_topics_years(tmp_path: Path) -> None:
    """serve's builder keeps each topic's split by year while the site's own lists of
    the topic are the same objects; a story moved to another year (same topics, same
    links) gets a new list for its topic, so both years' pages follow, and other
    topics keep theirs."""
    site = fixture_site(tmp_path / "site", long_topic_files())
    out = tmp_path / "out"
    builder = Builder(site, out)
    assert builder.build(BEFORE_DEADLINE).ok
    story = site / "content/stories/long-40.yaml"
    dated = re.search(r"date: 2023-\d\d-\d\d", story.read_text())
    assert dated, story.read_text()
    for old, new in ((dated.group(0), "date: 2022-12-30"), ("Step 40.", "Step forty.")):
        before = tree(out)
        assert old in story.read_text()
        story.write_text(story.read_text().replace(old, new))
        report = builder.build(BEFORE_DEADLINE, hint={"content/stories/long-40.yaml"})
        assert report.ok
        assert tree(out) == fresh(site, tmp_path / "ref")
        changed = {rel for rel in tree(out) if before.get(rel) != tree(out)[rel]}
        assert "topics/alpha/2022/index.html" in changed
        assert ("topics/alpha/2023/index.html" in changed) == (old.startswith("date"))


# -- many open questions ------------------------------------------------------------


def old_open_files() -> dict[str, str | None]:
    """Open questions due in 2022 and 2023 and one raised in 2023 with no deadline;
    with the fixture's four (due in 2025 and 2026, one raised in 2024 with none)."""
    files: dict[str, str | None] = {}
    for n, deadline in enumerate(("2022-03", "2022-09-30", "2023-01-15", "2023-06", "2023-11-02")):
        files[f"content/questions/old-open-{n}.yaml"] = (
            f"question: Old open question {n}?\ntopics: [beta]\nraised: 2021-05-01\ndeadline: {deadline}\n"
        )
    files["content/questions/old-undated.yaml"] = (
        "question: Raised long ago, never dated?\ntopics: [beta]\nraised: 2023-04-04\n"
    )
    return files


@pytest.fixture
def many_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setattr(routes, "SPLIT_ABOVE", 6)  # ten open questions
    return fixture_site(tmp_path / "site", old_open_files()), tmp_path / "out"


def question_ids(out: Path, rel: str, status: str = "open") -> list[str]:
    return [
        str(n.attrs["data-question"])
        for n in page(out, rel).find_all(None, data_question=True)
        if n.attrs["data-status"] == status
    ]


def test_many_open_questions_page_the_years_before_the_as_of_year(
    many_open: tuple[Path, Path], tmp_path: Path
) -> None:
    site, out = many_open
    files = fresh(site, out)
    years = sorted(rel.split("/")[2] for rel in files if rel.startswith("questions/open/"))
    assert years == ["2022", "2023", "2024"]
    assert question_ids(out, "questions/") == ["open-oct", "open-nov", "open-later"]  # overdue first
    assert question_ids(out, "questions/open/2023/") == [
        "old-open-2",
        "old-open-3",
        "old-open-4",
        "old-undated",
    ]
    assert question_ids(out, "questions/open/2024/") == ["open-nodeadline"]
    doc = page(out, "questions/open/2022/")
    assert doc.find("h1").text == "Open questions due in 2022"
    assert all(n.has("data-overdue") for n in doc.find_all(None, data_question=True))
    assert not question_ids(out, "questions/open/2022/", "answered")
    nav = page(out, "questions/").find("nav", **{"aria-label": "Open questions by year"})
    assert [a.text for a in nav.find_all("a")] == ["2025–2026", "2024", "2023", "2022"]
    assert "answered-one" in question_ids(out, "questions/", "answered")  # the settled ones stay
    assert "https://example.org/brief/questions/open/2023/</loc>" in read(out, "sitemap.xml")
    # Under the threshold, every open question is on /questions/.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(routes, "SPLIT_ABOVE", 100)
        whole = tmp_path / "whole"
        assert not any(rel.startswith("questions/open/") for rel in fresh(site, whole))
        assert len(question_ids(whole, "questions/")) == 10


def test_an_open_question_answered_or_moved_follows_and_matches_a_clean_build(
    many_open: tuple[Path, Path], tmp_path: Path
) -> None:
    site, out = many_open
    builder = Builder(site, out)  # kept, as serve's
    assert builder.build(BEFORE_DEADLINE).ok
    before = tree(out)
    old = site / "content/questions/old-open-3.yaml"
    old.write_text(old.read_text().replace("Old open question 3?", "Old open question three?"))
    assert builder.build(BEFORE_DEADLINE).ok
    after = tree(out)
    changed = {rel for rel in after if before.get(rel) != after[rel]}
    assert "questions/open/2023/index.html" in changed
    assert not {"questions/open/2022/index.html", "questions/index.html"} & changed
    old.write_text(old.read_text() + "status: answered\nanswered: 2025-11-20\nanswer: At last.\n")
    assert builder.build(BEFORE_DEADLINE).ok
    assert "old-open-3" in question_ids(out, "questions/", "answered")
    assert "old-open-3" not in question_ids(out, "questions/open/2023/")
    assert tree(out) == fresh(site, tmp_path / "ref")
    moved = site / "content/questions/old-open-0.yaml"  # from 2022 to 2026
    moved.write_text(moved.read_text().replace("deadline: 2022-03", "deadline: 2026-05"))
    assert Builder(site, out).build(BEFORE_DEADLINE).ok  # a new builder, as `build` does
    assert "old-open-0" in question_ids(out, "questions/")
    assert tree(out) == fresh(site, tmp_path / "ref")
    write_files(site, {f"content/questions/old-open-{n}.yaml": None for n in (1, 2, 4)})
    assert Builder(site, out).build(BEFORE_DEADLINE).ok  # six open: one page again
    files = tree(out)
    assert not any(rel.startswith("questions/open/") for rel in files)
    assert files == fresh(site, tmp_path / "ref")


def test_the_home_page_links_the_open_questions_by_year(many_open: tuple[Path, Path]) -> None:
    site, out = many_open
    with pytest.MonkeyPatch.context() as patch:
        from site_gen import pages

        patch.setattr(pages, "HOME_QUESTIONS", 3)
        fresh(site, out)
    note = page(out, "").find("p", class_="more-questions")
    assert "3 most pressing of 10 open questions" in note.text
    assert note.find("a").text == "See the open questions by the year they are due"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None or not VNU.is_file(), reason="needs java and tests/js (npm)")
def test_open_question_pages_are_valid_html(many_open: tuple[Path, Path]) -> None:
    from test_html_valid import vnu_errors

    site, out = many_open
    fresh(site, out)
    errors = vnu_errors([str(out / rel / "index.html") for rel in ("questions/", "questions/open/2023/")])
    assert not errors, errors[:10]


@pytest.mark.browser
@pytest.mark.skipif(not AXE.is_file(), reason="needs tests/js (npm install)")
def test_open_question_pages_pass_axe(browser, many_open: tuple[Path, Path]) -> None:  # noqa: ANN001, F811
    from test_a11y import folder_violations

    site, out = many_open
    fresh(site, out)
    found = folder_violations(browser, out, ["questions/", "questions/open/2023/"], 390)
    assert not found, "\n".join(found)


def test_a_long_topic_lists_its_recent_questions_and_leaves_the_earlier_to_its_years(
    tmp_path: Path,
) -> None:
    files = long_topic_files()
    for qid, text in {
        "alpha-known-old": "raised: 2022-02-01\nstatus: answered\nanswered: 2023-03-01\nanswer: Yes.\n",
        "alpha-known-new": "raised: 2024-02-01\nstatus: answered\nanswered: 2025-03-01\nanswer: No.\n",
        "alpha-open-old": "raised: 2022-02-01\ndeadline: 2023-06\n",
        "alpha-open-new": "raised: 2022-02-01\ndeadline: 2026-01\n",
        "alpha-dropped-old": "raised: 2022-05-01\nstatus: dropped\n",
    }.items():
        files[f"content/questions/{qid}.yaml"] = f"question: {qid}?\ntopics: [alpha]\n{text}"
    site = fixture_site(tmp_path / "site", files)
    out = tmp_path / "out"
    tree_ = fresh(site, out)
    doc = page(out, "topics/alpha/")
    known = doc.by_id("known").parent
    unknown = doc.by_id("unknown").parent
    shown = {str(n.attrs["data-question"]) for n in doc.find_all(None, data_question=True)}
    assert {"alpha-known-new", "alpha-open-new"} <= shown
    assert not {"alpha-known-old", "alpha-open-old", "alpha-dropped-old"} & shown
    assert "1 question answered before 2025 is in the earlier years of the timeline" in known.text
    assert "1 more open question, due before 2025, is in the earlier years" in unknown.text
    assert "Dropped questions (1 before 2025)" in unknown.text
    year_page = tree_["topics/alpha/2023/index.html"].decode()
    assert "alpha-known-old?" in year_page and "alpha-open-old?" in year_page
    # A small topic lists all its questions.
    assert "answered before" not in read(out, "topics/delta/index.html")
