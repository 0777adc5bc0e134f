"""Locate a site's record files and load each into records.

Loading one file is a pure function of its bytes, kind and path, so results
are cached by content and cold loads run in parallel worker processes.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from itertools import accumulate, chain
from pathlib import Path

from .errors import Problem, Problems
from .fields import KINDS
from .model import Record
from .validate import read_records
from .workers import wanted as wanted_workers
from .yamlread import read_yaml

RECORD_SUFFIXES = (".yaml", ".yml")
PARALLEL_THRESHOLD = 400


@dataclass(frozen=True)
class SourceFile:
    """A record file: its kind and its path relative to the site root."""

    kind: str
    relpath: str

    @property
    def stem(self) -> str:
        name = self.relpath.rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[0]


@dataclass
class FileResult:
    """What one file yields: its records and its problems."""

    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def is_editor_temp(name: str) -> bool:
    """Editors' swap, backup and lock files, which are never records."""
    return (
        name.startswith((".", "#", "~"))
        or name.endswith(("~", ".swp", ".swx", ".tmp", ".bak"))
        or ".sb-" in name
    )


Stamp = tuple[int, int]


def discover(root: Path, problems: Problems) -> list[SourceFile]:
    """Every record file under content/<kind>/, sorted; symlinks are refused."""
    return [source for source, _ in discover_stamped(root, problems)]


def discover_stamped(root: Path, problems: Problems) -> list[tuple[SourceFile, Stamp]]:
    """Every record file with its (mtime_ns, size), from one stat per file."""
    content = root / "content"
    found: list[tuple[SourceFile, Stamp]] = []
    if not content.is_dir():
        return found
    for entry in sorted(os.scandir(content), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            problems.error(
                f"content/{entry.name}",
                1,
                1,
                "folders under content/ may not be symlinks; move the folder here",
            )
            continue
        if not entry.is_dir(follow_symlinks=False):
            if entry.name.endswith(RECORD_SUFFIXES) and not is_editor_temp(entry.name):
                problems.warning(
                    f"content/{entry.name}",
                    1,
                    1,
                    "record files go in a kind's folder, such as content/stories/; this one is ignored",
                )
            continue
        if entry.name not in KINDS:
            problems.warning(
                f"content/{entry.name}",
                1,
                1,
                f"'{entry.name}' is not a record kind and is ignored; the kinds are {', '.join(KINDS)}",
            )
            continue
        _walk(entry.path, f"content/{entry.name}", entry.name, problems, found)
    return found


def _walk(
    folder: str, rel: str, kind: str, problems: Problems, found: list[tuple[SourceFile, Stamp]]
) -> None:
    """A folder's record files, then its subfolders' (sorted, hidden ones skipped).

    Directory entries tell files, folders and symlinks apart without a system
    call each, which matters with tens of thousands of records.
    """
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    folders = []
    for entry in entries:
        if entry.is_dir():  # follows symlinks, so a linked folder is found and refused below
            if not entry.name.startswith("."):
                folders.append(entry)
            continue
        name = entry.name
        if is_editor_temp(name) or not name.endswith(RECORD_SUFFIXES):
            continue
        path = f"{rel}/{name}"
        if entry.is_symlink():
            problems.error(path, 1, 1, "record files may not be symlinks; copy the file here")
            continue
        if not entry.is_file(follow_symlinks=False):
            problems.error(path, 1, 1, "not a regular file; record files are plain text files")
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # deleted meanwhile
        found.append((SourceFile(kind, path), (info.st_mtime_ns, info.st_size)))
    for entry in folders:
        if entry.is_symlink():
            problems.error(f"{rel}/{entry.name}", 1, 1, "folders under content/ may not be symlinks")
            continue
        _walk(entry.path, f"{rel}/{entry.name}", kind, problems, found)


def parse_file(source: SourceFile, data: bytes) -> FileResult:
    """The records and problems of one file's bytes."""
    problems = Problems()
    root, found = read_yaml(source.relpath, data)
    problems.extend(found)
    records = read_records(source.kind, source.relpath, source.stem, root, problems) if root else []
    return FileResult(records, problems.items)


def content_key(source: SourceFile, data: bytes) -> str:
    """Cache key of a file's parse: its kind, path and bytes."""
    digest = hashlib.blake2b(data, digest_size=16)
    digest.update(f"\0{source.kind}\0{source.relpath}".encode())
    return digest.hexdigest()


def _parse_batch(batch: list[tuple[SourceFile, bytes]]) -> list[FileResult]:
    return [parse_file(source, data) for source, data in batch]


def parse_many(items: list[tuple[SourceFile, bytes]], workers: int | None = None) -> list[FileResult]:
    """Parse files, in worker processes when there are many."""
    workers = workers or wanted_workers()
    if len(items) < PARALLEL_THRESHOLD or workers < 2:
        return _parse_batch(items)
    # Imported here: a build that parses a few files (or none) does without it (20 ms).
    from concurrent.futures import ProcessPoolExecutor

    size = max(50, len(items) // (workers * 4))
    batches = [items[i : i + size] for i in range(0, len(items), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results: list[FileResult] = []
        for batch_result in pool.map(_parse_batch, batches):
            results.extend(batch_result)
    return results


@dataclass
class _Known:
    stamp: tuple[int, int]
    key: str
    result: FileResult


RACY_NS = 2_000_000_000


def _trusted(stamp: tuple[int, int]) -> tuple[int, int]:
    """The stamp to remember: none for a file modified within the last two seconds.

    Two saves within one timestamp tick can leave mtime and size unchanged
    (git's "racy" files), so a file that fresh is read again next time and
    compared by content instead.
    """
    return stamp if time.time_ns() - stamp[0] > RACY_NS else (0, 0)


class Loader:
    """Loads a site's records, re-reading only files whose stat changed.

    Kept alive by `serve` between rebuilds; `state()`/`restore()` let the
    build persist it in the cache folder so a fresh process starts warm.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.known: dict[str, _Known] = {}
        self.changed: list[str] = []
        # The last walk of content/: its files with their stamps, and what it reported.
        self._listing: tuple[list[tuple[SourceFile, Stamp]], list[Problem]] | None = None
        # A walk of content/ the builder's no-change check just made (see `offer`).
        self._offered: tuple[list[tuple[SourceFile, Stamp]], list[Problem]] | None = None
        self.walks = 0  # how many times the listing was brought up to date (by a walk or a hint)
        # Each record's content identity, kept up to date from load to load (see fingerprints).
        self._fingerprints: dict[tuple[str, str], str] | None = None
        self._replaced: list[tuple[_Known | None, _Known | None]] = []
        # The records whose fingerprint the last fingerprints() call may have changed
        # (None: made from all files, so any may have).
        self.fingerprint_changes: set[tuple[str, str]] | None = None
        self._racy: set[str] = set()  # files read with no stamp to trust: read again each load
        self.replaced: list[str] = []  # the files whose entry the last load made anew or dropped
        self.record_changes: list[tuple[list[Record], list[Record]]] | None = None
        # Where each file of the last walk's listing is in it (kept while the listing is).
        self._where: dict[str, int] = {}
        # The records in file order, kept from load to load (see _records).
        self._order: list[str] = []
        self._at: dict[str, int] = {}
        self._count = 0
        self._results: list[list[Record]] = []
        self._records_list: list[Record] = []  # the last load's records, in that order
        self._starts: list[int] = [0]  # where each file's records start in it
        self._troubled: set[str] = set()  # files with problems of their own

    def load(self, problems: Problems, hint: Collection[str] | None = None) -> tuple[list[Record], int]:
        """All records (with their file problems added); and the number of files.

        `hint`: every path (relative to the site root) that changed since the
        last load, as a watcher saw it. When those are all record files the
        last walk found, only they are looked at again instead of walking
        content/ (on a big site the walk costs more than the rest of a load).
        """
        sources, hinted = self._discover(problems, hint)
        to_parse: list[tuple[SourceFile, bytes, tuple[int, int], str]] = []
        self.changed = []
        if hinted is not None and len(self.known) == len(sources):
            # Only the hinted files can have changed since the last load (which read every
            # file), and those saved too recently for their stat to tell (see _trusted).
            hinted |= self._racy
            where = self._where
            places = sorted(where[path] for path in hinted if path in where)
            fresh, looked = dict(self.known), [sources[place] for place in places]
        else:
            fresh, looked = {}, sources
        for source, stamp in looked:
            known = self.known.get(source.relpath)
            if known is not None and known.stamp == stamp and stamp[0]:
                fresh[source.relpath] = known
                continue
            fresh.pop(source.relpath, None)
            data = self._read(source, problems)
            if data is None:
                continue
            key = content_key(source, data)
            if known is None or known.key != key:
                self.changed.append(source.relpath)
            stamp = _trusted(stamp)
            if known is not None and known.key == key:  # a key names the path: only its last content
                fresh[source.relpath] = _Known(stamp, key, known.result)
            else:
                to_parse.append((source, data, stamp, key))
        parsed = parse_many([(s, d) for s, d, _, _ in to_parse])
        for (source, _, stamp, key), result in zip(to_parse, parsed):
            fresh[source.relpath] = _Known(stamp, key, result)
        paths = [source.relpath for source, _ in looked]
        self.replaced = [path for path in paths if fresh.get(path) is not self.known.get(path)]
        gone = self.known if looked is sources else paths
        self.changed.extend(p for p in gone if p in self.known and p not in fresh)
        if looked is sources:
            self.replaced.extend(p for p in self.known if p not in fresh)
        if looked is sources:
            self._racy = {p for p, known in fresh.items() if not known.stamp[0]}
        else:
            self._racy = {p for p in self._racy | hinted if p in fresh and not fresh[p].stamp[0]}
        self._replaced.extend((self.known.get(path), fresh.get(path)) for path in self.changed)
        old, self.known = self.known, fresh
        # What the files looked at had and have now; after a walk, every file was looked at.
        self.record_changes = (
            None
            if looked is sources
            else [
                (
                    old[path].result.records if path in old else [],
                    fresh[path].result.records if path in fresh else [],
                )
                for path in paths
                if fresh.get(path) is not old.get(path)
            ]
        )
        return self._records(fresh, None if looked is sources else paths, old, problems), len(fresh)

    def _records(
        self, fresh: dict[str, _Known], looked: list[str] | None, old: dict[str, _Known], problems: Problems
    ) -> list[Record]:
        """Every record in file path order, with the files' problems. After a load that
        looked only at `looked` (and found them all), the last load's order is patched
        where a file's entry changed, instead of sorting and joining every file again."""
        records = None
        if looked is None or len(fresh) != len(self._order) or any(p not in fresh for p in looked):
            self._order = sorted(fresh)
            self._at = {path: place for place, path in enumerate(self._order)}
            self._results = [fresh[path].result.records for path in self._order]
            self._troubled = {path for path in self._order if fresh[path].result.problems}
        else:
            at, results = self._at, self._results
            # A copy of the last list with the changed files' records put in their place,
            # while each still holds as many records (ten thousand pointers, not a join).
            records = list(self._records_list)
            for path in looked:
                if fresh[path] is not old.get(path):
                    place, new = at[path], fresh[path].result.records
                    if records is not None and len(new) == len(results[place]):
                        start = self._starts[place]
                        records[start : start + len(new)] = new
                    else:
                        records = None
                    results[place] = new
                    self._troubled.discard(path)
                    if fresh[path].result.problems:
                        self._troubled.add(path)
        for path in sorted(self._troubled):
            problems.extend(fresh[path].result.problems)
        if records is None:
            records = list(chain.from_iterable(self._results))
            self._starts = list(accumulate(map(len, self._results), initial=0))
        self._records_list = records
        self._count = len(records)
        return records

    def offer(self, sources: list[tuple[SourceFile, Stamp]], problems: list[Problem]) -> None:
        """A walk of content/ made a moment ago, for the next load to use instead of
        walking again (a build that found something changed walked to find it)."""
        self._offered = (sources, problems)

    def drop_offer(self) -> None:
        """No load follows the walk offered (nothing had changed): a later load walks."""
        self._offered = None

    def _discover(
        self, problems: Problems, hint: Collection[str] | None
    ) -> tuple[list[tuple[SourceFile, Stamp]], set[str] | None]:
        """The record files with their stamps; and, when the hint spared a walk,
        the paths it named (only those can have changed)."""
        listing = self._listing
        sources = self._restamped(listing[0], hint) if listing is not None and hint is not None else None
        hinted = None
        offered, self._offered = self._offered, None
        if sources is None and offered is not None and hint is None:
            listing = offered
            sources = offered[0]
        elif sources is None:
            walked = Problems()
            sources = discover_stamped(self.root, walked)
            listing = (sources, walked.items)
        else:
            hinted = set(hint or ())
        assert listing is not None
        if hinted is None:  # walked: a new listing
            self._where = {source.relpath: place for place, (source, _) in enumerate(sources)}
        self._listing = (sources, listing[1])
        self.walks += 1
        problems.extend(listing[1])
        return sources, hinted

    def _restamped(
        self, sources: list[tuple[SourceFile, Stamp]], hint: Collection[str]
    ) -> list[tuple[SourceFile, Stamp]] | None:
        """The last listing with the hinted files' new stamps; None when a walk is needed
        (a file added, deleted or replaced, or one the listing does not hold)."""
        hinted = [path for path in hint if path.startswith("content/")]
        if not hinted:
            return sources
        where = self._where
        fresh = list(sources)
        for path in hinted:
            at = where.get(path)
            try:
                info = os.lstat(self.root / path)
            except OSError:
                return None
            if at is None or not stat.S_ISREG(info.st_mode):
                return None
            fresh[at] = (sources[at][0], (info.st_mtime_ns, info.st_size))
        return fresh

    def _read(self, source: SourceFile, problems: Problems) -> bytes | None:
        try:
            return (self.root / source.relpath).read_bytes()
        except OSError as exc:  # deleted meanwhile, unreadable...
            problems.error(
                source.relpath,
                1,
                1,
                f"cannot read the file ({exc.strerror or exc}); check that it exists and is readable",
            )
            return None

    def fingerprints(self) -> dict[tuple[str, str], str]:
        """Each record's content identity: its file's content key and its place in
        the file. Patched with the files that changed since the last call, and made
        from all files when that would not be exact (an id in two files)."""
        found, replaced, self._replaced = self._fingerprints, self._replaced, []
        if found is not None:
            changes = set()
            for old, new in replaced:
                if old is not None:
                    for index, record in enumerate(old.result.records):
                        changes.add((record.kind, record.id))
                        if found.get((record.kind, record.id)) == f"{old.key}:{index}":
                            del found[(record.kind, record.id)]
                if new is not None:
                    for index, record in enumerate(new.result.records):
                        changes.add((record.kind, record.id))
                        found[(record.kind, record.id)] = f"{new.key}:{index}"
            if len(found) == self._count:  # every record of the last load
                self.fingerprint_changes = changes
                return found
        self.fingerprint_changes = None
        found = self._fingerprints = {}
        for known in self.known.values():
            for index, record in enumerate(known.result.records):
                found[(record.kind, record.id)] = f"{known.key}:{index}"
        return found

    def state(self) -> dict[str, tuple[tuple[int, int], str, FileResult]]:
        return {p: (k.stamp, k.key, k.result) for p, k in self.known.items()}

    def restore(self, state: dict[str, tuple[tuple[int, int], str, FileResult]]) -> None:
        self.known = {p: _Known(stamp, key, result) for p, (stamp, key, result) in state.items()}
        self._fingerprints, self._replaced, self._order = None, [], []
        self._racy = {p for p, known in self.known.items() if not known.stamp[0]}
