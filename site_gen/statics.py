"""The static files a build publishes: the theme's, overridden by the site's own."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .errors import Problem
from .loader import RACY_NS, is_editor_temp
from .writer import digest_of


class StaticFiles:
    """The static files with their digests, read again only when the static
    folders' listing (every file's stat, none too fresh to trust) changed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._kept: tuple[Any, dict[str, tuple[str, bytes]], list[Problem]] | None = None

    def current(self, listing: Any, problems: list[Problem]) -> dict[str, tuple[str, bytes]]:
        """Every static file by output path, as (digest, bytes); `listing` is
        snapshot.static_listing's for now. Symlinks found are added to `problems`."""
        now = time.time_ns()
        kept = self._kept
        if kept is not None and kept[0] == listing:
            problems.extend(kept[2])
            return kept[1]
        found: list[Problem] = []
        files = {rel: (digest_of(data), data) for rel, data in static_files(self.root, found).items()}
        problems.extend(found)
        trusted = all(now - mtime > RACY_NS for _, mtime, _ in listing)
        self._kept = (listing, files, found) if trusted else None
        return files


def static_files(root: Path, problems: list[Problem] | None = None) -> dict[str, bytes]:
    """The theme's static files overridden by the site's own static/ folder.

    Symlinks are never followed (they could publish files from outside the
    site); each one is reported as an error in `problems`.
    """
    from .templatefiles import theme_dir

    files: dict[str, bytes] = {}
    for folder in (theme_dir() / "static", root / "templates" / "static", root / "static"):
        if not folder.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames) + [d for d in dirnames if Path(dirpath, d).is_symlink()]:
                path = Path(dirpath, name)
                if path.is_symlink():
                    _symlink_problem(root, path, problems)
                elif not name.startswith(".") and not is_editor_temp(name):
                    files["static/" + path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def _symlink_problem(root: Path, path: Path, problems: list[Problem] | None) -> None:
    if problems is None:
        return
    try:
        shown = path.relative_to(root).as_posix()
    except ValueError:
        shown = path.as_posix()
    problems.append(
        Problem(shown, 1, 1, "error", "symlinks are not published; copy the file into static/ instead")
    )
