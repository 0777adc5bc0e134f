"""`site-gen build --watch`: the real command in a subprocess, on real files.

It builds into output/ (or --out), then rebuilds on every change until stopped,
sharing serve's rebuild loop; what it leaves must always equal a fresh build.
"""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path
from typing import Iterable

import pytest
from buildkit import Run, site_gen, tree
from test_serve import CHANGE_LINE, OLD_TITLE, STORY, STORY_PAGE, Running, edit

from site_gen.builder import Builder
from site_gen.cache import CACHE_DIR, exclusive, output_lock
from site_gen.rebuild import Rebuilder, watch_builder
from site_gen.search import INDEX_DIR, pagefind_program

REPO = Path(__file__).resolve().parent.parent
AS_OF = "2025-11-20"
NEW_TITLE = "China widens its export ban, says the ministry"


def build_watch(site: Path, *args: str) -> Running:
    """`site-gen build --watch ...` running on `site`."""
    return Running(site, "build", "--watch", *args)


def test_watch_rebuilds_each_change_and_keeps_the_last_good_output_through_errors(
    example_site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    watching = build_watch(example_site, "--out", str(out), "--as-of", AS_OF)
    try:
        watching.wait_for(r"^built \d+ pages in ")
        watching.wait_for(
            rf"^watching content/, templates/, static/ and site.yaml; building into {re.escape(str(out))}"
        )
        story_page = out / STORY_PAGE / "index.html"
        assert OLD_TITLE in story_page.read_text(encoding="utf-8")

        mark = watching.mark()
        edit(example_site / STORY, OLD_TITLE, NEW_TITLE)
        change = watching.wait_for(CHANGE_LINE.pattern, since=mark)
        assert change.group(1) == STORY and change.group(2) == "changed" and int(change.group(3)) >= 1
        assert NEW_TITLE in story_page.read_text(encoding="utf-8")

        before = tree(out)
        mark = watching.mark()
        (example_site / "content/stories/broken.yaml").write_text("title: [unclosed\n", encoding="utf-8")
        watching.wait_for(
            r"^content/stories/broken.yaml added: build failed with 1 error; the last good output was kept$",
            since=mark,
        )
        watching.wait_for(r"^content/stories/broken.yaml:\d+:\d+: error: not valid YAML", since=mark)
        assert tree(out) == before  # a failed build leaves the output as it was

        mark = watching.mark()
        (example_site / "content/stories/broken.yaml").unlink()
        watching.wait_for(
            r"^content/stories/broken.yaml deleted: .* rebuilt in \d+ ms \(errors fixed\)$", since=mark
        )
    finally:
        code = watching.stop()
    assert code == 0, watching.lines
    assert watching.lines[-1] == "stopped"

    # What it left is what a fresh build of the same files makes, byte for byte.
    fresh = tmp_path / "fresh"
    assert site_gen("--site", example_site, "build", "--as-of", AS_OF, "--out", fresh).code == 0
    assert tree(out) == tree(fresh)
    again = site_gen("--site", example_site, "build", "--as-of", AS_OF, "--out", out)
    assert again.code == 0 and "(0 files written, 0 removed)" in again.stderr, again


def test_watch_keeps_going_after_a_failed_first_build(example_site: Path, tmp_path: Path) -> None:
    broken = example_site / "content/stories/broken.yaml"
    broken.write_text("title: [unclosed\n", encoding="utf-8")
    out = tmp_path / "out"
    watching = build_watch(example_site, "--out", str(out), "--as-of", AS_OF)
    try:
        watching.wait_for(r"^the build failed with 1 error:$")
        watching.wait_for(r"^content/stories/broken.yaml:\d+:\d+: error: ")
        watching.wait_for(r"^watching ")
        assert not out.exists()
        mark = watching.mark()
        broken.unlink()
        watching.wait_for(r" deleted: \d+ pages rebuilt in \d+ ms \(errors fixed\)$", since=mark)
        assert (out / STORY_PAGE / "index.html").is_file()
    finally:
        assert watching.stop() == 0


@pytest.mark.parametrize("inside", ["content", "templates", "static"])
def test_watch_refuses_to_build_into_a_folder_it_watches(example_site: Path, inside: str) -> None:
    run = site_gen("--site", example_site, "build", "--watch", "--out", example_site / inside / "site")
    assert run.code == 1, run
    assert (
        f"refusing to build into {example_site / inside / 'site'}: it is inside the site's {inside}/"
        in run.stderr
    )
    assert not (example_site / inside / "site").exists()


def test_watch_refuses_a_folder_a_build_may_not_write_into(example_site: Path, tmp_path: Path) -> None:
    """As `build` does, at once (exit 1), rather than watch with every build refused."""
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("someone's file\n", encoding="utf-8")
    run = site_gen("--site", example_site, "build", "--watch", "--out", taken, timeout=60)
    assert run.code == 1, run
    assert "refusing to build into" in run.stderr and "not empty" in run.stderr
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"]


needs_pagefind = pytest.mark.skipif(
    pagefind_program() is None, reason="needs pagefind (pip install '.[search]')"
)


def index_files(paths: Iterable[str]) -> set[str]:
    return {rel for rel in paths if rel.startswith(INDEX_DIR + "/")}


@needs_pagefind
def test_search_index_waits_for_the_pause(example_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    builder = watch_builder(example_site, out)
    assert builder.build(AS_OF).ok
    index = index_files(tree(out))
    assert index

    edit(example_site / STORY, OLD_TITLE, NEW_TITLE)
    report = builder.build(AS_OF, hint={STORY})
    assert report.ok and f"{STORY_PAGE}index.html" in report.written
    assert not index_files(report.written)  # put off
    assert index <= set(tree(out))  # the last index stays meanwhile

    finished = builder.finish()  # the pause
    assert finished is not None and finished.ok and index_files(finished.written)
    assert builder.finish() is None  # nothing left to do
    clean = tmp_path / "clean"
    assert Builder(example_site, clean).build(AS_OF).ok
    assert tree(out) == tree(clean)


@needs_pagefind
def test_a_stale_search_index_is_remade_by_the_next_build_after_a_stop(
    example_site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    builder = watch_builder(example_site, out)
    assert builder.build(AS_OF).ok
    edit(example_site / STORY, OLD_TITLE, NEW_TITLE)
    assert builder.build(AS_OF, hint={STORY}).ok
    builder.save()  # stopped before the pause: the saved cache knows the index is stale

    remade = Builder(example_site, out).build(AS_OF)
    assert remade.ok and index_files(remade.written)
    clean = tmp_path / "clean"
    assert Builder(example_site, clean).build(AS_OF).ok
    assert tree(out) == tree(clean)


def test_a_build_by_another_process_in_between_is_noticed(example_site: Path, tmp_path: Path) -> None:
    """A `build` into the same folder while `build --watch` runs: the watching builder
    then trusts nothing it knew of the folder, and leaves no file the other made."""
    out = tmp_path / "out"
    watching = watch_builder(example_site, out)
    assert watching.build(AS_OF).ok

    edit(example_site / STORY, OLD_TITLE, NEW_TITLE)
    other = site_gen("--site", example_site, "build", "--as-of", AS_OF, "--out", out)
    assert other.code == 0, other
    (out / "left-by-hand.txt").write_text("not made by any build\n", encoding="utf-8")

    edit(example_site / STORY, NEW_TITLE, OLD_TITLE)
    report = watching.build(AS_OF, hint={STORY})
    assert report.ok and "left-by-hand.txt" in report.removed
    assert watching.finish() is None  # nothing was put off: every file was made now
    clean = tmp_path / "clean"
    assert Builder(example_site, clean).build(AS_OF).ok
    assert tree(out) == tree(clean)


def test_builds_into_one_folder_take_turns_whatever_their_drafts(example_site: Path, tmp_path: Path) -> None:
    """While a build without drafts holds the folder (its lock, held here), a
    `build --drafts` into the same folder waits, then builds."""
    out = (tmp_path / "out").resolve()
    assert Builder(example_site, out).build(AS_OF).ok
    before = tree(out)
    ran: list[Run] = []

    def build_with_drafts() -> None:
        ran.append(site_gen("--site", example_site, "build", "--drafts", "--as-of", AS_OF, "--out", out))

    other = threading.Thread(target=build_with_drafts)
    with exclusive(output_lock(example_site / CACHE_DIR, out)):
        other.start()
        other.join(timeout=4)  # the build takes about a second when it need not wait
        assert other.is_alive() and tree(out) == before
    other.join(timeout=120)
    assert ran and ran[0].code == 0, ran
    assert tree(out) != before  # the drafts are in


def test_stopping_first_makes_what_the_edits_put_off(
    example_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C right after an edit: the feeds, JSON (and search index) it put off are
    made before `build --watch` stops, so the folder is what `build` makes."""
    out = tmp_path / "out"
    builder = watch_builder(example_site.resolve(), out)
    rebuilder = Rebuilder(example_site.resolve(), builder, AS_OF)
    rebuilder.finish_on_close = True
    assert rebuilder.first_build().ok
    edit(example_site / STORY, OLD_TITLE, NEW_TITLE)
    assert builder.build(AS_OF, hint={STORY}).ok
    assert builder.put_off
    rebuilder.close()
    assert "then stopping" in capsys.readouterr().err
    assert not builder.put_off
    clean = tmp_path / "clean"
    assert Builder(example_site, clean).build(AS_OF).ok
    assert tree(out) == tree(clean)


def test_files_gone_from_the_output_are_made_at_once_not_put_off(example_site: Path, tmp_path: Path) -> None:
    """The output folder deleted, then `build --watch` (or serve) started again on its
    cache: its first build makes the feeds and JSON it would put off for the pause,
    since they are not there at all."""
    out = tmp_path / "out"
    assert Builder(example_site, out).build(AS_OF).ok
    shutil.rmtree(out)
    builder = watch_builder(example_site.resolve(), out)
    builder.search = False
    report = builder.build(AS_OF)
    assert report.ok and not builder.pending
    assert (out / "feed.xml").is_file() and (out / "data/briefing.json").is_file()
    clean = tmp_path / "clean"
    reference = Builder(example_site, clean, search=False)
    assert reference.build(AS_OF).ok
    assert tree(out) == tree(clean)
    # Files still there are put off as before.
    edit(example_site / STORY, OLD_TITLE, NEW_TITLE)
    assert builder.build(AS_OF, hint={STORY}).ok and builder.pending
