"""The watcher with the system's file events (inotify): a file its writer has
closed is reported at once, one still being written only once it is quiet or
closed, and everything else as with polling alone."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from site_gen import watch
from site_gen.inotify import FileEvents
from site_gen.watch import SCAN_CHECK_EVERY, Watcher, snapshot, snapshot_unless

LONG_QUIET = 5.0  # seconds: a watcher that waited this long did not use the events
QUICK = 1.0  # well under LONG_QUIET, even on a loaded machine


def inotify_works() -> bool:
    events = FileEvents.open(Path("."), ())
    if events is None:
        return False
    events.close()
    return True


pytestmark = pytest.mark.skipif(not inotify_works(), reason="no inotify on this system: the watcher polls")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "site.yaml").write_text("title: t\n")
    stories = tmp_path / "content" / "stories"
    stories.mkdir(parents=True)
    (stories / "a.yaml").write_text("title: a\n")
    (stories / "b.yaml").write_text("title: b\n")
    return tmp_path


@pytest.fixture
def watcher(site: Path) -> Iterator[Watcher]:
    made = Watcher(site, poll=0.02, quiet=LONG_QUIET)
    assert made.events is not None
    yield made
    made.close()


def timed_wait(watcher: Watcher, stop: threading.Event | None = None) -> tuple[float, dict[str, str], dict]:
    started = time.monotonic()
    waited = watcher.wait(stop or threading.Event())
    assert waited is not None
    settled, changes = waited
    return time.monotonic() - started, changes, settled


def test_a_closed_file_is_reported_without_the_quiet_wait(site: Path, watcher: Watcher) -> None:
    threading.Timer(0.05, lambda: (site / "content/stories/a.yaml").write_text("title: A\n")).start()
    seconds, changes, settled = timed_wait(watcher)
    assert changes == {"content/stories/a.yaml": "changed"}
    assert seconds < QUICK
    assert settled == snapshot(site)


def test_a_file_still_open_is_waited_for_until_its_writer_closes_it(site: Path, watcher: Watcher) -> None:
    story = site / "content/stories/a.yaml"

    def write_in_two_parts() -> None:
        with open(story, "w") as handle:
            handle.write("title: half")
            handle.flush()
            time.sleep(0.3)
            handle.write(" and the rest\n")

    writer = threading.Thread(target=write_in_two_parts)
    writer.start()
    seconds, changes, settled = timed_wait(watcher)
    writer.join()
    assert changes == {"content/stories/a.yaml": "changed"}
    assert settled["content/stories/a.yaml"] == snapshot(site)["content/stories/a.yaml"]  # never the half
    assert 0.25 < seconds < LONG_QUIET


def test_a_save_through_a_temporary_file_and_a_rename_is_reported_at_once(
    site: Path, watcher: Watcher
) -> None:
    temporary = site / "content/stories/.a.yaml.tmp"  # an editor's temporary name: never a record
    temporary.write_text("title: renamed into place\n")
    os.replace(temporary, site / "content/stories/a.yaml")
    seconds, changes, _ = timed_wait(watcher)
    assert changes == {"content/stories/a.yaml": "changed"}
    assert seconds < QUICK


def test_an_edit_a_deletion_and_an_addition_together_are_one_change(site: Path, watcher: Watcher) -> None:
    stories = site / "content/stories"
    (stories / "a.yaml").write_text("title: A\n")
    (stories / "b.yaml").unlink()
    (stories / "c.yaml").write_text("title: c\n")
    seconds, changes, settled = timed_wait(watcher)
    assert changes == {
        "content/stories/a.yaml": "changed",
        "content/stories/b.yaml": "deleted",
        "content/stories/c.yaml": "added",
    }
    assert seconds < QUICK and settled == snapshot(site)


def test_files_in_a_new_folder_are_seen_and_then_watched(site: Path) -> None:
    watcher = Watcher(site, poll=0.02, quiet=0.1)
    try:
        year = site / "content/stories/2026"
        year.mkdir()
        (year / "d.yaml").write_text("title: d\n")
        _, changes, settled = timed_wait(watcher)
        watcher.accept(settled)
        assert changes == {"content/stories/2026/d.yaml": "added"}
        watcher.quiet = LONG_QUIET  # the new folder is watched now: its next edit comes at once
        (year / "d.yaml").write_text("title: D\n")
        seconds, changes, _ = timed_wait(watcher)
        assert changes == {"content/stories/2026/d.yaml": "changed"} and seconds < QUICK
    finally:
        watcher.close()


def test_a_folder_renamed_is_a_whole_scan(site: Path, watcher: Watcher) -> None:
    an_hour_ago = time.time() - 3600  # as files on a real site are: a rename keeps the times
    for story in (site / "content/stories").iterdir():
        os.utime(story, (an_hour_ago, an_hour_ago))
    watcher.accept(snapshot(site))
    (site / "content/stories").rename(site / "content/reports")
    seconds, changes, _ = timed_wait(watcher)
    assert changes == {
        "content/stories/a.yaml": "deleted",
        "content/stories/b.yaml": "deleted",
        "content/reports/a.yaml": "added",
        "content/reports/b.yaml": "added",
    }
    assert seconds < QUICK


def test_writes_beside_the_sources_wake_no_build(site: Path, watcher: Watcher) -> None:
    stop = threading.Event()
    threading.Timer(0.6, stop.set).start()
    (site / "output").mkdir()
    (site / "output/index.html").write_text("<p>built</p>")
    (site / ".site-gen-cache").mkdir()
    (site / ".site-gen-cache/build.pickle").write_bytes(b"cache")
    (site / "content/stories/a.yaml~").write_text("an editor's backup")
    assert watcher.wait(stop) is None


def test_a_hidden_folder_among_the_sources_is_never_watched(site: Path) -> None:
    """The snapshots never look into .git and the like: the events must not either,
    or a write there would be reported as a source added."""
    hidden = site / "content/.git/objects"
    hidden.mkdir(parents=True)
    watcher = Watcher(site, poll=0.02, quiet=0.05)
    try:
        stop = threading.Event()
        threading.Timer(0.6, stop.set).start()
        (hidden / "ab12").write_bytes(b"blob")
        (site / "content/__pycache__").mkdir()
        (site / "content/__pycache__/x.pyc").write_bytes(b"code")
        assert watcher.wait(stop) is None
    finally:
        watcher.close()


def test_closing_stops_the_events(site: Path) -> None:
    watcher = Watcher(site)
    events = watcher.events
    assert events is not None
    watcher.close()
    assert events.fd == -1 and not events.wait(0)


def test_a_change_the_events_missed_makes_the_scans_the_ground_truth(site: Path, watcher: Watcher) -> None:
    """While the events tell of every change, the whole scans are a rare safety net;
    the first change a scan finds that they did not tell of (here: a folder whose
    watch is gone, as when the kernel refuses more) makes the scans frequent again."""
    assert watcher.events is not None and watcher.trust_events
    threading.Timer(0.05, lambda: (site / "content/stories/a.yaml").write_text("title: heard\n")).start()
    elapsed, changes, settled = timed_wait(watcher)
    assert changes == {"content/stories/a.yaml": "changed"} and elapsed < QUICK
    watcher.accept(settled)
    assert watcher.trust_events, "a change the events told of keeps them trusted"
    events = watcher.events
    stories = [wd for wd, rel in events._where.items() if rel == "content/stories"]
    assert len(stories) == 1
    assert events._libc.inotify_rm_watch(events.fd, stories[0]) == 0  # the kernel's own watch, gone
    threading.Timer(0.05, lambda: (site / "content/stories/b.yaml").write_text("title: unheard\n")).start()
    elapsed, changes, _ = timed_wait(watcher)
    assert changes == {"content/stories/b.yaml": "changed"}
    assert not watcher.trust_events


def test_a_whole_scan_gives_way_to_a_save(site: Path, watcher: Watcher) -> None:
    """A save heard while the safety-net scan runs stops the scan (0.1 s at 16,000
    files): the saved file is looked at first, and the next scan is whole again."""
    many = site / "content" / "quotes"
    many.mkdir()
    for n in range(3 * SCAN_CHECK_EVERY):
        (many / f"q{n}.yaml").write_text("text: q\n")
    watcher.accept(snapshot(site))

    (site / "content/stories/a.yaml").write_text("title: A\n")  # its events wait unread
    assert watcher.events is not None and watcher.events.wait(1.0)
    assert watcher._look_unless_news() is None

    watcher._listen(0)  # the save, taken in as the watcher does
    looked = watcher._look_unless_news()
    assert looked is not None and looked[0] == snapshot(site)


def test_a_scan_stops_at_the_first_check_that_says_so(site: Path) -> None:
    many = site / "content" / "quotes"
    many.mkdir()
    for n in range(2 * SCAN_CHECK_EVERY + 5):
        (many / f"q{n}.yaml").write_text("text: q\n")
    asked: list[int] = []

    def after(checks: int) -> Callable[[], bool]:
        def interrupted() -> bool:
            asked.append(1)
            return len(asked) > checks

        return interrupted

    whole = snapshot(site)
    assert snapshot_unless(site, after(10**6)) == whole
    checks = len(asked)  # between folders, and every SCAN_CHECK_EVERY files within one
    assert checks >= 2 + (2 * SCAN_CHECK_EVERY + 5) // SCAN_CHECK_EVERY
    for stop_after in range(checks):
        asked.clear()
        assert snapshot_unless(site, after(stop_after)) is None, stop_after
        assert len(asked) == stop_after + 1  # stopped at once


def test_idle_work_with_more_ready_runs_its_pieces_back_to_back(
    site: Path, watcher: Watcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each piece of idle work says how long its next one can wait: a piece ready at
    once comes after the shortest pause (the events still end any pause at once), one
    that waits (the cache's save, for a longer pause) at the poll's pace, and nothing
    more once it says it is done."""
    monkeypatch.setattr(watch, "IDLE_SECONDS", 0.0)
    pauses: list[float] = []
    real_pause = watcher._pause

    def pausing(seconds: float, stop: threading.Event) -> bool:
        pauses.append(seconds)
        return real_pause(seconds, stop)

    monkeypatch.setattr(watcher, "_pause", pausing)
    stop = threading.Event()
    answers: list[float | None] = [0.0, 0.0, 10.0, 0.0, None]
    called = 0

    def idle() -> float | None:
        nonlocal called
        called += 1
        if not answers:
            stop.set()
            return None
        return answers.pop(0)

    thread = threading.Thread(target=lambda: watcher.wait(stop, on_idle=idle))
    thread.start()
    time.sleep(0.5)
    stop.set()
    thread.join(QUICK)
    assert called == 5  # never called again after None
    busy = watch.BUSY_PAUSE_SECONDS
    assert pauses[1:5] == [busy, busy, watcher.poll, busy]
    assert set(pauses[5:]) == {watcher.poll}


def test_a_look_taken_before_the_last_write_is_not_settled_by_the_close_after_it(
    site: Path, watcher: Watcher
) -> None:
    """An editor's save opens the file truncating it, writes and closes. A look that
    lands between the open and the write, with the close read after it, must not
    settle the empty file: the build would read the file whole, and the watcher,
    seeing it "changed" again, would build a second time for nothing."""
    story = site / "content/stories/a.yaml"
    watcher.hot = ["content/stories/a.yaml"]
    os.truncate(story, 0)  # the editor's open, truncating: a write, not yet closed
    looks_between = watcher._with_news

    def look_then_the_write_lands() -> tuple[dict, frozenset[str] | None]:
        found = looks_between()
        if found[0]["content/stories/a.yaml"][1] == 0:  # the truncated file
            with open(story, "a") as handle:
                handle.write("title: the whole save\n")
        return found

    watcher._with_news = look_then_the_write_lands  # type: ignore[method-assign]
    _, changes, settled = timed_wait(watcher)
    assert changes == {"content/stories/a.yaml": "changed"}
    assert settled["content/stories/a.yaml"] == snapshot(site)["content/stories/a.yaml"]
    assert settled["content/stories/a.yaml"][1] == len("title: the whole save\n")
