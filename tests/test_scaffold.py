"""`site-gen new` and `site-gen init`, run as real subprocesses on real folders."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml
from conftest import write_site

from site_gen import load_site
from site_gen.fields import KINDS, SINGULAR_TO_KIND
from site_gen.scaffold import init_site

TODAY = date(2025, 3, 10)
# SOURCE_DATE_EPOCH for 12:00 UTC on TODAY: site-gen's "today" in a UTC site.
EPOCH = str(int(datetime(2025, 3, 10, 12, tzinfo=timezone.utc).timestamp()))
ENV = {"SOURCE_DATE_EPOCH": EPOCH}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    """A site made by init_site, dated TODAY."""
    root = tmp_path / "briefing"
    init_site(root, TODAY)
    return root


# -- new ---------------------------------------------------------------------


@pytest.mark.parametrize("singular", list(SINGULAR_TO_KIND))
def test_new_writes_a_draft_that_checks_for_every_kind(starter: Path, run_cli, singular: str) -> None:
    kind = SINGULAR_TO_KIND[singular]
    result = run_cli("--site", starter, "new", singular, f"fresh-{singular}", env=ENV)
    assert result.code == 0, result
    assert result.stdout.strip() == f"content/{kind}/fresh-{singular}.yaml"
    text = (starter / result.stdout.strip()).read_text(encoding="utf-8")
    assert re.search(r"^draft: true$", text, re.M)
    # Every field of the kind is there, filled in or commented out, under its meaning.
    for spec in KINDS[kind].fields:
        if spec.name == "id":
            continue
        assert re.search(rf"^(# )?{spec.name}:", text, re.M), spec.name
        assert f"# {spec.doc}" in text, spec.doc
    check = run_cli("--site", starter, "check", "--strict", env=ENV)
    assert check.code == 0, check
    build = run_cli("--site", starter, "build", "--drafts", "--out", starter.parent / "preview", env=ENV)
    assert build.code == 0, build


def test_new_fills_required_fields_with_valid_placeholders(starter: Path, run_cli) -> None:
    result = run_cli("--site", starter, "new", "story", "bridge-tender-opens", env=ENV)
    assert result.code == 0, result
    data = yaml.safe_load((starter / "content/stories/bridge-tender-opens.yaml").read_text())
    assert data == {
        "title": "Bridge tender opens",
        "date": TODAY,
        "topics": ["harbour-bridge-repairs"],
        "summary": "TODO: what happened, in a few sentences\n",
        "draft": True,
    }
    loaded = load_site(starter, as_of=TODAY, drafts=True)
    assert loaded.ok, loaded.problems
    story = loaded.site.get("stories", "bridge-tender-opens")
    assert story.draft and story.values["date"].text == TODAY.isoformat()


def test_new_quote_needs_no_story_but_gets_topics_and_a_speaker(starter: Path, run_cli) -> None:
    assert run_cli("--site", starter, "new", "quote", "new-words", env=ENV).code == 0
    data = yaml.safe_load((starter / "content/quotes/new-words.yaml").read_text())
    assert data["speaker"] == "robin-example"
    assert data["topics"] == ["harbour-bridge-repairs"]
    assert "story" not in data and "source" not in data


def test_new_question_leaves_answer_fields_optional(starter: Path, run_cli) -> None:
    assert run_cli("--site", starter, "new", "question", "who-pays", env=ENV).code == 0
    text = (starter / "content/questions/who-pays.yaml").read_text()
    assert "# answer: |" in text and "(required when status is answered)" in text
    assert yaml.safe_load(text)["raised"] == TODAY


def test_new_accepts_plural_kinds(starter: Path, run_cli) -> None:
    result = run_cli("--site", starter, "new", "people", "sam-writer", env=ENV)
    assert result.code == 0, result
    assert yaml.safe_load((starter / "content/people/sam-writer.yaml").read_text())["name"] == "Sam writer"


@pytest.mark.parametrize("singular", list(SINGULAR_TO_KIND))
def test_uncommenting_every_optional_field_still_validates(starter: Path, run_cli, singular: str) -> None:
    """The commented-out fields have the right shape: uncommented, they load."""
    kind = SINGULAR_TO_KIND[singular]
    assert run_cli("--site", starter, "new", singular, "full", env=ENV).code == 0
    path = starter / f"content/{kind}/full.yaml"
    lines = []
    for line in path.read_text().splitlines():
        # "# name: value" and "#   nested: value" are fields; "# words" lines are explanations.
        match = re.match(r"^# ( *(- )?[a-z_]+:.*| +- .*| {2}\S.*)$", line)
        lines.append(match.group(1) if match else line)
    text = "\n".join(lines) + "\n"
    for placeholder, real in (
        ("person-id", "robin-example"),
        ("story-id", "council-approves-repair-plan"),
        ("topic-id", "harbour-bridge-repairs"),
    ):
        text = text.replace(placeholder, real)
    path.write_text(text)
    uncommented = yaml.safe_load(text)
    optional = {f.name for f in KINDS[kind].fields if not f.required} - {"id", "draft"}
    assert optional <= set(uncommented), optional - set(uncommented)
    loaded = load_site(starter, as_of=TODAY, drafts=True)
    assert [p for p in loaded.problems if p.path.endswith("full.yaml")] == [], loaded.problems


def test_new_dates_today_in_the_sites_timezone(make_site, run_cli) -> None:
    # 12:00 UTC on 10 March is already 11 March at UTC+14.
    site = make_site(
        {
            "site.yaml": "title: T\nbase_url: https://example.org/\ntimezone: Pacific/Kiritimati\n",
        }
    )
    assert run_cli("--site", site, "new", "topic", "t", env=ENV).code == 0
    assert run_cli("--site", site, "new", "event", "e", env=ENV).code == 0
    assert yaml.safe_load((site / "content/events/e.yaml").read_text())["date"] == date(2025, 3, 11)


@pytest.mark.parametrize("kind", ["stories-and-more", "storie", "Topicx", "draft", ""])
def test_new_unknown_kind_exits_2_and_writes_nothing(starter: Path, run_cli, kind: str) -> None:
    before = snapshot(starter)
    result = run_cli("--site", starter, "new", kind, "fine-id")
    assert result.code == 2, result
    assert "unknown kind" in result.stderr and "topic, story, quote, question, person, event" in result.stderr
    assert snapshot(starter) == before


@pytest.mark.parametrize("bad_id", ["Bad", "a--b", "-a", "a-", "a_b", "a/b", "../x", "a" * 81, "ünï"])
def test_new_invalid_id_exits_2_and_writes_nothing(starter: Path, run_cli, bad_id: str) -> None:
    before = snapshot(starter)
    result = run_cli("--site", starter, "new", "story", bad_id)
    assert result.code == 2, result
    assert "id" in result.stderr.lower() and "Traceback" not in result.stderr
    assert snapshot(starter) == before


EXISTING = {
    "content/topics/t.yaml": "title: T\nsummary: S\n",
    "content/stories/2025/deep.yaml": "title: Deep\ndate: 2025\ntopics: [t]\nsummary: S\n",
    "content/events/several.yaml": "- id: listed\n  title: L\n  date: 2025\n  topics: [t]\n",
    "content/people/renamed-file.yaml": "id: own-id\nname: N\n",
    "content/questions/broken.yaml": "question: [unclosed\n",
    "content/quotes/q.yml": "text: T\nspeaker: own-id\ndate: 2025\ntopics: [t]\nsource: {name: S}\n",
}


@pytest.mark.parametrize(
    ("kind", "record_id", "words"),
    [
        ("topic", "t", "already exists (content/topics/t.yaml"),
        ("story", "deep", "content/stories/2025/deep.yaml"),
        ("event", "listed", "content/events/several.yaml"),
        ("person", "own-id", "content/people/renamed-file.yaml"),
        ("question", "broken", "content/questions/broken.yaml already exists"),
        ("quote", "q", "content/quotes/q.yml"),
    ],
)
def test_new_refuses_an_existing_id_with_exit_1(
    make_site, run_cli, kind: str, record_id: str, words: str
) -> None:
    site = make_site(EXISTING)
    before = snapshot(site)
    result = run_cli("--site", site, "new", kind, record_id)
    assert result.code == 1, result
    assert words in result.stderr
    assert snapshot(site) == before


def test_new_never_overwrites_a_file_that_is_not_a_record_yet(make_site, run_cli) -> None:
    # An empty file loads no record, but it is someone's file.
    site = make_site({"content/topics/t.yaml": "title: T\nsummary: S\n", "content/topics/later.yaml": ""})
    before = snapshot(site)
    result = run_cli("--site", site, "new", "topic", "later")
    assert result.code == 1, result
    assert snapshot(site) == before


def test_new_same_id_of_another_kind_is_fine(make_site, run_cli) -> None:
    site = make_site({"content/topics/t.yaml": "title: T\nsummary: S\nstatus: dormant\n"})
    assert run_cli("--site", site, "new", "event", "t", env=ENV).code == 0
    assert run_cli("--site", site, "check", "--strict", env=ENV).code == 0


@pytest.mark.parametrize(("kind", "needs"), [("story", "topic"), ("question", "topic"), ("quote", "person")])
def test_new_explains_what_to_create_first(make_site, run_cli, kind: str, needs: str) -> None:
    files = {"content/topics/t.yaml": "title: T\nsummary: S\n"} if needs == "person" else {}
    site = make_site(files)
    before = snapshot(site)
    result = run_cli("--site", site, "new", kind, "x")
    assert result.code == 1, result
    assert f"site-gen new {needs} <id>" in result.stderr
    assert snapshot(site) == before


def test_new_outside_a_site_is_a_usage_error(tmp_path: Path, run_cli) -> None:
    result = run_cli("--site", tmp_path, "new", "topic", "t")
    assert result.code == 2 and "site.yaml" in result.stderr
    assert list(tmp_path.iterdir()) == []


# -- init --------------------------------------------------------------------


def test_init_makes_a_site_that_passes_check_strict_and_builds(tmp_path: Path, run_cli) -> None:
    result = run_cli("init", "my-briefing", cwd=tmp_path)
    assert result.code == 0, result
    site = tmp_path / "my-briefing"
    check = run_cli("--site", site, "check", "--strict")
    assert check.code == 0, check
    assert "0 errors, 0 warnings" in check.stderr
    build = run_cli("build", cwd=site)
    assert build.code == 0, build
    out = site / "output"
    for page in (
        "index.html",
        "topics/harbour-bridge-repairs/index.html",
        "stories/council-approves-repair-plan/index.html",
        "questions/bridge-reopening-date/index.html",
        "people/robin-example/index.html",
    ):
        assert (out / page).is_file(), page
    home = (out / "index.html").read_text()
    css = re.findall(r'href="([^"]+\.css)"', home)
    assert css and all((out / href).is_file() for href in css)
    assert "<h1" in home and "My briefing" in home


def test_init_writes_one_record_of_each_kind_and_the_project_files(tmp_path: Path) -> None:
    written = init_site(tmp_path / "site", TODAY)
    assert {".gitignore", "README.md", "site.yaml", ".github/workflows/publish.yml"} <= set(written)
    loaded = load_site(tmp_path / "site", as_of=TODAY)
    assert loaded.ok and not loaded.warnings, loaded.problems
    assert {kind: len(loaded.site.all(kind)) for kind in KINDS} == {kind: 1 for kind in KINDS}
    quote = loaded.site.all("quotes")[0]
    assert quote.values.get("story") or quote.values.get("source")
    ignored = (tmp_path / "site/.gitignore").read_text().split()
    assert "output/" in ignored and ".site-gen-cache/" in ignored
    readme = (tmp_path / "site/README.md").read_text()
    assert readme.startswith("# Site\n") and "site-gen new" in readme and "draft: true" in readme


def test_init_workflow_builds_and_deploys_to_pages(tmp_path: Path) -> None:
    init_site(tmp_path / "site", TODAY)
    workflow = yaml.safe_load((tmp_path / "site/.github/workflows/publish.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    uses = [s.get("uses", "").split("@")[0] for s in steps + workflow["jobs"]["deploy"]["steps"]]
    assert {
        "actions/checkout",
        "actions/setup-python",
        "actions/configure-pages",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    } <= set(uses)
    runs = " ".join(s.get("run", "") for s in steps)
    assert "pip install" in runs and "--base-url" in runs and "steps.pages.outputs.base_url" in runs
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert "SITE_GEN" in workflow["env"]


def test_init_dates_examples_relative_to_today_so_they_never_go_stale_at_birth(tmp_path: Path) -> None:
    for day in (date(2024, 1, 1), date(2031, 12, 31)):
        root = tmp_path / day.isoformat()
        init_site(root, day)
        loaded = load_site(root, as_of=day)
        assert loaded.ok and not loaded.warnings
        story = loaded.site.all("stories")[0]
        assert 0 <= (day - date.fromisoformat(story.values["date"].text)).days <= 7


def test_init_uses_source_date_epoch_like_check(tmp_path: Path, run_cli) -> None:
    assert run_cli("init", tmp_path / "s", env=ENV).code == 0
    text = (tmp_path / "s/content/stories/council-approves-repair-plan.yaml").read_text()
    assert "date: 2025-03-08" in text
    assert run_cli("--site", tmp_path / "s", "check", "--strict", env=ENV).code == 0


def test_init_into_an_existing_empty_folder(tmp_path: Path, run_cli) -> None:
    (tmp_path / "empty").mkdir()
    assert run_cli("init", tmp_path / "empty").code == 0
    assert (tmp_path / "empty/site.yaml").is_file()
    # Nothing is left beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_init_dot_in_an_empty_current_folder_keeps_that_folder(tmp_path: Path, run_cli) -> None:
    here = tmp_path / "here"
    here.mkdir()
    here.chmod(0o750)
    inode = here.stat().st_ino
    result = run_cli("init", ".", cwd=here)
    assert result.code == 0, result
    assert here.stat().st_ino == inode and (here.stat().st_mode & 0o777) == 0o750
    assert (here / "site.yaml").is_file() and (here / ".github/workflows/publish.yml").is_file()
    assert run_cli("check", "--strict", cwd=here).code == 0


def test_init_creates_missing_parent_folders(tmp_path: Path, run_cli) -> None:
    assert run_cli("init", tmp_path / "a/b/c").code == 0
    assert (tmp_path / "a/b/c/content/topics/harbour-bridge-repairs.yaml").is_file()


def test_init_refuses_a_non_empty_folder_and_writes_nothing(tmp_path: Path, run_cli) -> None:
    target = write_site(tmp_path / "mine", {"notes.txt": "keep me\n"}, site_yaml=False)
    (target / ".hidden").write_text("also mine\n")
    before = snapshot(target)
    result = run_cli("init", target)
    assert result.code == 1, result
    assert "not empty" in result.stderr and "nothing was written" in result.stderr
    assert snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_init_refuses_a_file(tmp_path: Path, run_cli) -> None:
    (tmp_path / "file").write_text("x")
    result = run_cli("init", tmp_path / "file")
    assert result.code == 1 and "not a folder" in result.stderr
    assert (tmp_path / "file").read_text() == "x"


def test_init_title_comes_from_the_folder_name(tmp_path: Path) -> None:
    init_site(tmp_path / "city-hall_watch", TODAY)
    assert yaml.safe_load((tmp_path / "city-hall_watch/site.yaml").read_text())["title"] == "City hall watch"
