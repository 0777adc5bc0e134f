"""Full-text search: a Pagefind index made at build time over the built pages.

The index is part of the build: its files join the build's other files before
the transactional write, so a failed build leaves the old index, a publish
ships the index that matches its pages, and stale index files are removed
like any other file the build no longer makes. It is made again only when a
page changed (the pages' fingerprints decide), and Pagefind's output depends
only on the pages, so two builds of the same content give the same bytes.

Pagefind is optional: without its program (`pip install 'site-gen[search]'`)
the build warns once and the site works without search. Which part of a page
is indexed and which filters it carries is decided here too (`search_markup`),
so the theme only prints what it is given.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Iterable, Mapping

from jinja2 import pass_context

from .errors import WARNING, Problem
from .writer import FileState, stamp_of

INDEX_DIR = "pagefind"
TIMEOUT = 600
# The page kinds worth finding, with the label of their "kind" filter. Lists,
# timelines and the home page only repeat what these pages hold.
INDEXED = {"story": "Story", "question": "Question", "topic": "Topic", "person": "Person"}

Produced = dict[str, tuple[str, bytes | None]]
KIND_FILTER, TOPIC_FILTER = "kind", "topic"
# Every filter the index has: the search page's script checks that Pagefind's UI shows them all.
SEARCH_FILTERS = (KIND_FILTER, TOPIC_FILTER)


@dataclass(frozen=True)
class SearchMarkup:
    """What the theme marks up for the indexer on one page."""

    body: bool
    filters: tuple[tuple[str, str], ...]


def search_markup(context: Mapping[str, Any]) -> SearchMarkup:
    """Whether the page is indexed, and its `kind` and `topic` filter values."""
    kind = context["page"].kind
    if kind not in INDEXED:
        return SearchMarkup(False, ())
    topics = [_filter_value(t.label) for t in _topic_links(kind, context)]
    filters = [(KIND_FILTER, INDEXED[kind])] + [(TOPIC_FILTER, label) for label in dict.fromkeys(topics)]
    return SearchMarkup(True, tuple(filters))


def _topic_links(kind: str, context: Mapping[str, Any]) -> Iterable[Any]:
    if kind == "story":
        return context["story"].topics
    if kind == "question":
        return context["question"].topics
    if kind == "topic":
        return [_Label(context["topic"]["title"])]
    return [t for quote in context.get("quotes", ()) for t in quote.topics]


@dataclass(frozen=True)
class _Label:
    label: str


def _filter_value(text: str) -> str:
    """A filter value that Pagefind's UI shows as the text it is.

    The UI inserts filter values as HTML (titles and excerpts it escapes), so the
    indexed value must be HTML-escaped text. Pagefind 1.5 decodes a filter
    element's entities twice, so the value is escaped twice here; the template
    escapes it once more for the page itself. A record title can thus never
    become markup in the search page (tests/test_search.py checks it in Chromium).
    """
    return escape(escape(text, quote=False), quote=False)


@pass_context
def search_markup_global(context: Any) -> SearchMarkup:
    """Jinja global `search_markup()`."""
    return search_markup(context)


NO_PAGEFIND = "the pagefind program was not found; install it with: pip install 'site-gen[search]'"


def pagefind_program() -> Path | None:
    """The Pagefind executable: the one the `pagefind` package finds, else one on PATH."""
    found: Path | None = None
    try:
        from pagefind.service import get_executable

        found = get_executable()
    except Exception:  # not installed, or its binary package missing: look on PATH
        found = None
    if found is None:
        on_path = shutil.which("pagefind")
        found = Path(on_path) if on_path else None
    return found if found is not None and found.is_file() else None


def search_index(
    produced: Mapping[str, tuple[str, bytes | None]], out: Path, known: Mapping[str, FileState]
) -> tuple[Produced, list[Problem]]:
    """The index files (under pagefind/) for the pages in `produced`.

    `produced` maps output paths to (fingerprint, bytes), bytes None for a
    page unchanged on disk in `out`; `known` is what the last build wrote.
    Index files that are still right come back with None, like unchanged pages.
    """
    program = pagefind_program()
    if program is None:
        return {}, [_warning(NO_PAGEFIND)]
    pages = sorted(rel for rel in produced if rel.endswith(".html"))
    key = _fingerprint(program, [(rel, produced[rel][0]) for rel in pages])
    previous = {rel: state for rel, state in known.items() if rel.startswith(INDEX_DIR + "/")}
    if previous and all(
        state.fingerprint == key and stamp_of(out / rel) == state.stamp for rel, state in previous.items()
    ):
        return {rel: (key, None) for rel in previous}, []
    with tempfile.TemporaryDirectory(prefix="site-gen-search-") as temp:
        site, index = Path(temp, "site"), Path(temp, "index")
        for rel in pages:
            data = produced[rel][1]
            target = site / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data if data is not None else (out / rel).read_bytes())
        failure = _run(program, site, index)
        if failure:
            return {}, [_warning(failure)]
        files = canonical_index(_read_tree(index))
        return {f"{INDEX_DIR}/{rel}": (key, data) for rel, data in sorted(files.items())}, []


def _run(program: Path, site: Path, index: Path) -> str | None:
    """Run Pagefind; a short reason when it failed."""
    command = [str(program), "--site", str(site), "--output-path", str(index), "--quiet"]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"pagefind could not run: {exc}"
    if proc.returncode != 0 or not (index / "pagefind.js").is_file():
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return f"pagefind failed (exit {proc.returncode}): {lines[-1] if lines else 'no message'}"
    return None


def _read_tree(folder: Path) -> dict[str, bytes]:
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath, name)
            found[path.relative_to(folder).as_posix()] = path.read_bytes()
    return found


def _fingerprint(program: Path, pages: list[tuple[str, str]]) -> str:
    """One hash of every page's fingerprint and of the Pagefind program itself."""
    info = program.stat()
    digest = hashlib.blake2b(f"{info.st_size}:{info.st_mtime_ns}".encode(), digest_size=16)
    for rel, fingerprint in pages:
        digest.update(f"\0{rel}\0{fingerprint}".encode())
    return digest.hexdigest()


def _warning(reason: str) -> Problem:
    return Problem(
        "site.yaml", 1, 1, WARNING, f"search index not built: {reason}; the site works without search"
    )


# -- making Pagefind's output reproducible --------------------------------------
#
# Pagefind 1.x writes each filter's values in hash-map order, which changes from
# run to run; the filter files' names are hashes of their bytes, and the
# language's meta file (named by its own hash, listed in pagefind-entry.json)
# names the filter files. So two runs over the same pages differ in exactly
# these files. We put the values in a fixed order and rename the files by
# hashes of our own; Pagefind's search code only follows the names.

SIGNATURE = b"pagefind_dcd"


def canonical_index(files: dict[str, bytes]) -> dict[str, bytes]:
    """Pagefind's output with filter values in a fixed order (unchanged if its format is unknown)."""
    try:
        return _canonical(dict(files))
    except (ValueError, KeyError, IndexError, OSError, EOFError):
        return files


def _canonical(files: dict[str, bytes]) -> dict[str, bytes]:
    entry = json.loads(files["pagefind-entry.json"])
    renamed: dict[str, str] = {}
    for rel in sorted(r for r in files if r.startswith("filter/") and r.endswith(".pf_filter")):
        old = rel[len("filter/") : -len(".pf_filter")]
        body = _sorted_list_at(_unpack(files.pop(rel)), [1])
        new = _rename(old, body)
        renamed[old] = new
        files[f"filter/{new}.pf_filter"] = _pack(body)
    for language in entry["languages"].values():
        old = language["hash"]
        body = _unpack(files.pop(f"pagefind.{old}.pf_meta"))
        for before, after in renamed.items():
            body = body.replace(_cbor_text(before), _cbor_text(after))
        body = _sorted_list_at(body, [3])
        language["hash"] = _rename(old, body)
        files[f"pagefind.{language['hash']}.pf_meta"] = _pack(body)
    files["pagefind-entry.json"] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
    return files


def _rename(old: str, body: bytes) -> str:
    """A new name like Pagefind's ("en_" and as many hex digits), from our bytes."""
    prefix, _, digits = old.rpartition("_")
    return f"{prefix}_{hashlib.sha256(body).hexdigest()[: len(digits)]}"


def _unpack(data: bytes) -> bytes:
    body = gzip.decompress(data)
    if not body.startswith(SIGNATURE):
        raise ValueError("not a Pagefind data file")
    return body


def _pack(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=9, mtime=0)


def _sorted_list_at(body: bytes, path: list[int]) -> bytes:
    """`body` with the CBOR array found by `path` (indexes into nested arrays) sorted."""
    pos = len(SIGNATURE)
    for index in path:
        count, pos = _array_head(body, pos)
        if index >= count:
            raise ValueError("unexpected Pagefind layout")
        for _ in range(index):
            pos = _item_end(body, pos)
    count, start = _array_head(body, pos)
    items, cursor = [], start
    for _ in range(count):
        end = _item_end(body, cursor)
        items.append(body[cursor:end])
        cursor = end
    return body[:start] + b"".join(sorted(items)) + body[cursor:]


def _cbor_text(text: str) -> bytes:
    raw = text.encode()
    if len(raw) >= 24:
        raise ValueError("name too long")
    return bytes([0x60 | len(raw)]) + raw


def _head(body: bytes, pos: int) -> tuple[int, int, int]:
    """(major type, argument, position after the head) of the CBOR item at `pos`."""
    first = body[pos]
    major, info = first >> 5, first & 0x1F
    if info < 24:
        return major, info, pos + 1
    if info > 27:
        raise ValueError("indefinite-length CBOR is not expected")
    size = 1 << (info - 24)
    return major, int.from_bytes(body[pos + 1 : pos + 1 + size], "big"), pos + 1 + size


def _array_head(body: bytes, pos: int) -> tuple[int, int]:
    major, count, after = _head(body, pos)
    if major != 4:
        raise ValueError("expected a CBOR array")
    return count, after


def _item_end(body: bytes, pos: int) -> int:
    """Where the CBOR item starting at `pos` ends."""
    major, argument, after = _head(body, pos)
    if major in (2, 3):
        return after + argument
    if major in (4, 5):
        for _ in range(argument * (2 if major == 5 else 1)):
            after = _item_end(body, after)
        return after
    if major == 6:
        return _item_end(body, after)
    return after
