"""A busy year of the merged timeline, of the quotes or of a topic's timeline is shown
a month per page: with more than MONTHS_ABOVE records in a year, each month of it gets
/timeline/<year>/<MM>/ (/quotes/<year>/<MM>/, /topics/<id>/<year>/<MM>/), the year's
page lists its months (and keeps the records dated by the year alone), and the list
page shows the as-of year from the as-of month on."""

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

BUSY = 24  # the threshold these tests build with (the default is for real archives)
GAMMA = (("stories", ""), ("quotes", "q-"))  # the busy records: gamma-2024-3, gamma-q-2024-3


def busy_files(per_year: int = 40) -> dict[str, str | None]:
    """`per_year` gamma stories and as many quotes in each of 2023, 2024 and 2025 (up to
    20 November), spread over the year, a story and an event dated by the year alone, and
    an event in March 2024 and one in May 2025."""
    files: dict[str, str | None] = {
        "content/topics/gamma.yaml": "title: Gamma watch\nsummary: Busy.\nstatus: active\n",
        "content/stories/gamma-year.yaml": (
            "title: Gamma all year\ndate: 2024\ntopics: [gamma]\nsummary: All year.\n"
        ),
        "content/events/gamma-summit.yaml": "title: Gamma summit\ndate: 2024\ntopics: [gamma]\n",
        "content/events/gamma-talks.yaml": "title: Gamma talks\ndate: 2024-03-20\ntopics: [gamma]\n",
        "content/events/gamma-vote.yaml": "title: Gamma vote\ndate: 2025-05-02\ntopics: [gamma]\n",
    }
    for year in (2023, 2024, 2025):
        start = date(year, 1, 3)
        for n in range(per_year):
            day = start + timedelta(days=n * (320 if year == 2025 else 355) // per_year)
            files[f"content/stories/gamma-{year}-{n}.yaml"] = (
                f"title: Gamma {year} step {n}\ndate: {day.isoformat()}\n"
                f"topics: [gamma]\nsummary: Step {n}.\n"
            )
            files[f"content/quotes/gamma-q-{year}-{n}.yaml"] = (
                f"text: Gamma remark {year} {n}.\nspeaker: ann\ndate: {day.isoformat()}\n"
                "topics: [gamma]\nsource:\n  name: Example Wire\n"
            )
    return files


def made(site: Path, out: Path, months_above: int, as_of: str = BEFORE_DEADLINE) -> dict[str, bytes]:
    """A clean in-process build of `site` into `out` with the timeline's month threshold
    at `months_above`; the output's files."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(routes, "MONTHS_ABOVE", months_above)
        shutil.rmtree(out, ignore_errors=True)
        report = Builder(site, out, cache=False).build(as_of)
        assert report.ok, report.problems
    return tree(out)


@pytest.fixture(scope="module")
def busy_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture_site(tmp_path_factory.mktemp("months") / "site", busy_files())


@pytest.fixture(scope="module")
def paged(busy_site: Path) -> Path:
    out = busy_site.parent / "paged"
    made(busy_site, out, BUSY)
    return out


@pytest.fixture
def fresh_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A busy site of this test's own and its output folder, the threshold at BUSY."""
    monkeypatch.setattr(routes, "MONTHS_ABOVE", BUSY)
    return fixture_site(tmp_path / "site", busy_files()), tmp_path / "out"


def entries(out: Path, rel: str) -> list[tuple[str, str, str]]:
    return [
        (str(n.attrs.get("id")), str(n.attrs["data-kind"]), str(n.attrs["data-date"]))
        for n in page(out, rel).find_all("li", data_date=True)
    ]


def month_pages(files: dict[str, bytes], name: str = "timeline") -> list[str]:
    return sorted(rel for rel in files if re.fullmatch(name + r"/\d{4}/\d\d/index\.html", rel))


def quote_ids(out: Path, rel: str) -> list[str]:
    return re.findall(r'<figure class="quote" id="(quote-[^"]+)"', read(out, f"{rel}index.html"))


def test_each_month_of_a_busy_year_has_a_page_with_that_months_entries(paged: Path) -> None:
    for rel in month_pages(tree(paged)):
        year, month = rel.split("/")[1:3]
        found = entries(paged, rel[: -len("index.html")])
        assert found, rel
        assert all(d.startswith(f"{year}-{month}") for _, _, d in found), (rel, found)
        doc = page(paged, rel[: -len("index.html")])
        nav = doc.find("nav", **{"aria-label": f"Months of {year}"})
        assert nav.find("a", **{"aria-current": "page"}).attrs["href"] == "./"
    archived = [
        rel for rel in month_pages(tree(paged)) if rel.startswith(("timeline/2023/", "timeline/2024/"))
    ]
    assert len(archived) == 24  # every month of the two archived busy years


def test_a_busy_years_page_lists_its_months_and_keeps_the_year_only_entries(paged: Path) -> None:
    year = page(paged, "timeline/2024/")
    nav = year.find("nav", **{"aria-label": "Months of 2024"})
    links = [(a.text, a.attrs["href"]) for a in nav.find_all("a")]
    assert links[0] == ("January", "01/") and links[-1] == ("December", "12/") and len(links) == 12
    year_only = entries(paged, "timeline/2024/")
    assert all(re.fullmatch(r"2024\??", d) for _, _, d in year_only), year_only
    assert {"story-gamma-year", "event-gamma-summit"} <= {entry_id for entry_id, _, _ in year_only}
    assert year.find("h1").text == "Timeline: 2024"
    assert "Timeline: March 2024" in read(paged, "timeline/2024/03/index.html")


def test_the_list_page_shows_the_as_of_year_from_the_as_of_month_and_links_the_months_before(
    paged: Path,
) -> None:
    shown = entries(paged, "timeline/")
    dated_2025 = [d for _, _, d in shown if d.startswith("2025")]
    assert dated_2025 and all(d >= "2025-11" for d in dated_2025), dated_2025
    nav = page(paged, "timeline/").find("nav", **{"aria-label": "Earlier months of 2025"})
    assert [a.attrs["href"] for a in nav.find_all("a")] == [f"2025/{m:02d}/" for m in range(1, 11)]
    assert not (paged / "timeline/2025/index.html").exists()  # the as-of year is the list page's


@pytest.fixture(scope="module")
def whole(busy_site: Path) -> Path:
    """The busy site built with no year split by month."""
    out = busy_site.parent / "whole"
    assert not month_pages(made(busy_site, out, 10**6))
    return out


@pytest.mark.parametrize("name", ["timeline", "topics/gamma"])
def test_the_pages_together_hold_the_unsplit_timeline_in_order(paged: Path, whole: Path, name: str) -> None:
    split_files = tree(paged)
    assert month_pages(split_files, name)
    for year in ("2023", "2024"):
        pieces = entries(paged, f"{name}/{year}/") + [
            e
            for rel in month_pages(split_files, name)
            if rel.startswith(f"{name}/{year}/")
            for e in entries(paged, rel[:-10])
        ]
        assert pieces == entries(whole, f"{name}/{year}/"), year
    listed = [
        e
        for rel in month_pages(split_files, name)
        if rel.startswith(f"{name}/2025/")
        for e in entries(paged, rel[:-10])
    ] + entries(paged, f"{name}/")
    assert listed == entries(whole, f"{name}/")


def test_unsplit_pages_differ_only_where_a_list_is_paged_by_month(paged: Path, whole: Path) -> None:
    split_files, whole = tree(paged), tree(whole)
    # Only the merged timeline, the quotes and the busy topic page by month (and the
    # search index has their words): any other page that differs links a quote or an
    # event (whose address is now its month's page).
    differ = {rel for rel in whole if whole[rel] != split_files.get(rel)}
    paged_by_month = ("timeline/", "quotes/", "topics/gamma/", "pagefind/")
    others = {rel for rel in differ if not rel.startswith(paged_by_month) and rel != "sitemap.xml"}
    assert differ and all(b"#quote-" in whole[rel] or b"#event-" in whole[rel] for rel in others), others


def test_month_pages_are_in_the_sitemap(paged: Path) -> None:
    sitemap = read(paged, "sitemap.xml")
    for rel in ("timeline/2024/", "timeline/2024/03/", "timeline/2025/10/", "topics/gamma/2025/05/"):
        assert f"https://example.org/brief/{rel}</loc>" in sitemap


def test_an_edit_rewrites_its_month_page_not_the_others_and_matches_a_clean_build(
    fresh_busy: tuple[Path, Path], tmp_path: Path
) -> None:
    site, out = fresh_busy
    assert Builder(site, out).build(BEFORE_DEADLINE).ok
    before = tree(out)
    story = site / "content/stories/gamma-2024-10.yaml"  # March 2024
    story.write_text(story.read_text().replace("Step 10.", "Step ten."))
    assert Builder(site, out).build(BEFORE_DEADLINE).ok
    after = tree(out)
    changed = {rel for rel in after if before.get(rel) != after[rel]}
    assert {"timeline/2024/03/index.html", "topics/gamma/2024/03/index.html"} <= changed
    assert not {"timeline/2024/02/index.html", "timeline/2024/index.html", "timeline/index.html"} & changed
    assert not {"topics/gamma/2024/02/index.html", "topics/gamma/2024/index.html"} & changed
    # Moved to another month, then the year shrinks below the threshold: one page again.
    story.write_text(story.read_text().replace("date: 2024-03", "date: 2024-07"))
    assert Builder(site, out).build(BEFORE_DEADLINE).ok
    assert tree(out) == made(site, tmp_path / "ref", BUSY)
    gone = {f"content/{kind}/gamma-{q}2024-{n}.yaml": None for n in range(36) for kind, q in GAMMA}
    write_files(site, gone)
    assert Builder(site, out).build(BEFORE_DEADLINE).ok
    shrunk = tree(out)
    assert shrunk == made(site, tmp_path / "ref", BUSY)
    assert not any(rel.startswith("timeline/2024/") and rel != "timeline/2024/index.html" for rel in shrunk)
    assert any(rel.startswith("timeline/2023/") for rel in month_pages(shrunk))


def test_a_month_emptied_by_moving_its_stories_within_the_year_loses_its_page(
    fresh_busy: tuple[Path, Path], tmp_path: Path
) -> None:
    """The year's records stay the same, only their months change: the month goes from
    the plan and from every page's list of months (an edit while serving, as serve does)."""
    site, out = fresh_busy
    builder = Builder(site, out)
    assert builder.build(BEFORE_DEADLINE).ok
    assert (out / "timeline/2024/12/index.html").exists()
    for story in [
        *site.glob("content/stories/gamma-2024-*.yaml"),
        *site.glob("content/quotes/gamma-q-2024-*"),
    ]:
        text = story.read_text()
        if "date: 2024-12-" in text:
            story.write_text(text.replace("date: 2024-12-", "date: 2024-11-"))
    assert builder.build(BEFORE_DEADLINE).ok
    incremental = tree(out)
    assert "timeline/2024/12/index.html" not in incremental
    assert incremental == made(site, tmp_path / "ref", BUSY)
    nav = page(out, "timeline/2024/").find("nav", **{"aria-label": "Months of 2024"})
    assert nav.find_all("a")[-1].text == "November"


def test_a_busy_year_of_quotes_is_paged_by_month_and_a_quote_links_to_its_month(
    busy_site: Path, paged: Path
) -> None:
    files = tree(paged)
    pages = month_pages(files, "quotes")
    assert len([rel for rel in pages if rel.startswith(("quotes/2023/", "quotes/2024/"))]) == 24
    for rel in pages:
        year, month = rel.split("/")[1:3]
        html = read(paged, rel)
        dates = re.findall(r'<figure class="quote" id="quote-[^"]+">.*?<time datetime="([^"]+)"', html, re.S)
        assert dates and all(d.startswith(f"{year}-{month}") for d in dates), (rel, dates)
    nav = page(paged, "quotes/2024/").find("nav", **{"aria-label": "Months of 2024"})
    assert [a.text for a in nav.find_all("a")][:2] == ["January", "February"]
    nav = page(paged, "quotes/").find("nav", **{"aria-label": "Earlier months of 2025"})
    assert [a.attrs["href"] for a in nav.find_all("a")] == [f"2025/{m:02d}/" for m in range(1, 11)]
    # The pages together hold every quote once, as the unsplit pages do.
    whole_out = busy_site.parent / "whole-quotes"
    made(busy_site, whole_out, 10**6)
    split = quote_ids(paged, "quotes/") + [
        q for rel in reversed(pages) if rel.startswith("quotes/2025/") for q in quote_ids(paged, rel[:-10])
    ]
    for year in ("2024", "2023"):
        split += [
            q
            for rel in reversed(pages)
            if rel.startswith(f"quotes/{year}/")
            for q in quote_ids(paged, rel[:-10])
        ]
        split += quote_ids(paged, f"quotes/{year}/")
    whole = (
        quote_ids(whole_out, "quotes/")
        + quote_ids(whole_out, "quotes/2024/")
        + quote_ids(whole_out, "quotes/2023/")
    )
    assert sorted(split) == sorted(whole) and len(split) == len(set(split))
    # A quote's address is its month's page (briefing.json gives it in full).
    data = read(paged, "data/briefing.json")
    march = quote_ids(paged, "quotes/2024/03/")[0].removeprefix("quote-")
    assert f"https://example.org/brief/quotes/2024/03/#quote-{march}" in data


# A record whose address is its month's page: moved to another month, then its year
# thinned below the threshold (the merged timeline's and quotes' 2024 too).
MOVES = {
    "quote": (
        "quotes/gamma-q-2024-10",  # March 2024
        "quotes/2024/08/#quote-gamma-q-2024-10",
        [f"content/quotes/gamma-q-2024-{n}.yaml" for n in range(30)],  # 10 left
        "quotes/2024/#quote-gamma-q-2024-35",
    ),
    "event": (
        "events/gamma-talks",  # 20 March 2024
        "topics/gamma/2024/08/#event-gamma-talks",
        [f"content/{kind}/gamma-{q}2024-{n}.yaml" for n in range(30) for kind, q in GAMMA],
        "topics/gamma/2024/#event-gamma-talks",
    ),
}


@pytest.mark.parametrize("kind", MOVES)
def test_a_record_moved_to_another_month_and_a_quiet_year_match_a_clean_build(
    fresh_busy: tuple[Path, Path], tmp_path: Path, kind: str
) -> None:
    record, moved_to, thinned, quiet_at = MOVES[kind]
    site, out = fresh_busy
    builder = Builder(site, out)
    assert builder.build(BEFORE_DEADLINE).ok
    source = site / f"content/{record}.yaml"
    source.write_text(source.read_text().replace("date: 2024-03", "date: 2024-08"))
    assert builder.build(BEFORE_DEADLINE).ok  # a kept builder, as serve does
    assert moved_to in read(out, "data/briefing.json")
    assert tree(out) == made(site, tmp_path / "ref", BUSY)
    write_files(site, dict.fromkeys(thinned))
    assert Builder(site, out).build(BEFORE_DEADLINE).ok  # a new builder, as `build` does
    quiet = tree(out)
    assert quiet == made(site, tmp_path / "ref", BUSY)
    list_name = quiet_at.split("/20")[0]
    assert not any(rel.startswith(f"{list_name}/2024/") for rel in month_pages(quiet, list_name))
    assert quiet_at in read(out, "data/briefing.json")


def test_a_busy_topic_year_is_paged_by_month_and_its_events_link_to_their_month(paged: Path) -> None:
    files = tree(paged)
    pages = month_pages(files, "topics/gamma")
    assert len([rel for rel in pages if rel.startswith(("topics/gamma/2023/", "topics/gamma/2024/"))]) == 24
    for rel in pages:
        year, month = rel.split("/")[2:4]
        found = entries(paged, rel[: -len("index.html")])
        assert found and all(d.startswith(f"{year}-{month}") for _, _, d in found), (rel, found)
    march = page(paged, "topics/gamma/2024/03/")
    assert march.find("h1").text.startswith("Gamma watch: March 2024")
    crumbs = [a.text for a in march.find("nav", **{"aria-label": "Breadcrumb"}).find_all("a")]
    assert crumbs[-3:] == ["Topics", "Gamma watch", "2024"]
    year = page(paged, "topics/gamma/2024/")
    nav = year.find("nav", **{"aria-label": "Months of 2024"})
    assert [a.attrs["href"] for a in nav.find_all("a")] == [f"{m:02d}/" for m in range(1, 13)]
    assert {e for e, _, _ in entries(paged, "topics/gamma/2024/")} == {
        "story-gamma-year",
        "event-gamma-summit",
    }
    # The topic's page shows the as-of year from the as-of month (November) on.
    topic = page(paged, "topics/gamma/")
    nav = topic.find("nav", **{"aria-label": "Earlier months of 2025"})
    assert [a.attrs["href"] for a in nav.find_all("a")] == [f"2025/{m:02d}/" for m in range(1, 11)]
    assert "This page shows the timeline from November 2025 on; earlier months and years" in topic.text
    assert all(d >= "2025-11" for _, _, d in entries(paged, "topics/gamma/"))
    # An event's address is its month's page of its first topic.
    data = read(paged, "data/briefing.json")
    assert "https://example.org/brief/topics/gamma/2024/03/#event-gamma-talks" in data
    assert "https://example.org/brief/topics/gamma/2025/05/#event-gamma-vote" in data
    assert "https://example.org/brief/topics/gamma/2024/#event-gamma-summit" in data
    assert 'id="event-gamma-talks"' in read(paged, "topics/gamma/2024/03/index.html")
    timeline = read(paged, "timeline/2024/03/index.html")
    assert 'href="../../../topics/gamma/2024/03/#event-gamma-talks"' in timeline


def test_a_year_over_the_default_threshold_is_paged_by_the_build_command(tmp_path: Path) -> None:
    """The default threshold, through the CLI: a year of MONTHS_ABOVE + 10 stories."""
    per_year = routes.MONTHS_ABOVE + 10
    files = {k: v for k, v in busy_files(per_year).items() if "-2023-" not in (k or "") and "-2024-" not in k}
    out = build(fixture_site(tmp_path / "site", files), "2026-02-10")
    pages = month_pages(tree(out))
    assert pages and all(rel.startswith("timeline/2025/") for rel in pages), pages
    assert len(entries(out, "timeline/2025/11/")) < per_year // 6
    assert site_gen("--site", tmp_path / "site", "check", "--as-of", "2026-02-10").code == 0


MONTH_PAGES = [
    "timeline/",
    "timeline/2024/",
    "timeline/2024/03/",
    "quotes/",
    "quotes/2024/",
    "quotes/2024/03/",
    "topics/gamma/",
    "topics/gamma/2024/",
    "topics/gamma/2024/03/",
]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None or not VNU.is_file(), reason="needs java and tests/js (npm)")
def test_month_pages_are_valid_html(paged: Path) -> None:
    from test_html_valid import vnu_errors

    errors = vnu_errors([str(paged / rel / "index.html") for rel in MONTH_PAGES])
    assert not errors, errors[:10]


@pytest.mark.browser
@pytest.mark.skipif(not AXE.is_file(), reason="needs tests/js (npm install)")
@pytest.mark.parametrize("width", [390, 1280])
def test_month_pages_pass_axe(browser, paged: Path, width: int) -> None:  # noqa: ANN001, F811
    from test_a11y import folder_violations

    found = folder_violations(browser, paged, MONTH_PAGES, width)
    assert not found, "\n".join(found)


def test_a_story_moved_into_a_busy_topic_brings_its_quote_to_that_months_page(
    fresh_busy: tuple[Path, Path], tmp_path: Path
) -> None:
    """The quote is in another year and month than its story and is not edited: it joins
    the topic through its story, and its month's page of the topic must show it."""
    site, out = fresh_busy
    write_files(
        site,
        {
            "content/stories/beta-late.yaml": (
                "title: Beta late\ndate: 2025-06-01\ntopics: [beta]\nsummary: Late.\n"
            ),
            "content/quotes/beta-early.yaml": (
                "text: Early word.\nspeaker: ann\ndate: 2024-03-15\nstory: beta-late\n"
                "source:\n  name: Example Wire\n"
            ),
        },
    )
    builder = Builder(site, out)
    assert builder.build(BEFORE_DEADLINE).ok
    assert "quote-beta-early" not in read(out, "topics/gamma/2024/03/index.html")
    story = site / "content/stories/beta-late.yaml"
    story.write_text(story.read_text().replace("topics: [beta]", "topics: [gamma]"))
    assert builder.build(BEFORE_DEADLINE).ok
    assert "quote-beta-early" in read(out, "topics/gamma/2024/03/index.html")
    assert tree(out) == made(site, tmp_path / "ref", BUSY)
