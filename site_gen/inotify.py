"""Hear at once that a source file was written and closed (Linux's inotify).

The watcher's snapshots stay the truth of what changed. These events only let
it look at once, instead of at its next poll, and tell it which files their
writer has closed (or moved into place, or deleted): those need no quiet wait,
since no editor writes a file it has closed. Where inotify is missing (not
Linux, the watch limit reached), `FileEvents.open` gives None and the watcher
polls as before.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .config import CONFIG_NAME
from .loader import is_editor_temp

MODIFY = 0x2
ATTRIB = 0x4
CLOSE_WRITE = 0x8
MOVED_FROM = 0x40
MOVED_TO = 0x80
CREATE = 0x100
DELETE = 0x200
DELETE_SELF = 0x400
MOVE_SELF = 0x800
Q_OVERFLOW = 0x4000
IGNORED = 0x8000
ISDIR = 0x40000000
EXCL_UNLINK = 0x04000000

WRITES = MODIFY | ATTRIB | CLOSE_WRITE
NAMES = MOVED_FROM | MOVED_TO | CREATE | DELETE | DELETE_SELF | MOVE_SELF
WATCH_MASK = WRITES | NAMES | EXCL_UNLINK
# The last event of a path that leaves it whole: written and closed, moved into
# place, deleted, or only its times changed (`touch`).
FINISHING = CLOSE_WRITE | MOVED_TO | MOVED_FROM | DELETE | ATTRIB
# Events that change which folders exist: the watcher scans everything then.
FOLDER_EVENTS = CREATE | MOVED_TO | MOVED_FROM | DELETE
HEADER = struct.Struct("iIII")
NONBLOCK = os.O_NONBLOCK
CLOEXEC = 0o2000000


def is_ignored(name: str) -> bool:
    """A file or folder name the watcher never looks at or into: editors' swap and
    backup files, hidden folders such as .git, Python's caches."""
    return is_editor_temp(name) or name == "__pycache__"


@dataclass
class Heard:
    """What the events since the last read say: each file's path (relative to the
    root, with "/") and whether its last event left it whole; `rescan` when a
    folder came or went or events were lost."""

    files: dict[str, bool] = field(default_factory=dict)
    rescan: bool = False

    def __bool__(self) -> bool:
        return bool(self.files) or self.rescan

    def add(self, other: Heard) -> None:
        self.files.update(other.files)
        self.rescan = self.rescan or other.rescan


class FileEvents:
    """inotify watches on the root (for its config file and top folders) and on
    every folder under `folders`; folders made later are watched as they come."""

    def __init__(self, fd: int, root: Path, folders: tuple[str, ...], libc: ctypes.CDLL) -> None:
        self.fd = fd
        self.root = root
        self.folders = folders
        self._libc = libc
        self._where: dict[int, str] = {}  # watch descriptor -> folder relative to the root ("" is the root)

    @classmethod
    def open(cls, root: Path, folders: tuple[str, ...]) -> FileEvents | None:
        """Events for the files under root/folders, or None where inotify cannot give them."""
        if not sys.platform.startswith("linux"):
            return None
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(NONBLOCK | CLOEXEC)
        except (OSError, AttributeError):
            return None
        if fd < 0:
            return None
        events = cls(fd, root, folders, libc)
        if not events._watch("") or not all(events._watch_tree(name) for name in folders):
            events.close()
            return None
        return events

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def wait(self, timeout: float) -> bool:
        """Whether events are ready within `timeout` seconds."""
        if self.fd < 0:
            return False
        try:
            ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        except (OSError, ValueError):
            return False
        return bool(ready)

    def read(self) -> Heard:
        """What the events ready now say (nothing when none are)."""
        heard = Heard()
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return heard
            except OSError:
                heard.rescan = True
                return heard
            if not data:
                return heard
            self._parse(data, heard)

    def _parse(self, data: bytes, heard: Heard) -> None:
        offset = 0
        while offset + HEADER.size <= len(data):
            wd, mask, _cookie, length = HEADER.unpack_from(data, offset)
            raw = data[offset + HEADER.size : offset + HEADER.size + length]
            offset += HEADER.size + length
            name = raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            self._note(wd, mask, name, heard)

    def _note(self, wd: int, mask: int, name: str, heard: Heard) -> None:
        if mask & Q_OVERFLOW:
            heard.rescan = True
            return
        folder = self._where.get(wd)
        if folder is None:
            return
        if mask & IGNORED:  # the folder is gone, and its watch with it
            del self._where[wd]
            return
        if mask & (DELETE_SELF | MOVE_SELF):
            heard.rescan = True
            return
        if not name or is_ignored(name):
            return
        path = f"{folder}/{name}" if folder else name
        if not folder and name not in self.folders and name != CONFIG_NAME:
            return  # the output folder, the cache and anything else beside the sources
        if mask & ISDIR:
            if mask & FOLDER_EVENTS:
                heard.rescan = True
                if mask & (CREATE | MOVED_TO):
                    self._watch_tree(path)
            return
        heard.files[path] = bool(mask & FINISHING)

    def _watch_tree(self, rel: str) -> bool:
        """Watch the folder root/rel and every folder under it (symlinks are not
        followed); False once the kernel refuses more watches."""
        pending = [rel]
        while pending:
            folder = pending.pop()
            if not self._watch(folder):
                return False
            try:
                entries = list(os.scandir(self.root / folder))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False) and not is_ignored(entry.name):
                        pending.append(f"{folder}/{entry.name}")
                except OSError:
                    continue
        return True

    def _watch(self, rel: str) -> bool:
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(self.root / rel), WATCH_MASK)
        if wd < 0:
            # A folder that is missing or went away is fine; a full watch table is not.
            return ctypes.get_errno() not in (errno.ENOSPC, errno.ENOMEM)
        self._where[wd] = rel
        return True
