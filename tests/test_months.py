"""A busy year of the merged timeline is shown a month per page: with more than
MONTHS_ABOVE records in a year, each month of it gets /timeline/<year>/<MM>/, the
year's page lists its months (and keeps the entries dated by the year alone), and
the list page shows the as-of year from the as-of month on."""

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


def busy_files(per_year: int = 40) -> dict[str, str | None]:
    """`per_year` gamma stories in each of 2023, 2024 and 2025 (up to 20 November),
    spread over the year, and a story and an event dated by the year alone."""
    files: dict[str, str | None] = {
        "content/topics/gamma.yaml": "title: Gamma watch\nsummary: Busy.\nstatus: active\n",
        "content/stories/gamma-year.yaml": (
            "title: Gamma all year\ndate: 2024\ntopics: [gamma]\nsummary: All year.\n"
        ),
        "content/events/gamma-summit.yaml": "title: Gamma summit\ndate: 2024\ntopics: [gamma]\n",
    }
    for year in (2023, 2024, 2025):
        start = date(year, 1, 3)
        for n in range(per_year):
            day = start + timedelta(days=n * (320 if year == 2025 else 355) // per_year)
            files[f"content/stories/gamma-{year}-{n}.yaml"] = (
                f"title: Gamma {year} step {n}\ndate: {day.isoformat()}\n"
                f"topics: [gamma]\nsummary: Step {n}.\n"
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


def entries(out: Path, rel: str) -> list[tuple[str, str, str]]:
    return [
        (str(n.attrs.get("id")), str(n.attrs["data-kind"]), str(n.attrs["data-date"]))
        for n in page(out, rel).find_all("li", data_date=True)
    ]


def month_pages(files: dict[str, bytes]) -> list[str]:
    return sorted(rel for rel in files if re.fullmatch(r"timeline/\d{4}/\d\d/index\.html", rel))


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


def test_the_pages_together_hold_the_unsplit_timeline_in_order(busy_site: Path, paged: Path) -> None:
    whole_out = busy_site.parent / "whole"
    whole = made(busy_site, whole_out, 10**6)
    assert not month_pages(whole)
    split_files = tree(paged)
    for year in ("2023", "2024"):
        pieces = entries(paged, f"timeline/{year}/") + [
            e
            for rel in month_pages(split_files)
            if rel.startswith(f"timeline/{year}/")
            for e in entries(paged, rel[:-10])
        ]
        assert pieces == entries(whole_out, f"timeline/{year}/"), year
    listed = [
        e
        for rel in month_pages(split_files)
        if rel.startswith("timeline/2025/")
        for e in entries(paged, rel[:-10])
    ] + entries(paged, "timeline/")
    assert listed == entries(whole_out, "timeline/")
    # Only the merged timeline pages by month: every other page is the same.
    differ = {rel for rel in whole if whole[rel] != split_files.get(rel)}
    assert differ and all(rel.startswith("timeline/") or rel == "sitemap.xml" for rel in differ), differ


def test_month_pages_are_in_the_sitemap(paged: Path) -> None:
    sitemap = read(paged, "sitemap.xml")
    for rel in ("timeline/2024/", "timeline/2024/03/", "timeline/2025/10/"):
        assert f"https://example.org/brief/{rel}</loc>" in sitemap


def test_an_edit_rewrites_its_month_page_not_the_others_and_matches_a_clean_build(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site", busy_files())
    out = tmp_path / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(routes, "MONTHS_ABOVE", BUSY)
        assert Builder(site, out).build(BEFORE_DEADLINE).ok
        before = tree(out)
        story = site / "content/stories/gamma-2024-10.yaml"  # March 2024
        story.write_text(story.read_text().replace("Step 10.", "Step ten."))
        assert Builder(site, out).build(BEFORE_DEADLINE).ok
        after = tree(out)
        changed = {rel for rel in after if before.get(rel) != after[rel]}
        assert "timeline/2024/03/index.html" in changed
        assert (
            not {"timeline/2024/02/index.html", "timeline/2024/index.html", "timeline/index.html"} & changed
        )
        # Moved to another month, then the year shrinks below the threshold: one page again.
        story.write_text(story.read_text().replace("date: 2024-03", "date: 2024-07"))
        assert Builder(site, out).build(BEFORE_DEADLINE).ok
        assert tree(out) == made(site, tmp_path / "ref", BUSY)
        write_files(site, {f"content/stories/gamma-2024-{n}.yaml": None for n in range(30)})
        assert Builder(site, out).build(BEFORE_DEADLINE).ok
        shrunk = tree(out)
    assert shrunk == made(site, tmp_path / "ref", BUSY)
    assert not any(rel.startswith("timeline/2024/") and rel != "timeline/2024/index.html" for rel in shrunk)
    assert any(rel.startswith("timeline/2023/") for rel in month_pages(shrunk))


def test_a_month_emptied_by_moving_its_stories_within_the_year_loses_its_page(tmp_path: Path) -> None:
    """The year's records stay the same, only their months change: the month goes from
    the plan and from every page's list of months (an edit while serving, as serve does)."""
    site = fixture_site(tmp_path / "site", busy_files())
    out = tmp_path / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(routes, "MONTHS_ABOVE", BUSY)
        builder = Builder(site, out)
        assert builder.build(BEFORE_DEADLINE).ok
        assert (out / "timeline/2024/12/index.html").exists()
        for story in site.glob("content/stories/gamma-2024-*.yaml"):
            text = story.read_text()
            if "date: 2024-12-" in text:
                story.write_text(text.replace("date: 2024-12-", "date: 2024-11-"))
        assert builder.build(BEFORE_DEADLINE).ok
        incremental = tree(out)
    assert "timeline/2024/12/index.html" not in incremental
    assert incremental == made(site, tmp_path / "ref", BUSY)
    nav = page(out, "timeline/2024/").find("nav", **{"aria-label": "Months of 2024"})
    assert nav.find_all("a")[-1].text == "November"


def test_a_year_over_the_default_threshold_is_paged_by_the_build_command(tmp_path: Path) -> None:
    """The default threshold, through the CLI: a year of MONTHS_ABOVE + 10 stories."""
    per_year = routes.MONTHS_ABOVE + 10
    files = {k: v for k, v in busy_files(per_year).items() if "-2023-" not in (k or "") and "-2024-" not in k}
    out = build(fixture_site(tmp_path / "site", files), "2026-02-10")
    pages = month_pages(tree(out))
    assert pages and all(rel.startswith("timeline/2025/") for rel in pages), pages
    assert len(entries(out, "timeline/2025/11/")) < per_year // 6
    assert site_gen("--site", tmp_path / "site", "check", "--as-of", "2026-02-10").code == 0


MONTH_PAGES = ["timeline/", "timeline/2024/", "timeline/2024/03/"]


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
