"""`site-gen build`: the output layout, the command's contract and safe output."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest
from buildkit import (
    BEFORE_DEADLINE,
    FIXTURE,
    Node,
    build,
    fixture_site,
    page,
    read,
    site_gen,
    tree,
    tree_digest,
    write_files,
)

REPO = Path(__file__).resolve().parent.parent
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
END = "{% endblock %}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = fixture_site(tmp_path_factory.mktemp("build") / "site")
    return build(site)


def expected_paths(ids: dict[str, list[str]]) -> set[str]:
    """The spec's output table for a site with these published ids."""
    paths = {
        "index.html",
        "topics/index.html",
        "timeline/index.html",
        "questions/index.html",
        "people/index.html",
        "quotes/index.html",
        "feed.xml",
        "sitemap.xml",
        "robots.txt",
        "404.html",
        "data/briefing.json",
    }
    for topic in ids["topics"]:
        paths |= {f"topics/{topic}/index.html", f"topics/{topic}/feed.xml", f"topics/{topic}/timeline.json"}
    paths |= {f"stories/{s}/index.html" for s in ids["stories"]}
    paths |= {f"questions/{q}/index.html" for q in ids["questions"]}
    paths |= {f"people/{p}/index.html" for p in ids["people"]}
    return paths


def fixture_ids() -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {"topics": [], "stories": [], "questions": [], "people": []}
    for rel in FIXTURE:
        kind, name = rel.split("/")[1], Path(rel).stem
        if kind in ids:
            ids[kind].append(name)
    return ids


def test_every_path_of_the_output_table_exists(built: Path) -> None:
    files = set(tree(built))
    missing = expected_paths(fixture_ids()) - files
    assert not missing
    # An event has no page of its own.
    assert not any(p.startswith("events/") for p in files)


def test_every_path_of_the_output_table_exists_for_the_example(tmp_path: Path) -> None:
    out = build(REPO, "2025-11-20", out=tmp_path / "out")
    ids = {
        kind: [r["id"] for r in __import__("json").loads(read(out, "data/briefing.json"))[kind]]
        for kind in ("topics", "stories", "questions", "people")
    }
    assert len(ids["topics"]) >= 2
    assert expected_paths(ids) <= set(tree(out))


def test_build_prints_a_summary_line(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    run = site_gen("--site", site, "build", "--as-of", BEFORE_DEADLINE)
    assert run.code == 0, run
    assert re.search(r"^built \d+ pages in \d+\.\d\d s", run.stderr, re.M), run.stderr
    assert (site / "output" / "index.html").is_file()


def test_sitemap_lists_exactly_the_pages_with_absolute_urls(built: Path) -> None:
    root = ET.fromstring(read(built, "sitemap.xml"))
    assert root.tag == f"{SITEMAP}urlset"
    locs = [loc.text or "" for loc in root.iter(f"{SITEMAP}loc")]
    assert len(locs) == len(set(locs))
    pages = {rel for rel in tree(built) if rel.endswith("index.html")}
    expected = {"https://example.org/brief/" + rel[: -len("index.html")] for rel in pages}
    assert set(locs) == expected
    assert "https://example.org/brief/" in locs


def test_404_links_use_absolute_paths_under_the_base_path(built: Path) -> None:
    doc = page(built, "404.html")
    refs = [a.attrs["href"] for a in doc.find_all("a")] + [
        link.attrs["href"] for link in doc.find_all("link") if link.attrs.get("rel") == "stylesheet"
    ]
    assert refs
    for ref in refs:
        assert ref is not None
        if ref.startswith("#"):
            continue
        assert ref.startswith(("/brief/", "https://example.org/brief/")), ref
    assert "/brief/static/site.css" in refs


def test_robots_txt_allows_all_and_names_the_sitemap(built: Path) -> None:
    text = read(built, "robots.txt")
    assert "User-agent: *" in text
    assert "Sitemap: https://example.org/brief/sitemap.xml" in text.splitlines()
    assert "Disallow: /" not in text.splitlines()


def test_canonical_links_are_absolute(built: Path) -> None:
    doc = page(built, "stories/corrected/")
    canonical = doc.find("link", rel="canonical").attrs["href"]
    assert canonical == "https://example.org/brief/stories/corrected/"
    assert page(built, "").find("link", rel="canonical").attrs["href"] == "https://example.org/brief/"


def test_event_links_point_at_its_timeline_entry(built: Path) -> None:
    topic = page(built, "topics/alpha/")
    entry = topic.by_id("event-hearing")
    assert entry.attrs["data-kind"] == "event"
    links = [
        a.attrs["href"] for a in page(built, "").find_all("a") if "event-hearing" in (a.attrs["href"] or "")
    ]
    assert links == ["topics/alpha/#event-hearing"]


def quote_texts(doc: Node) -> list[str]:
    return [fig.find("blockquote").text for fig in doc.find_all("figure", class_="quote")]


def test_quotes_page_newest_first_and_person_page_has_all_quotes(built: Path) -> None:
    quotes = page(built, "quotes/")
    assert quote_texts(quotes) == ["We will see."]  # 2023's quote is on its year's archive page
    assert quotes.by_id("quote-ann-says")
    assert quote_texts(page(built, "quotes/2023/")) == ["An old remark."]
    person = page(built, "people/ann/")
    assert quote_texts(person) == ["We will see.", "An old remark."]
    assert "Minister, Ministry of Examples" in person.text


def test_timeline_page_shows_the_as_of_year_onward_and_archives_older_years(built: Path) -> None:
    current = {e.attrs["data-date"] for e in page(built, "timeline/").find_all(None, data_date=True)}
    assert "2026-03~" in current and "2025-11-10" in current
    assert not any(d.startswith(("2023", "2024")) for d in current)
    older = {e.attrs["data-date"] for e in page(built, "timeline/2023/").find_all(None, data_date=True)}
    assert older == {"2023", "2023-05~", "2023-05", "2023-05-01"}
    nav = [a.attrs["href"] for a in page(built, "timeline/2024/").find("nav", class_="years").find_all("a")]
    assert nav == ["../", "./", "../2023/"]


# -- reproducibility -----------------------------------------------------------


def test_two_builds_are_byte_identical_and_match_source_date_epoch(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    first = build(site, BEFORE_DEADLINE, out=tmp_path / "a")
    second = build(site, BEFORE_DEADLINE, out=tmp_path / "b")
    assert tree_digest(first) == tree_digest(second)
    # SOURCE_DATE_EPOCH at any instant of the same day (the site is in UTC).
    epoch = int(datetime(2025, 11, 30, 17, 45, tzinfo=timezone.utc).timestamp())
    run = site_gen("--site", site, "build", "--out", tmp_path / "c", env={"SOURCE_DATE_EPOCH": str(epoch)})
    assert run.code == 0, run
    assert tree_digest(tmp_path / "c") == tree_digest(first)


def test_source_date_epoch_is_read_in_the_site_timezone(tmp_path: Path) -> None:
    site = fixture_site(
        tmp_path / "site",
        site_yaml="title: Fixture Briefing\nbase_url: https://example.org/brief/\ntimezone: Asia/Tokyo\n",
    )
    reference = build(site, "2025-12-01", out=tmp_path / "ref")
    # 2025-11-30 20:00 UTC is already 1 December in Tokyo.
    epoch = int(datetime(2025, 11, 30, 20, 0, tzinfo=timezone.utc).timestamp())
    run = site_gen(
        "--site", site, "build", "--out", tmp_path / "epoch", env={"SOURCE_DATE_EPOCH": str(epoch)}
    )
    assert run.code == 0, run
    assert tree_digest(tmp_path / "epoch") == tree_digest(reference)


def test_no_wall_clock_in_the_output(built: Path) -> None:
    today = datetime.now(timezone.utc).date()
    for rel, data in tree(built).items():
        if not rel.endswith((".html", ".xml", ".json", ".txt", ".css")):
            continue
        text = data.decode("utf-8")
        assert today.isoformat() not in text or today.isoformat() == BEFORE_DEADLINE, rel


# -- safe output ---------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    "breakage",
    [
        {"content/stories/broken.yaml": "title: x\ndate: 2025-02-30\ntopics: [alpha]\nsummary: s\n"},
        {"templates/story.html": "{% extends 'base.html' %}{% block content %}{% if %}{% endblock %}"},
        {"templates/topic.html": "{% extends 'base.html' %}{% block content %}{{ topic.titel }}" + END},
        {"site.yaml": "title: x\n"},
    ],
    ids=["content-error", "template-syntax", "template-undefined", "bad-site-yaml"],
)
def test_a_failed_build_leaves_output_untouched(tmp_path: Path, breakage: dict[str, str]) -> None:
    site = fixture_site(tmp_path / "site")
    out = build(site)
    before = snapshot(out)
    write_files(site, breakage)
    (site / "content/stories/may-day.yaml").unlink()  # would remove a page on success
    run = site_gen("--site", site, "build", "--as-of", BEFORE_DEADLINE)
    assert run.code == 1, run
    assert "build failed" in run.stderr
    assert snapshot(out) == before
    assert not [p for p in site.iterdir() if p.name.startswith(".output")]


@pytest.mark.parametrize(
    ("name", "template", "misspelt", "page"),
    [
        (
            "story.html",
            "{% extends 'base.html' %}\n{% block content %}\n<h1>{{ story.title }}</h1>\n"
            "<p>{{ story.sumary }}</p>\n{% endblock %}\n",
            "sumary",
            "stories/",
        ),
        # The timeline pages are rendered to bytes piece by piece (render_page_bytes):
        # their errors are located as every other page's.
        (
            "timeline.html",
            "{% extends 'base.html' %}\n{% block content %}\n{% for group in timeline %}"
            "{{ group.heading }}{% endfor %}\n<p>{{ timelin }}</p>\n{% endblock %}\n",
            "timelin",
            "timeline/",
        ),
    ],
)
def test_misspelt_variable_in_a_site_template_fails_at_its_line(
    tmp_path: Path, name: str, template: str, misspelt: str, page: str
) -> None:
    site = fixture_site(tmp_path / "site", {f"templates/{name}": template})
    run = site_gen("--site", site, "build", "--as-of", BEFORE_DEADLINE)
    assert run.code == 1, run
    located = [line for line in run.stderr.splitlines() if line.startswith(f"templates/{name}:4:")]
    assert located, run.stderr
    assert misspelt in located[0] and f"rendering {page}" in located[0]
    assert not (site / "output").exists()


def test_site_template_overrides_the_theme(tmp_path: Path) -> None:
    template = (
        "{% extends 'base.html' %}{% block content %}<p class=\"mine\">{{ story.title }}</p>{% endblock %}"
    )
    site = fixture_site(tmp_path / "site", {"templates/story.html": template})
    out = build(site)
    assert page(out, "stories/may-day/").find("p", class_="mine").text == "A day in May 2023"
    assert page(out, "topics/alpha/").find_all("section", class_="timeline-month")


def test_deleted_record_page_disappears(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    out = build(site)
    assert (out / "stories/may-day/index.html").is_file()
    (site / "content/stories/may-day.yaml").unlink()
    write_files(site, {"content/people/bob.yaml": "name: Bob\n"})
    build(site)
    assert not (out / "stories/may-day").exists()
    assert (out / "people/bob/index.html").is_file()
    assert "stories/may-day/" not in read(out, "sitemap.xml")
    assert "may-day" not in read(out, "topics/alpha/index.html")


def test_build_into_a_foreign_non_empty_folder_is_refused(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    run = site_gen("--site", site, "build", "--as-of", BEFORE_DEADLINE, "--out", foreign)
    assert run.code == 1, run
    assert "refusing" in run.stderr
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    # An empty folder is fine.
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (build(site, out=empty) / "index.html").is_file()


def test_build_into_the_site_or_its_sources_is_refused(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    for target in (site, site / "content", site / "content" / "out"):
        run = site_gen("--site", site, "build", "--as-of", BEFORE_DEADLINE, "--out", target)
        assert run.code == 1, (target, run)
        assert "refusing" in run.stderr
    assert (site / "content/topics/alpha.yaml").is_file()


def test_as_of_must_be_a_day(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    for bad in ("2025-11", "30/11/2025", "2025-02-30"):
        run = site_gen("--site", site, "build", "--as-of", bad)
        assert run.code == 2, (bad, run)
    assert not (site / "output").exists()


# -- drafts and base_url ---------------------------------------------------------

DRAFTS = {
    "content/stories/secret.yaml": "title: Secret draft story\ndate: 2025-11-29\ntopics: [alpha]\n"
    "summary: Not yet.\ndraft: true\n",
    "content/questions/draft-q.yaml": "question: A draft question?\ntopics: [alpha]\nraised: 2025-11-28\n"
    "draft: true\n",
}


def test_drafts_are_left_out_by_default(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site", DRAFTS)
    out = build(site)
    assert not (out / "stories/secret").exists()
    assert not (out / "questions/draft-q").exists()
    for rel, data in tree(out).items():
        assert b"Secret draft story" not in data and b"draft-q" not in data, rel


def test_drafts_flag_includes_drafts_marked_data_draft(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site", DRAFTS)
    out = build(site, BEFORE_DEADLINE, "--drafts")
    story = page(out, "stories/secret/")
    assert story.find("body").attrs["class"] and "is-draft" in (story.find("body").attrs["class"] or "")
    assert story.find_all(None, data_draft=True)
    entry = page(out, "topics/alpha/").by_id("story-secret")
    assert entry.has("data-draft")
    question = page(out, "questions/").find(None, data_question="draft-q")
    assert question.has("data-draft")
    # Published records are not marked.
    assert not page(out, "topics/alpha/").by_id("story-may-day").has("data-draft")


def test_published_record_referring_to_a_draft_fails_the_build(tmp_path: Path) -> None:
    extra = dict(DRAFTS)
    extra["content/quotes/cites-draft.yaml"] = "text: Hm.\nspeaker: ann\ndate: 2025-11-29\nstory: secret\n"
    site = fixture_site(tmp_path / "site", extra)
    run = site_gen("--site", site, "build", "--as-of", BEFORE_DEADLINE)
    assert run.code == 1, run
    assert re.search(r"^content/quotes/cites-draft\.yaml:4:\d+: error: .*draft", run.stderr, re.M), run.stderr
    assert not (site / "output").exists()
    # With drafts the reference is fine.
    assert (build(site, BEFORE_DEADLINE, "--drafts") / "stories/secret/index.html").is_file()


def test_base_url_override_reaches_canonical_feeds_and_sitemap(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    out = build(site, BEFORE_DEADLINE, "--base-url", "https://mirror.example.net/sub/dir")
    canonical = page(out, "topics/alpha/").find("link", rel="canonical").attrs["href"]
    assert canonical == "https://mirror.example.net/sub/dir/topics/alpha/"
    assert "https://mirror.example.net/sub/dir/stories/" in read(out, "feed.xml")
    # The search index (pagefind/) is binary and names pages by site-relative paths only.
    text = "".join(d.decode() for rel, d in tree(out).items() if not rel.startswith("pagefind/"))
    assert "https://example.org/brief/" not in text
    assert "/sub/dir/static/site.css" in read(out, "404.html")
    assert "https://mirror.example.net/sub/dir/sitemap.xml" in read(out, "robots.txt")


def test_output_is_only_what_the_site_makes(tmp_path: Path) -> None:
    site = fixture_site(
        tmp_path / "site", {"static/img/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>"}
    )
    out = build(site)
    assert (out / "static/img/logo.svg").read_bytes().startswith(b"<svg")
    assert not [p for p in out.rglob("*") if p.is_symlink()]
    assert not [p for p in out.rglob(".*")]
    assert os.listdir(site / ".site-gen-cache")


def test_the_library_s_build_site_builds_as_the_command_does(tmp_path: Path) -> None:
    """`site_gen.builder.build_site`, the documented API: the command's bytes, and a
    second call (from the cache it saved) writing nothing."""
    from site_gen.builder import build_site

    site = fixture_site(tmp_path / "site")
    report = build_site(site, tmp_path / "lib", as_of=BEFORE_DEADLINE)
    assert report.ok and report.written
    assert tree(tmp_path / "lib") == tree(build(site, out=tmp_path / "cli"))
    again = build_site(site, tmp_path / "lib", as_of=BEFORE_DEADLINE)
    assert again.ok and not again.written and not again.removed
