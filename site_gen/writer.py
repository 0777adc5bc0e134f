"""Write a build's files into the output folder as one transaction.

Changed files are first written into a staging folder beside the output
(same filesystem), then moved into place; files the site no longer makes are
removed last. If anything fails before the move, the output is untouched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .errors import SiteGenError

GENERATOR_MARK = b'<meta name="generator" content="site-gen'


@dataclass(slots=True)
class FileState:
    """What we last wrote at a path: the page fingerprint, the bytes' digest and stat.

    Slotted: the cache holds one per output file (120,000 at 100,000 stories), and
    with a `__dict__` each took 150 bytes rather than 56. Pickled as its arguments:
    the default for a slotted object, a dict of its slots, took twice as long to
    pickle and half as long again to read back."""

    fingerprint: str
    digest: str
    stamp: tuple[int, int]

    def __reduce__(self) -> tuple[type[FileState], tuple[str, str, tuple[int, int]]]:
        return FileState, (self.fingerprint, self.digest, self.stamp)


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class Pieces:
    """A big file's text in pieces (`data/briefing.json`: 26 MB at 10,000 stories),
    hashed, compared and written a batch at a time: joined and encoded whole it
    cost its process twice its size again.

    A piece is text, or a span of bytes (see `span`) of `source`, the file as
    the last build wrote it: a record's part that did not change is read from
    there each time it is needed, never held."""

    BATCH = 1000  # pieces per encoded chunk: a record's JSON text is about 1.5 kB

    def __init__(self, parts: list[str | int], source: Path | None = None) -> None:
        self.parts = parts
        self.source = source

    def chunks(self) -> Iterator[bytes]:
        if self.source is None:
            for at in range(0, len(self.parts), self.BATCH):
                yield "".join(self.parts[at : at + self.BATCH]).encode("utf-8")  # type: ignore[arg-type]
            return
        with open(self.source, "rb") as handle:
            fd = handle.fileno()
            for at in range(0, len(self.parts), self.BATCH):
                yield _joined(self.parts[at : at + self.BATCH], fd)


_SPAN_BITS = 28  # a span's length: up to 256 MB


def span(start: int, length: int) -> int:
    """A run of bytes of a file, as one int (an int costs a third of a tuple of two)."""
    return start << _SPAN_BITS | length


def span_parts(packed: int) -> tuple[int, int]:
    """(start, length) of a span."""
    return packed >> _SPAN_BITS, packed & ((1 << _SPAN_BITS) - 1)


def _joined(parts: list[str | int], fd: int) -> bytes:
    """The parts' bytes: the spans of `fd` read in one go when they lie close
    together, as unchanged records do (one read per record cost 70 ms at
    10,000 stories, against a few here)."""
    spans = [span_parts(part) for part in parts if type(part) is int]
    if not spans:
        return "".join(parts).encode("utf-8")  # type: ignore[arg-type]
    low = min(start for start, _ in spans)
    high = max(start + length for start, length in spans)
    if high - low > 2 * sum(length for _, length in spans) + 65536:  # far apart: each on its own
        return b"".join(
            part.encode("utf-8") if type(part) is str else _read(fd, *span_parts(part))  # type: ignore[arg-type]
            for part in parts
        )
    block = memoryview(_read(fd, low, high - low))
    found: list[bytes | memoryview] = []
    mask = (1 << _SPAN_BITS) - 1
    for part in parts:  # a loop, not a call per part: 35,000 parts at 10,000 stories
        if type(part) is str:
            found.append(part.encode("utf-8"))
        else:
            start = (part >> _SPAN_BITS) - low  # type: ignore[operator]
            found.append(block[start : start + (part & mask)])  # type: ignore[operator]
    return b"".join(found)


def _read(fd: int, start: int, length: int) -> bytes:
    found = os.pread(fd, length, start)
    if len(found) != length:
        raise OSError(f"{length} bytes expected at {start}, found {len(found)}")
    return found


def digest_of(data: bytes | Pieces) -> str:
    """An output file's identity. SHA-256 runs on the CPU's SHA instructions where
    there are some, at twice BLAKE2's speed: a year's timeline page is megabytes."""
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()[:32]
    digest = hashlib.sha256()
    for chunk in data.chunks():
        digest.update(chunk)
    return digest.hexdigest()[:32]


def same_bytes(path: Path, data: bytes | Pieces) -> bool:
    """Whether the file at `path` holds exactly `data`."""
    try:
        if isinstance(data, bytes):
            return path.stat().st_size == len(data) and path.read_bytes() == data
        with open(path, "rb") as handle:
            return all(handle.read(len(chunk)) == chunk for chunk in data.chunks()) and not handle.read(1)
    except OSError:
        return False


def stamp_of(path: str | Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def check_output_dir(out: Path, root: Path, owned: bool) -> None:
    """Refuse an output folder whose cleaning could destroy someone's files."""
    out, root = out.resolve(), root.resolve()
    if out == root or out in root.parents:
        raise SiteGenError(f"refusing to build into {out}: it holds the site itself")
    for source in ("content", "templates", "static", ".git"):
        if out == root / source or (root / source) in out.parents:
            raise SiteGenError(f"refusing to build into {out}: it is inside the site's {source}/")
    if (out / ".git").exists() or (out / "site.yaml").exists():
        raise SiteGenError(f"refusing to build into {out}: it holds a repository or a site")
    if not owned and out.is_dir() and any(out.iterdir()) and not looks_built(out):
        raise SiteGenError(
            f"refusing to build into {out}: it is not empty and site-gen did not "
            "build it; choose an empty folder"
        )


def looks_built(folder: Path) -> bool:
    """Whether `folder` holds a site-gen build (its home page says so)."""
    try:
        with open(folder / "index.html", "rb") as handle:
            return GENERATOR_MARK in handle.read(4096)
    except OSError:
        return False


def existing_files(out: Path) -> set[str]:
    found = set()
    for dirpath, _, filenames in os.walk(out):
        for name in filenames:
            found.add(Path(dirpath, name).relative_to(out).as_posix())
    return found


def commit(out: Path, changed: dict[str, bytes], remove: set[str]) -> WriteReport:
    """Stage `changed`, then move it into `out` and delete `remove`."""
    if not changed and not remove:
        return WriteReport()
    staging = Staging(out)
    try:
        for rel, data in changed.items():
            staging.put(rel, data)
    except BaseException:
        staging.abort()
        raise
    return staging.commit(remove)


class Staging:
    """Files staged beside `out` as they are made, then moved in by one commit.

    Files are staged flat, by number: removing a folder is slow on some
    filesystems (ext4 with discard), so the staging area is one folder. A
    first build (into a folder that is absent or empty) stages the whole tree
    instead and renames it into place at once.

    Where each file went is kept as a string, and in a whole tree not at all
    (None: at its own path under the folder): a build of 100,000 stories stages
    120,000 files, and a `Path` for each, with its folder's, held 650 bytes.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.folder = out.parent / f".{out.name}.staging-{os.getpid()}"
        self.whole = False
        self.ready = False
        self.staged: dict[str, str | None] = {}
        self._folders: set[str] = set()
        self._count = 0

    def prepare(self) -> None:
        """Make the staging folder. Done before worker processes are forked, so that
        they write into it (see `write`) and the build's own process adopts the files."""
        if self.ready:
            return
        shutil.rmtree(self.folder, ignore_errors=True)  # left by a process that died
        self.folder.mkdir(parents=True)
        self.whole = _fresh(self.out)
        self.ready = True

    def put(self, rel: str, data: bytes | Pieces) -> None:
        self.adopt(rel, self.write(rel, data))

    def write(self, rel: str, data: bytes | Pieces) -> str:
        """Write `rel`'s bytes into the staging folder (from any process) and say where."""
        self.prepare()
        if self.whole:
            target = os.path.join(self.folder, rel)
            parent = os.path.dirname(target)
            if parent not in self._folders:
                os.makedirs(parent, exist_ok=True)
                self._folders.add(parent)
        else:  # flat: a name no other process of this build uses
            self._count += 1
            target = os.path.join(self.folder, f"{os.getpid()}-{self._count}")
        if isinstance(data, bytes):
            _write_new(target, data, reserve=not self.whole)
        else:
            with open(target, "wb") as handle:
                handle.writelines(data.chunks())
        return target

    def adopt(self, rel: str, path: str) -> None:
        """Take a file written by `write` (at `path`) into the commit."""
        self.staged[rel] = None if self.whole else path

    def where(self, rel: str) -> str:
        """Where the staged file for `rel` is."""
        path = self.staged[rel]
        return os.path.join(self.folder, rel) if path is None else path

    def read(self, rel: str) -> bytes:
        with open(self.where(rel), "rb") as handle:
            return handle.read()

    def abort(self) -> None:
        if self.ready:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.staged = {}
        self.ready = False

    def commit(self, remove: set[str]) -> WriteReport:
        """Move every staged file into `out`, then delete `remove`."""
        report = WriteReport()
        if not self.staged and not remove:
            self.abort()
            return report
        try:
            if self.whole and self.staged and _fresh(self.out):
                self.out.parent.mkdir(parents=True, exist_ok=True)
                if self.out.is_dir():
                    self.out.rmdir()  # empty, checked above
                os.rename(self.folder, self.out)
                report.written.extend(sorted(self.staged))
                return report
            self._move(report)
        except BaseException:
            self.abort()
            raise
        self.abort()
        for rel in sorted(remove):
            try:
                (self.out / rel).unlink()
                report.removed.append(rel)
            except FileNotFoundError:
                pass
        _prune_empty_dirs(self.out, {Path(rel).parent for rel in remove})
        return report

    def _move(self, report: WriteReport) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        made: set[Path] = set()
        for rel in sorted(self.staged):
            destination = self.out / rel
            if destination.parent not in made:
                destination.parent.mkdir(parents=True, exist_ok=True)
                made.add(destination.parent)
            os.replace(self.where(rel), destination)
            report.written.append(rel)


# A file this big or bigger, staged to replace one in the output, has its space
# reserved as it is made (see _write_new).
RESERVE_AT_LEAST = 8 * 1024


def _write_new(target: str, data: bytes, reserve: bool) -> None:
    """Write `data` into the new file `target`, its space first reserved when it will
    replace a file (`reserve`). ext4 allocates and starts writing back, at the rename,
    the blocks of a file renamed over another (auto_da_alloc): 3.6 ms for a year's
    3.5 MB timeline page, against 0.5 ms once its blocks were reserved
    (posix_fallocate). Where the call is missing or refused, it is written as it is."""
    with open(target, "wb") as handle:
        if reserve and len(data) >= RESERVE_AT_LEAST and hasattr(os, "posix_fallocate"):
            try:
                os.posix_fallocate(handle.fileno(), 0, len(data))
            except OSError:
                pass
        handle.write(data)


def _fresh(out: Path) -> bool:
    """Whether `out` does not exist or is an empty folder (a first build)."""
    try:
        return not out.exists() or (out.is_dir() and not any(out.iterdir()))
    except OSError:
        return False


def _prune_empty_dirs(out: Path, candidates: set[Path]) -> None:
    for rel in sorted(candidates, key=lambda p: len(p.parts), reverse=True):
        folder = out / rel
        while folder != out and folder.is_dir():
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent
