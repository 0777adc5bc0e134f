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

import os
import threading
import time
from pathlib import Path
from typing import Callable

from .config import CONFIG_NAME
from .loader import is_editor_temp

Stamp = tuple[int, int]
Snapshot = dict[str, Stamp]

WATCHED_FOLDERS = ("content", "templates", "static")
POLL_SECONDS = 0.05
QUIET_SECONDS = 0.05
SCAN_SPACING = 4  # a whole scan starts at most once per 4x its own duration
HOT_FILES = 32
MAX_SCAN_GAP = 2.0  # seconds: a new file is always seen within this
IDLE_SECONDS = 1.0


def snapshot(root: Path, folders: tuple[str, ...] = WATCHED_FOLDERS) -> Snapshot:
    """Every watched file under `root` with its stamp, plus site.yaml."""
    found: Snapshot = {}
    stamp = _stamp(root / CONFIG_NAME)
    if stamp is not None:
        found[CONFIG_NAME] = stamp
    for folder in folders:
        _scan(root / folder, folder, found)
    return found


def _scan(folder: Path, rel: str, found: Snapshot) -> None:
    pending = [(folder, rel)]
    while pending:
        path, prefix = pending.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:  # absent, not a folder, or removed while we looked
            continue
        for entry in entries:
            if is_editor_temp(entry.name) or entry.name == "__pycache__":
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


def _stamp(path: Path) -> Stamp | None:
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def differences(before: Snapshot, after: Snapshot) -> dict[str, str]:
    """Each path that differs: "added", "deleted" or "changed"."""
    found = {}
    for path in before.keys() | after.keys():
        if path not in before:
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
    the folders differ from it and have then been quiet for `quiet` seconds.
    """

    def __init__(self, root: Path, *, poll: float = POLL_SECONDS, quiet: float = QUIET_SECONDS) -> None:
        self.root = root
        self.poll = poll
        self.quiet = quiet
        self.seen: Snapshot = snapshot(root)
        self.hot: list[str] = []  # the files changed last, most recent first

    def moved(self) -> bool:
        """Whether the folders differ from the last snapshot taken for a build."""
        return snapshot(self.root) != self.seen

    def wait(
        self, stop: threading.Event, on_idle: Callable[[], bool] | None = None
    ) -> tuple[Snapshot, dict[str, str]] | None:
        """The settled new snapshot and what changed; None once `stop` is set.

        Once nothing has changed for IDLE_SECONDS, `on_idle` runs between two
        looks at the files, as long as it returns True (it has more to do): a
        short piece of work each time, so a change is still seen at once.
        """
        next_scan = 0.0
        idle_at = time.monotonic() + IDLE_SECONDS
        while not stop.wait(self.poll):
            if on_idle is not None and time.monotonic() >= idle_at and not on_idle():
                on_idle = None
            if self._hot_moved():
                # An editor saving again a file saved lately (the usual edit): settled and
                # reported from a look at those files alone. A whole scan costs 0.1 s on a
                # site of 16,000 files, twice (the change, then the quiet); it comes at the
                # next tick and sees any other change then.
                next_scan = 0.0
                return self._settled(self._with_hot(), stop, self._with_hot)
            if time.monotonic() < next_scan:
                continue
            started, cpu = time.monotonic(), time.thread_time()
            current = snapshot(self.root)
            # On a very large site a whole scan takes a while: scan less often
            # then, so watching never eats more than a share of a core. The
            # files edited last are still looked at on every tick, since an
            # editor mostly saves the same few files again and again. The
            # scan's own CPU time counts, not wall time: on a busy machine a
            # descheduled scan must not push the next one (and new files) far off.
            spent = min(time.thread_time() - cpu, MAX_SCAN_GAP / SCAN_SPACING)
            next_scan = started + SCAN_SPACING * spent
            if current == self.seen:
                continue
            return self._settled(current, stop, lambda: snapshot(self.root))
        return None

    def _settled(
        self, current: Snapshot, stop: threading.Event, look: Callable[[], Snapshot]
    ) -> tuple[Snapshot, dict[str, str]] | None:
        settled = self._settle(current, stop, look)
        if settled is None:
            return None
        changes = differences(self.seen, settled)
        self.hot = [*changes, *(p for p in self.hot if p not in changes)][:HOT_FILES]
        return settled, changes

    def _hot_moved(self) -> bool:
        return any(_stamp(self.root / path) != self.seen.get(path) for path in self.hot)

    def _with_hot(self) -> Snapshot:
        """The last snapshot taken for a build, with the hot files as they are now."""
        current = dict(self.seen)
        for path in self.hot:
            stamp = _stamp(self.root / path)
            if stamp is None:
                current.pop(path, None)
            else:
                current[path] = stamp
        return current

    def accept(self, settled: Snapshot) -> None:
        """Record that a build started from `settled`."""
        self.seen = settled

    def _settle(
        self, current: Snapshot, stop: threading.Event, look: Callable[[], Snapshot]
    ) -> Snapshot | None:
        """Wait until the changed files have been left alone for `quiet` seconds
        (`look` takes the snapshot again)."""
        while True:
            remaining = self._remaining_quiet(current)
            if remaining <= 0:
                return current
            if stop.wait(remaining):
                return None
            later = look()
            if later == current:
                return later
            current = later

    def _remaining_quiet(self, current: Snapshot) -> float:
        # A file's mtime says when it was last written: one written long
        # enough ago is settled already, and waiting more only adds latency.
        written = [stamp[0] for path, stamp in current.items() if self.seen.get(path) != stamp]
        if not written:  # only deletions, which leave no time behind
            return self.quiet
        age = (time.time_ns() - max(written)) / 1e9
        return min(self.quiet, self.quiet - age)
