"""The build cache's files: where they live, how they are locked, read and pruned.

`.site-gen-cache/` at the site's root holds, per output folder (and drafts
and base URL), a small manifest and a bulk file written by `Builder`; this
module knows the folder, not what is in the files.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from . import __version__
from .collector import collector_paused

CACHE_DIR = ".site-gen-cache"


def _code_version() -> str:
    """site-gen's version and a digest of its code: a cache made by other code is not used."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=8)
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{__version__}-2-{digest.hexdigest()}"


CACHE_VERSION = _code_version()


def unpickle(handle: Any) -> Any:
    """pickle.load without the cycle collector running over every object it makes."""
    with collector_paused():
        return pickle.load(handle)


def prune_caches(folder: Path) -> None:
    """Remove the caches of output folders that no longer exist.

    Each build's cache is kept per output folder (and drafts and base URL); a
    `build --out` into folders made for one use (a test, a script) would
    otherwise leave its cache behind forever. Each cache names its folder in
    a `.out` file beside it.
    """
    for owner in folder.glob("build-*.out"):
        try:
            out = Path(owner.read_text(encoding="utf-8").strip())
        except OSError:
            continue
        if not out.is_absolute() or out.exists():
            continue
        stem = owner.name[: -len(".out")]
        suffixes = (".pickle", ".bulk.pickle", ".inputs.pickle", ".inputs-changes.pickle", ".lock", ".out")
        files = [folder / f"{stem}{suffix}" for suffix in suffixes]
        folder_files = [written_marker(folder, out), output_lock(folder, out)]
        for path in [*folder.glob(f"{stem}.records-*.pickle"), *files, *folder_files]:
            try:
                path.unlink()
            except OSError:
                pass


def written_marker(folder: Path, out: Path) -> Path:
    """The file in the cache `folder` that every build writing into `out` signs anew
    (see Builder._build_noticing): one per output folder, whatever the drafts and base URL."""
    digest = hashlib.blake2b(str(out).encode(), digest_size=8).hexdigest()
    return folder / f"written-{digest}"


def output_lock(folder: Path, out: Path) -> Path:
    """The lock every build into `out` holds while it runs, whatever its drafts and
    base URL: two builds into one folder take turns (a `build --drafts` beside a
    `build`, or beside `build --watch`)."""
    return written_marker(folder, out).with_suffix(".lock")


def read_marker(marker: Path) -> str:
    try:
        return marker.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return ""  # none yet, or unreadable: differs from any signature


def sign_marker(marker: Path) -> str:
    """Write a new random signature into `marker` (under the build's lock); returns it."""
    signature = os.urandom(8).hex()
    try:
        marker.write_text(signature, encoding="ascii")
    except OSError:
        return "-"  # never read back: the next build trusts nothing, as it should
    return signature


def compiled_templates_folder(folder: Path) -> Path | None:
    """Where Jinja keeps compiled templates for this site-gen (None: the cache folder
    cannot be written). Jinja checks each template's source but not the options its
    code was compiled with, which change with site-gen: so one folder per version,
    and the folders of other versions are removed."""
    current = folder / f"templates-{CACHE_VERSION}"
    try:
        make_cache_dir(folder)
        current.mkdir(exist_ok=True)
    except OSError:
        return None
    for other in folder.glob("templates-*"):
        if other != current:
            shutil.rmtree(other, ignore_errors=True)
    return current


def make_cache_dir(folder: Path) -> None:
    """The cache folder, which git ignores even where the repository does not say so."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# site-gen's build cache: safe to delete at any time\n*\n")


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    make_cache_dir(lock_path.parent)
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
