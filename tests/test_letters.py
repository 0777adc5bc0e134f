"""/topics/ and /people/ with many entries list them a letter per page: past
LETTERS_ABOVE, each letter gets /topics/by-name/<letter>/ (/people/by-name/<letter>/),
and the list page shows the active topics with the latest developments (the most
quoted people) with links to every letter."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from buildkit import BEFORE_DEADLINE, fixture_site, page, read, tree, write_files
from readerkit import AXE, VNU, browser  # noqa: F401

from site_gen import pages, routes
from site_gen.builder import Builder

FEW = 3  # the threshold these tests build with (the default is for long-running briefings)

PEOPLE = {  # id: name (ann, "Ann Example", is the fixture's)
    "bea": "Bea Baker",
    "abe": "Abe Adams",
    "emile": "Émile Zola",
    "zed": "zed lowercase",
    "li": "李 Wei",
    "nine": "9 Lives",
}


def letter_files() -> dict[str, str | None]:
    files: dict[str, str | None] = {
        f"content/people/{pid}.yaml": f"name: {name}\nrole: Speaker {pid}\n" for pid, name in PEOPLE.items()
    }
    for n, speaker in enumerate(["bea", "bea", "bea", "bea", "zed", "zed"]):
        files[f"content/quotes/said-{n}.yaml"] = (
            f"text: Remark {n}.\nspeaker: {speaker}\ndate: 2025-10-0{n + 1}\n"
            "topics: [beta]\nsource:\n  name: Example Wire\n"
        )
    files["content/topics/echo.yaml"] = "title: Échos of talks\nsummary: Echoes.\n"
    files["content/stories/echo-news.yaml"] = (
        "title: Echo news\ndate: 2025-11-28\ntopics: [echo]\nsummary: Newest of all.\n"
    )
    return files


def made(site: Path, out: Path) -> dict[str, bytes]:
    """A clean in-process build of `site` into `out` (the threshold as patched)."""
    shutil.rmtree(out, ignore_errors=True)
    report = Builder(site, out, cache=False).build(BEFORE_DEADLINE)
    assert report.ok, report.problems
    return tree(out)


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = fixture_site(tmp_path_factory.mktemp("letters") / "site", letter_files())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(routes, "LETTERS_ABOVE", FEW)
        patch.setattr(pages, "LATEST_TOPICS", 2)
        made(site, site.parent / "out")
    return site.parent / "out"


@pytest.fixture
def fresh_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setattr(routes, "LETTERS_ABOVE", FEW)
    return fixture_site(tmp_path / "site", letter_files()), tmp_path / "out"


def names(out: Path, rel: str) -> list[str]:
    return [li.find("a").text for li in page(out, rel).find("ul", class_="people-list").find_all("li")]


def letter_nav(out: Path, rel: str, label: str) -> list[tuple[str, bool]]:
    nav = page(out, rel).find("nav", **{"aria-label": label})
    return [(a.text, a.attrs.get("aria-current") == "page") for a in nav.find_all("a")]


def test_index_letters_fold_case_and_accents_and_put_the_rest_under_other() -> None:
    assert routes.index_letter("Émile") == "e"
    assert routes.index_letter("  zed") == "z"
    assert routes.index_letter("Øresund") == "o"  # no accent to remove: mapped
    assert routes.index_letter("Łódź") == "l" and routes.index_letter("Æthelred") == "a"
    assert routes.index_letter("李 Wei") == routes.OTHER_LETTER
    assert routes.index_letter("9 Lives") == routes.OTHER_LETTER
    assert routes.letter_label(routes.OTHER_LETTER) == "Other"


def test_each_letter_has_a_page_with_its_people_by_name(split: Path) -> None:
    files = tree(split)
    letters = sorted(rel.split("/")[2] for rel in files if rel.startswith("people/by-name/"))
    assert letters == ["a", "b", "e", "other", "z"]
    assert names(split, "people/by-name/a/") == ["Abe Adams", "Ann Example"]
    assert names(split, "people/by-name/e/") == ["Émile Zola"]
    assert names(split, "people/by-name/other/") == ["9 Lives", "李 Wei"]
    assert page(split, "people/by-name/a/").find("h1").text == "People: A"
    assert letter_nav(split, "people/by-name/b/", "People by name") == [
        ("A", False),
        ("B", True),
        ("E", False),
        ("Z", False),
        ("Other", False),
    ]
    crumbs = page(split, "people/by-name/z/").find("nav", **{"aria-label": "Breadcrumb"})
    assert [li.text.strip() for li in crumbs.find_all("li")] == ["Fixture Briefing", "People", "Z"]


def test_the_people_page_shows_the_most_quoted_and_links_every_letter(split: Path) -> None:
    assert names(split, "people/") == ["Bea Baker", "Ann Example", "zed lowercase"]
    assert [text for text, _ in letter_nav(split, "people/", "People by name")] == [
        "A",
        "B",
        "E",
        "Z",
        "Other",
    ]
    assert "Most quoted" in read(split, "people/index.html")


def test_topics_by_letter_keep_their_status_groups(split: Path) -> None:
    html = read(split, "topics/by-name/g/index.html")
    assert "Gamma closed case" in html and '<h2 id="s-closed">Closed</h2>' in html
    assert "Alpha affair" not in html
    assert "Échos of talks" in read(split, "topics/by-name/e/index.html")
    assert [text for text, _ in letter_nav(split, "topics/", "Topics by name")] == ["A", "B", "D", "E", "G"]


def test_the_topics_page_shows_the_active_topics_that_moved_last(split: Path) -> None:
    cards = [h3.find("a").text for h3 in page(split, "topics/").find_all("h3")]
    assert cards == ["Échos of talks", "Alpha affair"]  # LATEST_TOPICS = 2, newest first
    lede = page(split, "topics/").find("p", class_="lede").text
    assert "2 active topics with the latest developments, of 4 active" in " ".join(lede.split())


def test_the_topics_page_says_plainly_when_it_shows_every_active_topic(split: Path, tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site", letter_files())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(routes, "LETTERS_ABOVE", FEW)
        made(site, tmp_path / "out")  # LATEST_TOPICS is 25: all four active topics shown
    lede = " ".join(page(tmp_path / "out", "topics/").find("p", class_="lede").text.split())
    assert lede.endswith("Below are the 4 active topics, latest developments first.")


def test_letter_pages_are_in_the_sitemap_and_a_short_list_has_none(split: Path, tmp_path: Path) -> None:
    sitemap = read(split, "sitemap.xml")
    assert "/people/by-name/other/</loc>" in sitemap and "/topics/by-name/g/</loc>" in sitemap
    whole = made(fixture_site(tmp_path / "site", letter_files()), tmp_path / "out")
    assert not any("by-name" in rel for rel in whole)
    assert (
        "Abe Adams" in whole["people/index.html"].decode()
        and "Most quoted" not in whole["people/index.html"].decode()
    )


def test_renaming_a_person_moves_them_and_rewrites_only_the_letters_involved(
    fresh_split: tuple[Path, Path], tmp_path: Path
) -> None:
    site, out = fresh_split
    builder = Builder(site, out)  # kept between builds, as serve's
    assert builder.build(BEFORE_DEADLINE).ok
    before = tree(out)
    write_files(site, {"content/people/abe.yaml": "name: Abe Adams\nrole: Speaker now\n"})
    assert builder.build(BEFORE_DEADLINE).ok
    after = tree(out)
    changed = {rel for rel in after if before.get(rel) != after[rel]}
    assert "people/by-name/a/index.html" in changed
    assert not {"people/by-name/b/index.html", "people/by-name/z/index.html"} & changed
    write_files(site, {"content/people/abe.yaml": "name: Yves Abe\n"})  # a new letter
    assert builder.build(BEFORE_DEADLINE).ok
    assert names(out, "people/by-name/y/") == ["Yves Abe"]
    assert "Y" in [text for text, _ in letter_nav(out, "people/by-name/z/", "People by name")]
    assert tree(out) == made(site, tmp_path / "ref")
    # Fresh builders from the cache, as repeated `build` runs: a person goes, a topic is renamed.
    write_files(
        site, {"content/people/emile.yaml": None, "content/topics/echo.yaml": "title: Zeta\nsummary: Z.\n"}
    )
    assert Builder(site, out).build(BEFORE_DEADLINE).ok
    files = tree(out)
    assert not any(rel.startswith(("people/by-name/e/", "topics/by-name/e/")) for rel in files)
    assert files == made(site, tmp_path / "ref")
    # Three people: one page again.
    write_files(site, {f"content/people/{pid}.yaml": None for pid in ("bea", "zed", "li", "nine")})
    write_files(site, {f"content/quotes/said-{n}.yaml": None for n in range(6)})
    write_files(site, {"content/topics/echo.yaml": None, "content/stories/echo-news.yaml": None})
    assert Builder(site, out).build(BEFORE_DEADLINE).ok
    files = tree(out)
    assert not any(rel.startswith("people/by-name/") for rel in files)
    assert any(rel.startswith("topics/by-name/") for rel in files)  # four topics still
    assert files == made(site, tmp_path / "ref")


def test_a_quote_rewrites_its_speakers_letter_and_the_most_quoted(
    fresh_split: tuple[Path, Path], tmp_path: Path
) -> None:
    site, out = fresh_split
    builder = Builder(site, out)
    assert builder.build(BEFORE_DEADLINE).ok
    before = tree(out)
    for n in range(4):
        write_files(
            site,
            {
                f"content/quotes/abe-{n}.yaml": (
                    f"text: Abe says {n}.\nspeaker: abe\ndate: 2025-11-0{n + 1}\ntopics: [alpha]\n"
                    "source:\n  name: Example Wire\n"
                )
            },
        )
    assert builder.build(BEFORE_DEADLINE).ok
    after = tree(out)
    changed = {rel for rel in after if before.get(rel) != after[rel]}
    assert {"people/index.html", "people/by-name/a/index.html"} <= changed
    assert "people/by-name/b/index.html" not in changed
    assert names(out, "people/")[0] == "Abe Adams"
    assert after == made(site, tmp_path / "ref")


LETTER_PAGES = ["people/", "people/by-name/a/", "people/by-name/other/", "topics/", "topics/by-name/g/"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None or not VNU.is_file(), reason="needs java and tests/js (npm)")
def test_letter_pages_are_valid_html(split: Path) -> None:
    from test_html_valid import vnu_errors

    errors = vnu_errors([str(split / rel / "index.html") for rel in LETTER_PAGES])
    assert not errors, errors[:10]


@pytest.mark.browser
@pytest.mark.skipif(not AXE.is_file(), reason="needs tests/js (npm install)")
@pytest.mark.parametrize("width", [390, 1280])
def test_letter_pages_pass_axe(browser, split: Path, width: int) -> None:  # noqa: ANN001, F811
    from test_a11y import folder_violations

    found = folder_violations(browser, split, LETTER_PAGES, width)
    assert not found, "\n".join(found)
