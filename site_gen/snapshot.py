"""A build's inputs in a form that is cheap to check again: did anything change?

After each successful build the builder keeps a `Snapshot`: the stat of
site.yaml, of every record file, of every static file, the templates'
fingerprint and the as-of date. When all of them are as they were and every
output file is still the one written, the next build has nothing to do and
returns without loading a single record.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

from .config import CONFIG_NAME
from .errors import Problem, Problems
from .loader import SourceFile, Stamp, content_key, discover_stamped
from .model import SiteConfig
from .templatefiles import templates_fingerprint, theme_dir
from .writer import FileState, stamp_of


@dataclass
class Snapshot:
    as_of: date
    config_stamp: Stamp | None
    config: SiteConfig
    sources: dict[str, tuple[Stamp, str]]
    templates: str
    static: list[tuple[str, int, int]]
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    pages: int = 0
    search: bool = True
    # The search index was left out for want of Pagefind: a build after it is installed
    # is not a build with nothing to do.
    search_missing: bool = False


def static_listing(root: Path) -> list[tuple[str, int, int]]:
    """(path, mtime_ns, size) of everything under the static folders, links included."""
    found = []
    for folder in (theme_dir() / "static", root / "templates" / "static", root / "static"):
        for dirpath, dirnames, filenames in os.walk(folder):
            for name in sorted(dirnames) + sorted(filenames):
                path = os.path.join(dirpath, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                found.append((path, info.st_mtime_ns, info.st_size))
    return found


@dataclass(frozen=True)
class Surroundings:
    """What a build reads besides the records, stamped before it reads them.

    Taken at the start of a build, never at its end: a file that changes
    while the build runs must make the next build see a change.
    """

    config_stamp: Stamp | None
    templates: str
    static: list[tuple[str, int, int]]


def surroundings(root: Path) -> Surroundings:
    return Surroundings(stamp_of(root / CONFIG_NAME), templates_fingerprint(root), static_listing(root))


def take(
    before: Surroundings,
    config: SiteConfig,
    as_of: date,
    sources: dict[str, tuple[Stamp, str]],
    problems: list[Problem],
    files: int,
    pages: int,
    search: bool = True,
    search_missing: bool = False,
) -> Snapshot:
    return Snapshot(
        as_of,
        before.config_stamp,
        config,
        sources,
        before.templates,
        before.static,
        problems,
        files,
        pages,
        search,
        search_missing,
    )


def unchanged(
    snapshot: Snapshot,
    root: Path,
    as_of: date,
    out: Path,
    written: dict[str, FileState],
    walked: Callable[[list[tuple[SourceFile, Stamp]], list[Problem]], None] = lambda found, problems: None,
) -> bool:
    """Whether a build now would read exactly what the snapshot's build read and find
    every file it wrote still in place. `walked` is shown the walk of content/, if
    one was made (the build that follows need not walk again)."""
    stamp = stamp_of(root / CONFIG_NAME)
    if stamp is None or stamp != snapshot.config_stamp or as_of != snapshot.as_of:
        return False
    problems = Problems()
    found = discover_stamped(root, problems)
    walked(found, problems.items)
    if problems.items or len(found) != len(snapshot.sources):
        return False
    for source, stamp in found:
        known = snapshot.sources.get(source.relpath)
        if known is None:
            return False
        if known[0] != stamp or not stamp[0]:
            # A stamp too fresh to trust (see loader._trusted) is checked by content.
            try:
                data = (root / source.relpath).read_bytes()
            except OSError:
                return False
            if content_key(source, data) != known[1]:
                return False
    if snapshot.templates != templates_fingerprint(root) or snapshot.static != static_listing(root):
        return False
    prefix = str(out) + os.sep  # string joins: pathlib's cost more than the stats on a big site
    return all(stamp_of(prefix + rel) == state.stamp for rel, state in written.items())
