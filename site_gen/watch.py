"""Notice changes to a site's sources by comparing whole-folder snapshots.

A snapshot maps every source file (relative path) to its (mtime_ns, size).
Comparing whole snapshots, rather than stopping at the first changed file,
means an edit and a deletion in the same moment are both seen. The files
edited last are looked at on every tick, and a change to them alone is
reported without a whole scan (the next tick scans and sees the rest). Editors save
through temporary files and in several writes, so a change is only reported
once the folders have been quiet for a moment, and their swap and backup
files are never part of a snapshot. Symlinks are recorded, never followed, so
a link loop cannot make a scan endless.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from .config import CONFIG_NAME
from .inotify import FileEvents, Heard, is_ignored

Stamp = tuple[int, int]
Snapshot = dict[str, Stamp]
# A snapshot and the only paths in it that may differ from the last one taken
# for a build (None: any path may, after a whole scan).
Look = tuple[Snapshot, "frozenset[str] | None"]

WATCHED_FOLDERS = ("content", "templates", "static")
POLL_SECONDS = 0.05
QUIET_SECONDS = 0.05
SCAN_SPACING = 4  # a whole scan starts at most once per 4x its own duration
HOT_FILES = 32
MAX_SCAN_GAP = 2.0  # seconds: a new file is always seen within this
# While the system's file events have told of every change a whole scan found, the
# scans are only a safety net: rarer, and none right after each build.
SCAN_SPACING_WITH_EVENTS = 20
MAX_SCAN_GAP_WITH_EVENTS = 10.0
IDLE_SECONDS = 1.0
# Between two pieces of idle work that has more ready: events still end the pause at
# once, and a poll's pause after each piece left the work idle much of the time (after
# a cold build of 10,000 stories serve's warm-up ended 7.5 s after it, now 5.4 s).
BUSY_PAUSE_SECONDS = 0.002
BURST_SECONDS = 0.003  # events this close together are one change
SCAN_CHECK_EVERY = 1024  # files a whole scan looks at between two checks for news
# A scan is never given up for news when the last whole one is older than this.
OVERDUE_SCAN_SECONDS = 3 * MAX_SCAN_GAP_WITH_EVENTS


def snapshot(root: Path, folders: tuple[str, ...] = WATCHED_FOLDERS) -> Snapshot:
    """Every watched file under `root` with its stamp, plus site.yaml."""
    found = snapshot_unless(root, lambda: False, folders)
    assert found is not None
    return found


def snapshot_unless(
    root: Path, interrupted: Callable[[], bool], folders: tuple[str, ...] = WATCHED_FOLDERS
) -> Snapshot | None:
    """`snapshot()`, or None as soon as `interrupted()` (asked between folders, and
    every SCAN_CHECK_EVERY files in a big one) says to give up."""
    found: Snapshot = {}
    stamp = _stamp(root / CONFIG_NAME)
    if stamp is not None:
        found[CONFIG_NAME] = stamp
    for folder in folders:
        if not _scan(root / folder, folder, found, interrupted):
            return None
    return found


def _scan(folder: Path, rel: str, found: Snapshot, interrupted: Callable[[], bool]) -> bool:
    pending = [(folder, rel)]
    while pending:
        if interrupted():
            return False
        path, prefix = pending.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:  # absent, not a folder, or removed while we looked
            continue
        for count, entry in enumerate(entries, start=1):
            if count % SCAN_CHECK_EVERY == 0 and interrupted():
                return False
            if is_ignored(entry.name):
                continue
            name = f"{prefix}/{entry.name}"
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((Path(entry.path), name))
                    continue
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            found[name] = (info.st_mtime_ns, info.st_size)
    return True


def _stamp(path: Path) -> Stamp | None:
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def _restamped(root: Path, files: Snapshot, paths: Iterable[str]) -> Snapshot:
    """A copy of `files` with `paths` as they are now (gone from it if deleted)."""
    now = dict(files)
    for path in paths:
        stamp = _stamp(root / path)
        if stamp is None:
            now.pop(path, None)
        else:
            now[path] = stamp
    return now


def differences(before: Snapshot, after: Snapshot, among: Iterable[str] | None = None) -> dict[str, str]:
    """Each path that differs: "added", "deleted" or "changed" (`among`: the only
    paths that may differ, when that is known)."""
    found = {}
    for path in before.keys() | after.keys() if among is None else among:
        if path not in before:
            if path in after:
                found[path] = "added"
        elif path not in after:
            found[path] = "deleted"
        elif before[path] != after[path]:
            found[path] = "changed"
    return dict(sorted(found.items()))


def describe(changes: dict[str, str], limit: int = 3) -> str:
    """One short phrase: "content/stories/x.yaml changed", "3 files changed"."""
    if not changes:
        return "nothing changed"
    if len(changes) == 1:
        path, how = next(iter(changes.items()))
        return f"{path} {how}"
    names = list(changes)
    shown = ", ".join(names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{shown}{more} changed"


class Watcher:
    """Waits for the sources of the site at `root` to change and settle.

    `seen` is the snapshot the last build started from; `wait()` returns once
    the folders differ from it and have then been quiet for `quiet` seconds,
    or at once for files whose writer has closed them, where the system says
    so (inotify; `events=False` or its absence means polling alone).
    """

    def __init__(
        self, root: Path, *, poll: float = POLL_SECONDS, quiet: float = QUIET_SECONDS, events: bool = True
    ) -> None:
        self.root = root
        self.poll = poll
        self.quiet = quiet
        self.events = FileEvents.open(root, WATCHED_FOLDERS) if events else None
        self.heard = Heard()  # what the events said since the last build started
        self.seen: Snapshot = snapshot(root)
        self.hot: list[str] = []  # the files changed last, most recent first
        # Whether the events have told of every change a whole scan found: a scan that
        # finds one they did not (a network share, a folder whose watch was refused)
        # makes the scans the ground truth again, as without events.
        self.trust_events = self.events is not None
        self._next_scan = 0.0
        self._last_whole = time.monotonic()  # when a whole scan last finished

    def close(self) -> None:
        if self.events is not None:
            self.events.close()

    def moved(self) -> bool:
        """Whether the folders differ from the last snapshot taken for a build."""
        return snapshot(self.root) != self.seen

    def wait(
        self, stop: threading.Event, on_idle: Callable[[], float | None] | None = None
    ) -> tuple[Snapshot, dict[str, str]] | None:
        """The settled new snapshot and what changed; None once `stop` is set.

        Once nothing has changed for IDLE_SECONDS, `on_idle` runs between two
        looks at the files, as long as it has more to do: a short piece of work
        each time, so a change is still seen at once. It returns the seconds it
        can wait for its next piece (0: it has one ready), or None when it has
        nothing left.
        """
        # Without trusted events, a whole scan at the first tick sees any change made
        # during the build; with them, the scans keep their own pace.
        next_scan = self._next_scan if self.trust_events else 0.0
        idle_at = time.monotonic() + IDLE_SECONDS
        pause = self.poll
        while not self._pause(pause, stop):
            pause = self.poll
            if self.heard.rescan:
                next_scan = 0.0
            elif self.heard.files or self._hot_moved():
                # A file the events named, or an editor saving again a file saved
                # lately (the usual edit): settled and reported from a look at those
                # files alone. A whole scan costs 0.1 s on a site of 16,000 files,
                # twice (the change, then the quiet); it comes at the next tick and
                # sees any other change then.
                current = self._look(self._with_news)
                if self._changed(current):
                    next_scan = 0.0
                    return self._settled(current, stop, self._with_news)
                self.heard.files.clear()  # looked at: nothing a build would see
            if on_idle is not None and time.monotonic() >= idle_at:
                wanted = on_idle()
                if wanted is None:
                    on_idle = None
                else:
                    pause = min(self.poll, max(wanted, BUSY_PAUSE_SECONDS))
            if time.monotonic() < next_scan:
                continue
            started, cpu = time.monotonic(), time.thread_time()
            told = self.heard.rescan  # the events said a folder changed: a scan is due
            self.heard.rescan = False
            current = self._look_unless_news()
            if current is None:  # a save came: looked at first, and the scan comes again
                self.heard.rescan = told
                continue
            # On a very large site a whole scan takes a while: scan less often
            # then, so watching never eats more than a share of a core. The
            # files edited last are still looked at on every tick, since an
            # editor mostly saves the same few files again and again. The
            # scan's own CPU time counts, not wall time: on a busy machine a
            # descheduled scan must not push the next one (and new files) far off.
            spacing, gap = (
                (SCAN_SPACING_WITH_EVENTS, MAX_SCAN_GAP_WITH_EVENTS)
                if self.trust_events
                else (SCAN_SPACING, MAX_SCAN_GAP)
            )
            spent = min(time.thread_time() - cpu, gap / spacing)
            next_scan = self._next_scan = started + spacing * spent
            if current[0] == self.seen:
                continue
            if self.trust_events and not told and not self._changed(current) <= self.heard.files.keys():
                self.trust_events = False
            return self._settled(current, stop, self._whole)
        return None

    def _pause(self, seconds: float, stop: threading.Event) -> bool:
        """Wait `seconds`, or less when events come; True once `stop` is set."""
        if self.events is None:
            return stop.wait(seconds)
        if self.events.wait(seconds):
            self._listen(BURST_SECONDS)
        return stop.is_set()

    def _listen(self, burst: float) -> None:
        """Take in the events ready now, and those that follow within `burst`
        seconds of each other: one "save all" or checkout is one build."""
        if self.events is None:
            return
        while True:
            heard = self.events.read()
            self.heard.add(heard)
            if not heard or not self.events.wait(burst):
                return

    def _look(self, look: Callable[[], Look]) -> Look:
        # The kernel queues a write's event before the write returns: events read
        # after a look tell of every write the look may have seen, so a file
        # written again after its writer closed it is not taken for finished.
        current = look()
        if self.events is not None and self.events.wait(0):
            self._listen(0)
        return current

    def _settled(
        self, current: Look, stop: threading.Event, look: Callable[[], Look]
    ) -> tuple[Snapshot, dict[str, str]] | None:
        settled = self._settle(current, stop, look)
        if settled is None:
            return None
        files, among = settled
        changes = differences(self.seen, files, among)
        self.hot = [*changes, *(p for p in self.hot if p not in changes)][:HOT_FILES]
        return files, changes

    def _look_unless_news(self) -> Look | None:
        """A whole scan (a look), given up when the system tells of a change meanwhile,
        with the events trusted and a scan done lately: at 16,000 files a scan takes
        0.1 s, and a save must not wait for it."""
        if not self.trust_events or time.monotonic() - self._last_whole > OVERDUE_SCAN_SECONDS:
            current = self._look(self._whole)
        else:
            files = snapshot_unless(self.root, self._news)
            if files is None:
                return None
            current = self._look(lambda: (files, None))
        self._last_whole = time.monotonic()
        return current

    def _news(self) -> bool:
        """Whether the system has events to tell (a save, most likely)."""
        return self.events is not None and self.events.wait(0)

    def _hot_moved(self) -> bool:
        return any(_stamp(self.root / path) != self.seen.get(path) for path in self.hot)

    def _whole(self) -> Look:
        return snapshot(self.root), None

    def _with_news(self) -> Look:
        """The last snapshot taken for a build, with the hot files and those the
        events named as they are now."""
        among = frozenset((*self.hot, *self.heard.files))
        return _restamped(self.root, self.seen, among), among

    def accept(self, settled: Snapshot) -> None:
        """Record that a build started from `settled`."""
        self.seen = settled
        self.heard = Heard()

    def _settle(self, current: Look, stop: threading.Event, look: Callable[[], Look]) -> Look | None:
        """Wait until the changed files have been left alone for `quiet` seconds,
        or their writers have closed them (`look` takes the snapshot again)."""
        since = time.monotonic()
        while True:
            remaining = self._remaining_quiet(current, since)
            if remaining <= 0:
                # The close heard may come after the look: a look taken between an
                # editor's truncating open and its write, then the close read. Settled
                # once a look taken after the events agrees (else a build reads the
                # file whole, and the next look sees it "changed" again: a second build).
                again = self._look(functools.partial(self._restat, current))
                if again is current:
                    return current
                current, since = again, time.monotonic()
                continue
            if self._pause(remaining, stop):
                return None
            later = self._look(look)
            if later[0] != current[0]:
                current, since = later, time.monotonic()

    def _restat(self, current: Look) -> Look:
        """`current` with its changed files looked at again (itself if none moved)."""
        files, among = current
        now = _restamped(self.root, files, self._changed(current))
        return current if now == files else (now, among)

    def _changed(self, current: Look) -> set[str]:
        files, among = current
        return set(differences(self.seen, files, among))

    def _remaining_quiet(self, current: Look, since: float) -> float:
        changed = self._changed(current)
        if changed and all(self.heard.files.get(path) for path in changed):
            return 0.0  # every changed file was closed, moved into place or deleted
        # A file's mtime says when it was last written: one written long
        # enough ago is settled already, and waiting more only adds latency.
        # Unless it has not moved past the time the last build saw: a file caught
        # between an editor's truncating open and its write may still show the
        # time of the save before (or an older file was copied in with its time).
        files, seen = current[0], self.seen
        written = [files[path][0] for path in changed if path in files]
        moved = all(files[path][0] > seen[path][0] for path in changed if path in files and path in seen)
        if not written or not moved:  # deletions leave no time behind
            return self.quiet - (time.monotonic() - since)
        age = (time.time_ns() - max(written)) / 1e9
        return min(self.quiet, self.quiet - age)
