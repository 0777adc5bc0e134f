"""Incremental builds: nothing changed writes nothing, an edit rewrites exactly what
shows it, and any sequence of edits gives the same bytes as a fresh full build.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from buildkit import BEFORE_DEADLINE, build, fixture_site, site_gen, tree, write_files

from site_gen import routes
from site_gen.builder import DATA_VIEWS, Builder, BuildReport, markdown_texts
from site_gen.incremental import Journal, Membership
from site_gen.watch import differences, snapshot

AS_OF = BEFORE_DEADLINE


def stamps(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def fresh(site: Path, target: Path, as_of: str = AS_OF, **options: object) -> dict[str, bytes]:
    """A full build with no cache into a new folder: the reference output."""
    if target.exists():
        shutil.rmtree(target)
    report = Builder(site, target, cache=False, **options).build(as_of)  # type: ignore[arg-type]
    assert report.ok, [str(p) for p in report.problems]
    return tree(target)


def written_count(stderr: str) -> tuple[int, int]:
    match = re.search(r"\((\d+) files written, (\d+) removed\)", stderr)
    assert match, stderr
    return int(match.group(1)), int(match.group(2))


def test_second_build_writes_nothing(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    out = build(site)
    before = stamps(out)
    run = site_gen("--site", site, "build", "--as-of", AS_OF)
    assert run.code == 0, run
    assert written_count(run.stderr) == (0, 0)
    assert stamps(out) == before


def test_changed_as_of_rewrites_only_what_depends_on_it(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    out = build(site)
    build(site, "2025-12-01")
    assert tree(out) == fresh(site, tmp_path / "ref", "2025-12-01")


def test_editing_one_story_rewrites_exactly_the_pages_that_show_it(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    out = build(site)
    old, old_stamps = tree(out), stamps(out)
    text = (site / "content/stories/may-day.yaml").read_text()
    (site / "content/stories/may-day.yaml").write_text(text.replace("The first of May.", "Labour day."))
    run = site_gen("--site", site, "build", "--as-of", AS_OF)
    assert run.code == 0, run
    new, new_stamps = tree(out), stamps(out)
    assert new == fresh(site, tmp_path / "ref")
    differ = {rel for rel in new if old.get(rel) != new[rel]}
    touched = {rel for rel in new if old_stamps.get(rel) != new_stamps[rel]}
    assert touched == differ  # written exactly when the bytes change
    # Only the search index's content-named files that were replaced are removed.
    gone = set(old) - set(new)
    assert all(rel.startswith("pagefind/") for rel in gone)
    assert written_count(run.stderr) == (len(differ), len(gone))
    shows = {
        "stories/may-day/index.html",
        "topics/alpha/index.html",
        "topics/alpha/timeline.json",
        "topics/alpha/feed.xml",
        "timeline/2023/index.html",
        "feed.xml",
        "data/briefing.json",
    }
    assert shows <= differ
    unrelated = {
        "topics/beta/index.html",
        "stories/before-vote/index.html",
        "people/ann/index.html",
        "questions/open-nov/index.html",
        "timeline/index.html",
        "static/site.css",
    }
    assert not unrelated & differ


def test_deleting_a_record_removes_its_page(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    out = build(site)
    before = set(tree(out))
    (site / "content/questions/dropped-one.yaml").unlink()
    run = site_gen("--site", site, "build", "--as-of", AS_OF)
    assert run.code == 0, run
    assert not (out / "questions/dropped-one").exists()
    gone = before - set(tree(out))
    # The page, and the search index's content-named files that were replaced.
    assert {rel for rel in gone if not rel.startswith("pagefind/")} == {"questions/dropped-one/index.html"}
    assert written_count(run.stderr)[1] == len(gone)
    assert tree(out) == fresh(site, tmp_path / "ref")


def test_a_hand_edited_output_file_is_rewritten(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    out = build(site)
    original = (out / "topics/beta/index.html").read_bytes()
    (out / "topics/beta/index.html").write_text("tampered")
    (out / "stories/may-day/index.html").unlink()
    build(site)
    assert (out / "topics/beta/index.html").read_bytes() == original
    assert tree(out) == fresh(site, tmp_path / "ref")


def test_deleting_the_cache_changes_nothing(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    out = build(site)
    before = tree(out)
    shutil.rmtree(site / ".site-gen-cache")
    run = site_gen("--site", site, "build", "--as-of", AS_OF)
    assert run.code == 0, run
    assert tree(out) == before
    assert written_count(run.stderr)[0] == 0


def test_templates_compiled_by_an_earlier_build_follow_their_source(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    cache = site / ".site-gen-cache"
    (cache / "templates-0.0.1-old").mkdir(parents=True)  # another site-gen's compiled templates
    override = (
        "{% extends 'base.html' %}{% block content %}<h1 class=\"NAME\">{{ story.title }}</h1>{% endblock %}"
    )
    write_files(site, {"templates/story.html": override.replace("NAME", "one")})
    out = build(site)
    assert 'class="one"' in (out / "stories/may-day/index.html").read_text()
    compiled = [p.name for p in cache.glob("templates-*")]
    assert len(compiled) == 1 and compiled[0] != "templates-0.0.1-old"
    assert any((cache / compiled[0]).iterdir())  # read back by the next build's process
    # The same length, so only the source's digest tells the compiled code is stale.
    write_files(site, {"templates/story.html": override.replace("NAME", "two")})
    run = site_gen("--site", site, "build", "--as-of", AS_OF)
    assert run.code == 0, run
    assert 'class="two"' in (out / "stories/may-day/index.html").read_text()
    assert tree(out) == fresh(site, tmp_path / "ref")


def test_briefing_fragments_share_their_input_keys_with_the_pages(tmp_path: Path) -> None:
    """Each record's briefing.json text depends on keys its pages use too: one object
    per key, in the builder and in the cache read back by the next process."""
    site = fixture_site(tmp_path / "site")

    def shared(builder: Builder) -> tuple[int, int]:
        page_keys = {id(key) for inputs in builder.deps.deps.values() for key in inputs}
        fragment_keys = [key for inputs, _ in builder.fragments.values() for key in inputs]
        return sum(id(key) in page_keys for key in fragment_keys), len(fragment_keys)

    first = Builder(site, tmp_path / "out")
    assert first.build(AS_OF).ok
    same, total = shared(first)
    assert total > 0 and same == total
    later = Builder(site, tmp_path / "out")
    later._load_bulk()
    later._load_inputs()
    assert later.fragments.keys() == first.fragments.keys()
    assert shared(later) == (same, total)


def test_briefing_json_reads_unchanged_records_from_the_file_it_wrote_and_only_when_it_is_ours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit makes that record's text in data/briefing.json again and copies the
    others' from the file the last build wrote; a file changed by someone else, or
    gone, is never read: every text is made again."""
    from site_gen import produce

    site = fixture_site(tmp_path / "site")
    out = tmp_path / "out"
    assert Builder(site, out).build(AS_OF).ok
    made: list[str] = []
    real = produce.record_json

    def noted(vb: object, record: object) -> object:
        made.append(record.id)  # type: ignore[attr-defined]
        return real(vb, record)  # type: ignore[arg-type]

    monkeypatch.setattr(produce, "record_json", noted)
    story = site / "content/stories/may-day.yaml"
    briefing = out / "data/briefing.json"
    for step, change in enumerate(("keep", "alter", "delete")):
        story.write_text(story.read_text().replace("summary: ", f"summary: Edit {step}. ", 1))
        if change == "alter":  # the same length, a later time: not the file the build wrote
            briefing.write_bytes(briefing.read_bytes().replace(b'"id": "', b'"id": "x', 1)[:-1])
        elif change == "delete":
            briefing.unlink()
        made.clear()
        assert Builder(site, out).build(AS_OF).ok
        records = json.loads(briefing.read_text())
        total = sum(len(value) for value in records.values() if isinstance(value, list))
        assert made == ["may-day"] if change == "keep" else len(made) == total > 1, (change, made)
        assert tree(out) == fresh(site, tmp_path / f"ref{step}"), change


def test_page_inputs_are_read_back_only_by_a_build_that_needs_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record edit reads the last build's page inputs; a template edit remakes every
    page and leaves them unread; a missing file of them only means every page is made."""
    from site_gen import cachestate as cachestate_module

    site = fixture_site(tmp_path / "site")
    out = tmp_path / "out"
    assert Builder(site, out).build(AS_OF).ok
    read: list[str] = []
    real = cachestate_module.unpickle

    def noted(handle: object) -> object:
        read.append(Path(handle.name).name)  # type: ignore[attr-defined]
        return real(handle)

    monkeypatch.setattr(cachestate_module, "unpickle", noted)
    story = site / "content/stories/may-day.yaml"
    story.write_text(story.read_text().replace("title: ", "title: Edited ", 1))
    report = Builder(site, out).build(AS_OF)
    assert report.ok and any(name.endswith(".inputs.pickle") for name in read)
    assert 0 < report.rendered < report.pages / 2  # only the pages that show the story
    read.clear()
    write_files(site, {"templates/story.html": '{% extends "base.html" %}{% block content %}x{% endblock %}'})
    assert Builder(site, out).build(AS_OF).ok
    assert read and not any(name.endswith(".inputs.pickle") for name in read)
    assert tree(out) == fresh(site, tmp_path / "ref")
    for inputs in (site / ".site-gen-cache").glob("*.inputs.pickle"):
        inputs.unlink()
    story.write_text(story.read_text().replace("title: Edited ", "title: ", 1))
    assert Builder(site, out).build(AS_OF).ok
    assert tree(out) == fresh(site, tmp_path / "ref")
    for inputs in (site / ".site-gen-cache").glob("*.inputs.pickle"):  # cut short: the same
        inputs.write_bytes(inputs.read_bytes()[: inputs.stat().st_size * 2 // 3])
    story.write_text(story.read_text().replace("title: ", "title: Edited ", 1))
    assert Builder(site, out).build(AS_OF).ok
    assert tree(out) == fresh(site, tmp_path / "ref")


def _inputs_files(site: Path) -> tuple[Path, Path]:
    cache = site / ".site-gen-cache"
    (whole,) = cache.glob("*.inputs.pickle")
    (changes,) = cache.glob("*.inputs-changes.pickle")
    return whole, changes


def _retitle(story: Path, old: str, new: str) -> None:
    """Edit the story's title: its `old` start becomes `new` ("" for none)."""
    story.write_text(story.read_text().replace(f"title: {old}", f"title: {new}", 1))


def _a_later_edit_reads_them_back(site: Path, out: Path, reference: Path) -> None:
    """A new builder's edit finds the page inputs saved: it remakes only the pages the
    edit reaches, and the output is a fresh build's."""
    _retitle(site / "content/stories/may-day.yaml", "", "Later ")
    report = _one_shot(site, out)
    assert report.ok and 0 < report.rendered < report.pages
    assert tree(out) == fresh(site, reference)


def _one_shot(site: Path, out: Path) -> BuildReport:
    """A build as the build command makes it, in a builder of its own."""
    builder = Builder(site, out)
    builder.keep_views = False
    return builder.build(AS_OF)


def test_a_few_edits_save_only_their_changes_to_the_page_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an edit, the save writes what changed since the inputs file was written
    whole (0.2 s of a one-story edit at 10,000 stories, 5 s at 100,000), and the next
    builds read the file with the changes applied: the same output as a fresh build,
    after edits, an added story and a deleted one."""
    from site_gen import inputsfile

    # In a site this small an edit remakes more than an eighth of the pages.
    monkeypatch.setattr(inputsfile, "CHANGES_SHARE", 1)
    site = fixture_site(tmp_path / "site")
    out = tmp_path / "out"
    assert _one_shot(site, out).ok
    whole, _ = _inputs_files(site)
    written = whole.stat()
    story = site / "content/stories/may-day.yaml"
    added = site / "content/stories/added.yaml"
    steps = [
        lambda: _retitle(story, "", "Edited "),
        lambda: added.write_text(
            "title: Added\ndate: 2025-06-01\ntopics: [alpha]\nsummary: New.\n"
            "source:\n  name: Wire\n  url: https://example.org/a\n"
        ),
        lambda: _retitle(story, "Edited ", ""),
        lambda: added.unlink(),
    ]
    for step in steps:
        step()
        report = _one_shot(site, out)
        assert report.ok and 0 < report.rendered < report.pages
        assert tree(out) == fresh(site, tmp_path / "ref")
        now, changes = _inputs_files(site)
        assert (now.stat().st_ino, now.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
        assert changes.stat().st_size < whole.stat().st_size
    assert not _one_shot(site, out).written


def test_too_many_changes_write_the_page_inputs_whole_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from site_gen import inputsfile

    site = fixture_site(tmp_path / "site")
    out = tmp_path / "out"
    assert _one_shot(site, out).ok
    first = _inputs_files(site)[0].stat().st_mtime_ns
    monkeypatch.setattr(inputsfile, "CHANGES_SHARE", 10_000)  # any change is too many
    story = site / "content/stories/may-day.yaml"
    _retitle(story, "", "Edited ")
    assert _one_shot(site, out).ok
    whole, changes = _inputs_files(site)
    assert whole.stat().st_mtime_ns != first
    # The changes name the new file, and hold none.
    builder = Builder(site, out)
    builder._load_bulk()
    builder._load_inputs()
    assert builder.deps.journal == Journal() and builder._inputs_written is not None
    monkeypatch.setattr(inputsfile, "CHANGES_SHARE", 8)
    _retitle(story, "Edited ", "")
    assert _one_shot(site, out).ok
    assert tree(out) == fresh(site, tmp_path / "ref")


@pytest.mark.parametrize("damage", ["cut", "missing", "another file's"])
def test_changes_that_do_not_fit_the_inputs_file_remake_every_page(
    tmp_path: Path, damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from site_gen import inputsfile

    # Changes saved (see above); for another file's, each save writes the file whole.
    monkeypatch.setattr(inputsfile, "CHANGES_SHARE", 10_000 if damage == "another file's" else 1)
    site = fixture_site(tmp_path / "site")
    out = tmp_path / "out"
    cold = _one_shot(site, out)
    assert cold.ok
    story = site / "content/stories/may-day.yaml"
    _retitle(story, "", "Edited ")
    assert _one_shot(site, out).ok
    whole, changes = _inputs_files(site)
    if damage == "cut":
        changes.write_bytes(changes.read_bytes()[: changes.stat().st_size // 2])
    elif damage == "missing":
        changes.unlink()
    else:  # the changes of an earlier inputs file: a save interrupted between the two
        earlier = whole.read_bytes()
        _retitle(story, "Edited ", "Again ")
        assert _one_shot(site, out).ok
        whole.write_bytes(earlier)
    _retitle(story, "", "Last ")
    report = _one_shot(site, out)
    assert report.ok and report.rendered == cold.rendered  # nothing to know the pages' inputs by
    assert tree(out) == fresh(site, tmp_path / "ref")


def test_a_builder_that_builds_again_saves_changes_after_its_first_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """serve's builder writes the inputs whole once, then only the changes; a build
    command after it reads them."""
    from site_gen import inputsfile

    monkeypatch.setattr(inputsfile, "CHANGES_SHARE", 1)  # see above
    site = fixture_site(tmp_path / "site")
    out = tmp_path / "out"
    builder = Builder(site, out)
    assert builder.build(AS_OF).ok
    whole, _ = _inputs_files(site)
    first = whole.stat().st_mtime_ns
    story = site / "content/stories/may-day.yaml"
    for title in ("One ", "Two "):
        _retitle(story, "", title)
        assert builder.build(AS_OF).ok
        assert _inputs_files(site)[0].stat().st_mtime_ns == first
    _a_later_edit_reads_them_back(site, out, tmp_path / "ref")


def test_a_kept_builder_writes_the_inputs_whole_after_another_process_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changes are written only against the inputs file they apply to: when another
    build (a `build` beside `build --watch`) wrote it whole in between, the kept
    builder writes it whole too, so the next build does not remake every page."""
    from site_gen import inputsfile

    monkeypatch.setattr(inputsfile, "CHANGES_SHARE", 1)  # see above
    site = fixture_site(tmp_path / "site")
    out = tmp_path / "out"
    kept = Builder(site, out)
    assert kept.build(AS_OF).ok
    story = site / "content/stories/may-day.yaml"
    _retitle(story, "", "One ")
    monkeypatch.setattr(inputsfile, "CHANGES_SHARE", 10_000)  # the other process writes it whole
    assert _one_shot(site, out).ok
    monkeypatch.setattr(inputsfile, "CHANGES_SHARE", 1)
    _retitle(story, "", "Two ")
    assert kept.build(AS_OF).ok
    _a_later_edit_reads_them_back(site, out, tmp_path / "ref")


def test_rendered_markdown_is_saved_with_its_records_and_read_back_as_their_strings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read back, a record's text and the Markdown cache's key are one string object
    (kept twice, they took 95 MB at 100,000 stories). After a change of setting the
    texts rendered anew are saved, and a later edit renders only its own text."""
    from site_gen import markup

    site = fixture_site(tmp_path / "site")
    # Files saved long ago, as an editor's are: a file saved within the last moment is
    # parsed again by every build (its stat cannot be trusted), which would hide the case.
    hour_ago = time.time() - 3600
    for path in (site / "content").rglob("*.yaml"):
        os.utime(path, (hour_ago, hour_ago))
    out = tmp_path / "out"
    assert Builder(site, out).build(AS_OF).ok
    story = site / "content/stories/may-day.yaml"
    story.write_text(story.read_text().replace("summary: ", "summary: Edited. ", 1))
    again = Builder(site, out)
    assert again.build(AS_OF).ok
    cache = again.markdown[False]
    texts = markdown_texts(again._site)  # type: ignore[arg-type]
    assert texts and all(text in cache for text in texts)
    keys = {id(text) for text in cache}
    assert all(id(text) in keys for text in texts)

    (site / "site.yaml").write_text((site / "site.yaml").read_text() + "allow_html: true\n")
    assert Builder(site, out).build(AS_OF).ok  # every text rendered again, with raw HTML let in
    rendered: list[str] = []
    real = markup.render_markdown

    def counted(md: object, text: str) -> str:
        rendered.append(text)
        return real(md, text)  # type: ignore[arg-type]

    monkeypatch.setattr(markup, "render_markdown", counted)
    story.write_text(story.read_text().replace("summary: Edited. ", "summary: Edited again. ", 1))
    assert Builder(site, out).build(AS_OF).ok
    assert rendered == ["Edited again. The first of May."]
    assert tree(out) == fresh(site, tmp_path / "ref")


def test_the_inputs_file_reads_back_tuples_a_build_makes_sets_of_and_users_when_needed() -> None:
    import io

    from site_gen.incremental import DepState, group_of
    from site_gen.inputsfile import read_inputs, write_inputs

    x, r, y = ("rec", "stories", "x"), ("rec", "topics", "r"), ("url", "stories", "y")
    deps = DepState.restored(
        {"a/": frozenset({x}), "b/": frozenset({x, r})},  # type: ignore[dict-item]
        {x: "fx", r: "fr"},
        {group_of(x): {x}, group_of(r): {r}},  # type: ignore[dict-item]
        {("stories", "x"): "fx"},
    )
    fragments = {("stories", "x"): ((x, y), 12 << 28 | 34)}  # y: an input without a value
    handle = io.BytesIO()
    write_inputs(handle, deps, fragments)
    handle.seek(0)
    back, back_fragments = read_inputs(handle)
    assert back_fragments == fragments
    assert back.values == deps.values and back.fps == deps.fps
    assert {page: set(keys) for page, keys in back.deps.items()} == deps.deps
    assert all(isinstance(keys, tuple) for keys in [*back.deps.values(), *back.groups.values()])
    assert back.deps["a/"][0] is back.deps["b/"][list(back.deps["b/"]).index(x)]  # one object per input
    # Without users worked out, a builder that builds once finds the dirty pages by a pass.
    assert back.dirty({r}, index=False) == {"b/"} and back._users is None
    assert back.dirty({x}) == {"a/", "b/"} and back._users is not None
    both = frozenset({x, r})
    # A builder that builds once keeps the tuple read back for a page made again from
    # the same inputs, unmade into a set.
    kept = back.deps["b/"]
    assert back.same_inputs("b/", both, thaw=False) is kept
    assert back.same_inputs("b/", {x, r}, thaw=False) is kept
    assert back.same_inputs("b/", {x, y}, thaw=False) is None
    assert back.same_inputs("b/", {x}, thaw=False) is None
    assert back.same_inputs("c/", both, thaw=False) is None and back.deps["b/"] is kept
    # One that builds again makes it a set once, for the comparisons of its next builds.
    thawed = back.same_inputs("b/", {r, x})
    assert thawed == both and isinstance(thawed, frozenset) and back.deps["b/"] is thawed
    assert back.same_inputs("b/", {x, y}) is None
    assert back.inputs_of("b/") is thawed
    assert back.inputs_of("c/") is None
    back._drop("b/", back.deps.pop("b/"))  # as update() does for a page no longer made
    assert back.users == {x: ["a/"]} and back.groups == {group_of(x): (x,)}


def test_equal_inputs_of_other_objects_share_one_table_entry() -> None:
    import io

    from site_gen.incremental import DepState, group_of
    from site_gen.inputsfile import read_inputs, write_inputs

    x, r = ("rec", "stories", "x"), ("rec", "topics", "r")
    # Equal keys that are other objects (as a page made in a worker sends them), and
    # an input without a value: numbered by value, into the same table.
    x_again, r_again = tuple(["rec", "stories", "x"]), tuple(["rec", "topics", "r"])
    y = ("url", "stories", "y")
    assert x_again == x and x_again is not x
    deps = DepState.restored(
        {"a/": (x, r), "b/": (x_again, y), "c/": (r_again,)},  # type: ignore[dict-item]
        {x: "fx", r: "fr"},
        {group_of(x): {x}, group_of(r): {r}},  # type: ignore[dict-item]
        {},
    )
    handle = io.BytesIO()
    write_inputs(handle, deps, {("stories", "x"): ((x_again, y), 7)})
    handle.seek(0)
    back, fragments = read_inputs(handle)
    assert back.deps == {"a/": (x, r), "b/": (x, y), "c/": (r,)}
    assert back.deps["a/"][0] is back.deps["b/"][0] is fragments[("stories", "x")][0][0]
    assert back.deps["b/"][1] is fragments[("stories", "x")][0][1]  # one table entry for y


def test_the_inputs_file_writes_its_long_lists_in_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import pickle

    from site_gen import inputsfile
    from site_gen.incremental import DepState, group_of
    from site_gen.inputsfile import read_inputs, write_inputs

    monkeypatch.setattr(inputsfile, "CHUNK", 2)
    monkeypatch.setattr(inputsfile, "PAGES_PART", 2)
    keys = [("rec", "stories", f"s{n}") for n in range(5)]
    pages = {"a/": tuple(keys), "b/": (keys[4], keys[0]), "c/": (keys[2],)}
    deps = DepState.restored(
        pages,  # type: ignore[arg-type]
        {key: f"f{key[2]}" for key in keys},
        {group_of(keys[0]): set(keys)},  # type: ignore[dict-item]
        {},
    )
    handle = io.BytesIO()
    write_inputs(handle, deps, {})
    handle.seek(0)
    # The values' count, then parts of two; then the pages' count and their parts of two.
    assert pickle.load(handle) == 5 and pickle.load(handle) == ["fs0", "fs1"]
    assert pickle.load(handle) == ["fs2", "fs3"] and pickle.load(handle) == ["fs4"]
    assert pickle.load(handle) == 3 and pickle.load(handle)[0] == ["a/", "b/"]
    assert pickle.load(handle)[0] == ["c/"]
    handle.seek(0)
    back, _ = read_inputs(handle)
    assert back.deps == pages and back.values == deps.values
    # A file cut short fails to read (and the build then makes every page again).
    cut = io.BytesIO(handle.getvalue()[: len(handle.getvalue()) // 3])
    with pytest.raises(Exception):  # noqa: B017 (whichever the cut makes: EOF, a bad pickle)
        read_inputs(cut)


def test_a_page_that_takes_other_inputs_after_a_read_keeps_the_bookkeeping_whole() -> None:
    import io

    from site_gen.incremental import DepState, group_of
    from site_gen.inputsfile import read_inputs, write_inputs

    x, r, z = ("rec", "stories", "x"), ("rec", "topics", "r"), ("rec", "stories", "z")
    deps = DepState.restored(
        {"a/": frozenset({x}), "b/": frozenset({x, r}), "c/": frozenset({r})},  # type: ignore[dict-item]
        {x: "fx", r: "fr"},
        {group_of(x): {x}, group_of(r): {r}},  # type: ignore[dict-item]
        {},
    )
    handle = io.BytesIO()
    write_inputs(handle, deps, {})
    handle.seek(0)
    back, _ = read_inputs(handle)

    class Inputs:  # what update() asks of the build's inputs
        moved: set[tuple[str, str]] = set()
        fps: dict[tuple[str, str], str] = {}

        def value(self, key: tuple[str, ...]) -> str:
            return "f" + key[2]

    # b/ now shows z, not r; c/ is no longer made.
    back.update({"b/": frozenset({x, z})}, Inputs(), keep={"a/", "b/"}, everything=False)  # type: ignore[arg-type]
    assert back.users == {x: ["a/", "b/"], z: ["b/"]}
    assert back.values == {x: "fx", z: "fz"}
    assert {group: set(keys) for group, keys in back.groups.items()} == {group_of(x): {x, z}}


# -- random sequences ---------------------------------------------------------------

THEME_STORY_OVERRIDES = [
    "{% extends 'base.html' %}{% block content %}<h1>{{ story.title }}</h1>"
    '<div class="lede">{{ story.summary }}</div>{% endblock %}',
    "{% extends 'base.html' %}{% block content %}<h1 class=\"v2\">{{ story.title }}</h1>"
    "<p>{{ story.date_shown }}</p>{% endblock %}",
]
MACRO_OVERRIDE_MARK = "<!-- site override -->"
DATES = ["2023", "2024-06", "2025-11-05", "2025-11-29", "2025-11~", "2026?", "2025-11-28T09:00:00+02:00"]
TOPICS = ["alpha", "beta", "gamma", "delta"]
TITLES = ["Talks resume", "A new ruling", "Ministers meet", "Zebra crossing", "Alpha again"]


class Mutator:
    """Applies random, valid changes to the fixture site (records and templates)."""

    def __init__(self, site: Path, rng: random.Random) -> None:
        self.site = site
        self.rng = rng
        self.serial = 0
        self.as_of = AS_OF
        self.letters = False  # also add, rename and delete people, and move topics between letters

    def files(self, kind: str) -> list[Path]:
        return sorted((self.site / "content" / kind).glob("*.yaml"))

    def own_stories(self) -> list[Path]:
        # Stories nothing refers to, safe to rename or delete.
        referenced = {"before-vote"}
        return [p for p in self.files("stories") if p.stem not in referenced]

    def story_text(self) -> str:
        r = self.rng
        topics = r.sample(TOPICS, r.randint(1, 2))
        lines = [
            f"title: {r.choice(TITLES)} {r.randint(1, 99)}",
            f"date: '{r.choice(DATES)}'",
            f"topics: [{', '.join(topics)}]",
            f"summary: Summary {r.randint(1, 999)} with **bold**.",
        ]
        if r.random() < 0.3:
            lines.append("date_text: around then")
        if r.random() < 0.3:
            lines.append("corrections:\n  - date: 2025-11-29\n    text: A fix.")
        if r.random() < 0.2:
            lines.append("people: [ann]")
        return "\n".join(lines) + "\n"

    def step(self) -> str:
        ops = [
            self.edit_story,
            self.add_story,
            self.rename_story,
            self.delete_story,
            self.edit_question,
            self.edit_topic,
            self.add_quote,
            self.delete_quote,
            self.template_story,
            self.template_macros,
            self.static_file,
            self.change_as_of,
        ]
        if self.letters:
            ops.append(self.edit_person)
        op = self.rng.choice(ops)
        return op()

    def edit_story(self) -> str:
        path = self.rng.choice(self.own_stories())
        path.write_text(self.story_text())
        return f"edit {path.name}"

    def add_story(self) -> str:
        self.serial += 1
        path = self.site / f"content/stories/gen-{self.serial}.yaml"
        path.write_text(self.story_text())
        return f"add {path.name}"

    def rename_story(self) -> str:
        path = self.rng.choice(self.own_stories())
        self.serial += 1
        target = path.with_name(f"renamed-{self.serial}.yaml")
        path.rename(target)
        return f"rename {path.name} -> {target.name}"

    def delete_story(self) -> str:
        candidates = self.own_stories()
        if len(candidates) < 3:
            return self.add_story()
        path = self.rng.choice(candidates)
        path.unlink()
        return f"delete {path.name}"

    def edit_question(self) -> str:
        r = self.rng
        path = self.site / "content/questions/open-later.yaml"
        status = r.choice(["open", "answered", "dropped"])
        text = (
            "question: Will the summit happen?\ntopics: [alpha, beta]\nraised: 2025-11-21\n"
            f"deadline: '{r.choice(['2025-11', '2025-11-30', '2026-03', '2025-10'])}'\nstatus: {status}\n"
        )
        if status == "answered":
            text += f"answered: 2025-11-2{r.randint(2, 9)}\nanswer: It did.\n"
        path.write_text(text)
        return f"question open-later {status}"

    def edit_topic(self) -> str:
        r = self.rng
        status = r.choice(["active", "dormant", "closed"])
        title = f"{r.choice(['Delta', 'Zulu', 'Échelon']) if self.letters else 'Delta'} {r.randint(1, 9)}"
        (self.site / "content/topics/delta.yaml").write_text(
            f"title: {title}\nstatus: {status}\nsummary: Delta summary {r.randint(1, 99)}.\n"
        )
        return f"topic delta {status}"

    def edit_person(self) -> str:
        """Add or rename a person nothing refers to (a new letter, or another within
        one), or delete one."""
        r = self.rng
        people = [p for p in self.files("people") if p.stem.startswith("gen-")]
        if people and r.random() < 0.3:
            path = r.choice(people)
            path.unlink()
            return f"delete person {path.name}"
        if people and r.random() < 0.5:
            path = r.choice(people)
        else:
            self.serial += 1
            path = self.site / f"content/people/gen-{self.serial}.yaml"
        name = f"{r.choice(['Ann', 'Abe', 'Bo', 'Émile', 'Zoe', '李'])} {r.randint(1, 99)}"
        path.write_text(f"name: {name}\nrole: Role {r.randint(1, 9)}\n")
        return f"person {path.name} {name}"

    def add_quote(self) -> str:
        self.serial += 1
        year = self.rng.choice(["2022", "2024", "2025"])
        (self.site / f"content/quotes/gen-{self.serial}.yaml").write_text(
            f"text: Quote number {self.serial}.\nspeaker: ann\ndate: {year}-0{self.rng.randint(1, 9)}\n"
            f"topics: [{self.rng.choice(TOPICS)}]\nsource:\n  name: Wire\n"
        )
        return f"add quote gen-{self.serial} ({year})"

    def delete_quote(self) -> str:
        generated = [p for p in self.files("quotes") if p.stem.startswith("gen-")]
        if not generated:
            return self.add_quote()
        path = self.rng.choice(generated)
        path.unlink()
        return f"delete quote {path.name}"

    def template_story(self) -> str:
        path = self.site / "templates/story.html"
        choice = self.rng.randrange(len(THEME_STORY_OVERRIDES) + 1)
        if choice == len(THEME_STORY_OVERRIDES):
            if path.exists():
                path.unlink()
            return "template story.html back to the theme"
        path.parent.mkdir(exist_ok=True)
        path.write_text(THEME_STORY_OVERRIDES[choice])
        return f"template story.html variant {choice}"

    def template_macros(self) -> str:
        from site_gen.templatefiles import theme_dir

        path = self.site / "templates/macros.html"
        if path.exists():
            path.unlink()
            return "template macros.html back to the theme"
        path.parent.mkdir(exist_ok=True)
        theme = (theme_dir() / "macros.html").read_text()
        path.write_text(theme.replace('<span class="entry-kind">', '<span class="entry-kind kind-x">', 1))
        return "template macros.html override"

    def static_file(self) -> str:
        path = self.site / "static/extra.css"
        if path.exists() and self.rng.random() < 0.5:
            path.unlink()
            return "static extra.css removed"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"/* {self.rng.randint(1, 1000)} */\n")
        return "static extra.css written"

    def change_as_of(self) -> str:
        self.as_of = self.rng.choice(["2025-11-30", "2025-12-01", "2025-11-21", "2026-04-01"])
        return f"as-of {self.as_of}"


def check_step(report: BuildReport, out: Path, reference: dict[str, bytes], history: list[str]) -> None:
    assert report.ok, (history, [str(p) for p in report.problems])
    got = tree(out)
    missing = set(reference) - set(got)
    extra = set(got) - set(reference)
    differ = sorted(rel for rel in reference if rel in got and got[rel] != reference[rel])
    assert not (missing or extra or differ), {
        "history": history,
        "missing": sorted(missing),
        "extra": sorted(extra),
        "differ": differ,
    }


def check_bookkeeping(builder: Builder, history: list[str]) -> None:
    """Each input in use has a value and sits in its group, and nothing else does."""
    deps = builder.deps
    grouped = {key for keys in deps.groups.values() for key in keys}
    assert set(deps.users) == set(deps.values) == grouped, history
    users = {(key, path) for key, paths in deps.users.items() for path in paths}
    assert users == {(key, path) for path, keys in deps.deps.items() for key in keys}, history
    assert len(users) == sum(map(len, deps.users.values())), history  # no page listed twice
    kept = deps._members  # the index of the lists each record is in, brought up to date as an edit would
    if kept is not None:
        kept.holding(set(), deps.groups, deps.values)
        anew = Membership()
        anew.holding(set(), deps.groups, deps.values)
        assert {r: sorted(keys) for r, keys in kept.holders.items()} == {
            r: sorted(keys) for r, keys in anew.holders.items()
        }, history
        assert kept.indexed.keys() == anew.indexed.keys(), history


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6, 7, 8])
def test_random_edits_match_a_fresh_full_build(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from site_gen import inputsfile

    rng = random.Random(seed)
    extra: dict[str, str | None] = {}
    if seed in (1, 2, 7):  # every save writes the changes to the page inputs, read back by odd seeds
        monkeypatch.setattr(inputsfile, "CHANGES_SHARE", 1)
    if seed > 6:  # every topic and the settled questions split by year, and join again,
        monkeypatch.setattr(routes, "SPLIT_ABOVE", 2 if seed == 7 else 4)
        monkeypatch.setattr(routes, "MONTHS_ABOVE", 3 if seed == 7 else 6)  # the timeline by month
        monkeypatch.setattr(routes, "LETTERS_ABOVE", 2 if seed == 7 else 3)  # people and topics by letter
        for n, deadline in enumerate(("2022-05", "2023-02-03")):  # open questions of earlier years
            extra[f"content/questions/old-open-{n}.yaml"] = (
                f"question: Old open {n}?\ntopics: [beta]\nraised: 2021-01-02\ndeadline: {deadline}\n"
            )
        for n, name in enumerate(("Bo Brown", "Zoe Zed", "Abe Able")):
            extra[f"content/people/gen-p{n}.yaml"] = f"name: {name}\n"
        for n, year in enumerate((2022, 2023, 2023)):
            extra[f"content/questions/settled-{n}.yaml"] = (
                f"question: Old question {n}?\ntopics: [beta]\nraised: {year}-01-02\n"
                f"status: answered\nanswered: {year}-03-04\nanswer: Yes.\n"
            )
    site = fixture_site(tmp_path / "site", extra)
    out = tmp_path / "incremental"
    mutator = Mutator(site, rng)
    mutator.letters = seed > 6
    # Even seeds keep one builder alive (as serve does), and seeds 5, 6 and 8 also tell it
    # what changed as serve's watcher does; other odd seeds start a new builder for each build
    # from the pickled cache (as repeated `site-gen build` runs do).
    keep_alive = seed % 2 == 0 or seed in (5, 6)
    hinted = seed in (5, 6, 8)
    builder = Builder(site, out)
    builder.trust_output = hinted  # as serve's builder: its folder is its own,
    builder.defer = DATA_VIEWS if hinted else frozenset()  # and the data files wait for a pause
    history: list[str] = []
    seen = snapshot(site)
    split_pages: set[str] = set()
    for step in range(14):
        history.append(mutator.step())
        if not keep_alive:
            builder = Builder(site, out)
            builder.keep_views = False  # as the build command's: it finds dirty pages by a pass
        now = snapshot(site)
        hint = set(differences(seen, now)) if hinted else None
        seen = now
        report = builder.build(mutator.as_of, hint)
        reference = fresh(site, tmp_path / "fresh", mutator.as_of)
        if builder.pending:  # the pages are right at once; the files put off, after finish()
            put_off = {rel: reference[rel] for rel in builder.pending if rel in reference}
            check_step(report, out, {**reference, **{rel: tree(out)[rel] for rel in put_off}}, history)
            if step % 3 == 0:  # sometimes an edit comes before the pause
                continue
            finished = builder.finish()
            assert finished is not None and not builder.pending, history
            report = finished
        check_step(report, out, reference, history)
        check_bookkeeping(builder, history)
        split_pages.update(
            rel
            for rel in reference
            if re.fullmatch(r"(topics/[^/]+|questions/(archive|open)|timeline/\d+)/\d+/index.html", rel)
            or re.fullmatch(r"(topics|people)/by-name/[a-z]+/index.html", rel)
        )
        if step % 5 == 4:  # an unchanged rebuild writes nothing
            again = builder.build(mutator.as_of)
            assert again.ok and not again.written and not again.removed, history
    if seed > 6:
        assert any(rel.startswith("topics/") for rel in split_pages), split_pages
        assert any(rel.startswith("questions/") for rel in split_pages), split_pages
        assert any(rel.startswith("timeline/") for rel in split_pages), split_pages
        assert any(rel.startswith("people/by-name/") for rel in split_pages), split_pages
        assert any(rel.startswith("questions/open/") for rel in split_pages), split_pages


def test_drafts_and_base_url_builds_keep_separate_caches(tmp_path: Path) -> None:
    drafts = {
        "content/stories/secret.yaml": "title: Secret\ndate: 2025-11-29\ntopics: [alpha]\nsummary: s\n"
        "draft: true\n"
    }
    site = fixture_site(tmp_path / "site", drafts)
    plain = tmp_path / "plain"
    preview = tmp_path / "preview"
    mirror = tmp_path / "mirror"
    for _ in range(2):
        assert Builder(site, plain).build(AS_OF).ok
        assert Builder(site, preview, drafts=True).build(AS_OF).ok
        assert Builder(site, mirror, base_url="https://m.example.net/x/").build(AS_OF).ok
        write_files(
            site,
            {
                "content/stories/may-day.yaml": "title: May\ndate: 2023-05-01\ntopics: [alpha]\n"
                "summary: Edited.\n"
            },
        )
    assert tree(plain) == fresh(site, tmp_path / "r1")
    assert tree(preview) == fresh(site, tmp_path / "r2", drafts=True)
    assert tree(mirror) == fresh(site, tmp_path / "r3", base_url="https://m.example.net/x/")
    assert not (plain / "stories/secret").exists() and (preview / "stories/secret/index.html").is_file()


def test_a_build_with_nothing_to_do_never_imports_the_renderers(tmp_path: Path) -> None:
    """The no-change check fingerprints the templates without Jinja, and parses no
    file in worker processes: a `build` that finds nothing changed imports neither
    Jinja, Python-Markdown nor the process pools (about 50 ms of its 0.4 s)."""
    site = fixture_site(tmp_path / "site")
    out = tmp_path / "out"
    assert site_gen("build", "--site", site, "--out", out, "--as-of", AS_OF).code == 0
    argv = ["site-gen", "build", "--site", str(site), "--out", str(out), "--as-of", AS_OF]
    script = (
        f"import sys; from site_gen.cli import main\nsys.argv = {argv!r}\n"
        "try:\n    main()\nexcept SystemExit as stop:\n    assert not stop.code, stop.code\n"
        "heavy = ('jinja2', 'markdown', 'nh3', 'concurrent.futures', 'multiprocessing')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    environ = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    command = [sys.executable, "-c", script]
    run = subprocess.run(command, capture_output=True, text=True, env=environ, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "(0 files written, 0 removed)" in run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"
