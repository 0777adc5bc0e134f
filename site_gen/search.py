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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Iterable, Mapping

from jinja2 import pass_context

from .errors import WARNING, Problem
from .workers import wanted as wanted_workers
from .writer import FileState, stamp_of

INDEX_DIR = "pagefind"
PARTS_FILE = f"{INDEX_DIR}/parts.json"
# A site with more record pages than this is indexed in parts (see plan_parts): Pagefind
# takes about 1 ms and 75 kB of memory a page, and makes its index whole each time.
PAGES_PER_PART = 2_000
PART_FOLDERS = ("people", "questions", "stories", "topics")  # where the INDEXED kinds' pages are
INDEX_MARK = b"data-pagefind-body"
MERGED_FOLDERS = ("fragment/", "index/", "filter/")
SCRATCH, SCRATCH_ROOM = "/dev/shm", 1 << 30  # a part's pages and index take tens of megabytes
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
    produced: Mapping[str, tuple[str, bytes | None]],
    out: Path,
    known: Mapping[str, FileState],
    per_part: int | None = None,
) -> tuple[Produced, list[Problem]]:
    """The index files (under pagefind/) for the pages in `produced`.

    `produced` maps output paths to (fingerprint, bytes), bytes None for a
    page unchanged on disk in `out`; `known` is what the last build wrote.
    Index files that are still right come back with None, like unchanged pages.
    Above `per_part` pages (default `pages_per_part()`) the index is made in
    parts (see `plan_parts`), and only the parts whose pages changed are made again.
    """
    program = pagefind_program()
    if program is None:
        return {}, [_warning(NO_PAGEFIND)]
    pages = sorted(rel for rel in produced if rel.endswith(".html"))
    parts = plan_parts(pages, per_part or pages_per_part())
    keys = {part.folder: _part_key(part, program, produced) for part in parts}
    previous = _files_by_part(known)
    stale = [p for p in parts if not _current(keys[p.folder], previous.get(p.folder, []), out, known)]
    made: dict[str, dict[str, bytes]] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(len(stale), wanted_workers()))) as pool:
        for part, result in zip(stale, pool.map(lambda p: _make_part(p, program, produced, out), stale)):
            if isinstance(result, str):
                return {}, [_warning(result)]
            made[part.folder] = result
    if len(parts) > 1 and made.get(parts[0].folder) == {}:  # a theme that marks no page
        return search_index(produced, out, known, per_part=len(pages) + 1)
    index: Produced = {}
    merged = []
    for part in parts:
        key = keys[part.folder]
        files = made.get(part.folder)
        if files is None:  # current: the files on disk stay
            index.update({rel: (key, None) for rel in previous[part.folder]})
            merged.append(part.folder)
        elif files:
            index.update({part.folder + rel: (key, data) for rel, data in sorted(files.items())})
            merged.append(part.folder)
    listing = _parts_listing(merged[1:])
    index[PARTS_FILE] = (hashlib.blake2b(listing, digest_size=16).hexdigest(), listing)
    return index, []


def pages_per_part() -> int:
    """How many pages one part of the index holds at most: `SITE_GEN_SEARCH_PART` or 2,000."""
    try:
        return max(1, int(os.environ.get("SITE_GEN_SEARCH_PART", "")))
    except ValueError:
        return PAGES_PER_PART


@dataclass(frozen=True)
class Part:
    """One Pagefind bundle: its folder in the output and the pages it may index."""

    folder: str  # "pagefind/" for the bundle the search page loads, else "pagefind/parts/<name>/"
    pages: tuple[str, ...]
    whole: bool  # all of the site's pages, given to Pagefind as they are (a small site)

    @property
    def primary(self) -> bool:
        return self.folder == INDEX_DIR + "/"


def plan_parts(pages: list[str], per_part: int) -> list[Part]:
    """The index's parts for the site's HTML `pages` (sorted), the search page's first.

    Up to `per_part` record pages, one index of every page, as Pagefind makes it.
    Above, each folder of record pages (stories/, questions/, topics/, people/) is
    cut into a power of two of parts by a hash of each page's path, so that a page
    stays in its part while the site grows (until its folder's count doubles), and
    an edit makes again only the parts of the pages it changed: mostly a story's
    part, its topics' part and its people's part. Parts by hash hold alike pages,
    so Pagefind's ranking of their results, merged in the browser, compares alike.
    """
    by_folder: dict[str, list[str]] = {}
    for rel in pages:
        folder, _, rest = rel.partition("/")
        if folder in PART_FOLDERS and rest.count("/") == 1:
            by_folder.setdefault(folder, []).append(rel)
    if sum(map(len, by_folder.values())) <= per_part:
        return [Part(INDEX_DIR + "/", tuple(pages), whole=True)]
    parts = []
    for folder, members in sorted(by_folder.items()):
        count = 1
        while len(members) > count * per_part:
            count *= 2
        buckets: list[list[str]] = [[] for _ in range(count)]
        for rel in members:
            buckets[_bucket(rel, count)].append(rel)
        for number, bucket in enumerate(buckets):
            name = folder if count == 1 else f"{folder}-{number}"
            if bucket:
                parts.append(Part(f"{INDEX_DIR}/parts/{name}/", tuple(bucket), whole=False))
    first = parts[0]
    return [Part(INDEX_DIR + "/", first.pages, whole=False), *parts[1:]]


def _bucket(rel: str, count: int) -> int:
    digest = hashlib.blake2b(rel.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def _part_key(part: Part, program: Path, produced: Mapping[str, tuple[str, bytes | None]]) -> str:
    """The fingerprint of a part's files: its folder, its pages' fingerprints, Pagefind."""
    marker = "" if part.whole else part.folder
    return _fingerprint(program, [(marker, "")] + [(rel, produced[rel][0]) for rel in part.pages])


def _files_by_part(known: Mapping[str, FileState]) -> dict[str, list[str]]:
    """The index files the last build wrote, by the folder of their part."""
    nested = INDEX_DIR + "/parts/"
    found: dict[str, list[str]] = {}
    for rel in known:
        if not rel.startswith(INDEX_DIR + "/") or rel == PARTS_FILE:
            continue
        if rel.startswith(nested):
            folder = rel[: rel.index("/", len(nested)) + 1]
        else:
            folder = INDEX_DIR + "/"
        found.setdefault(folder, []).append(rel)
    return found


def _current(key: str, previous: list[str], out: Path, known: Mapping[str, FileState]) -> bool:
    """Whether the files the last build wrote for a part are there, made with `key`, untouched."""
    prefix = f"{out}/"
    return bool(previous) and all(
        known[rel].fingerprint == key and stamp_of(prefix + rel) == known[rel].stamp for rel in previous
    )


def _make_part(
    part: Part, program: Path, produced: Mapping[str, tuple[str, bytes | None]], out: Path
) -> dict[str, bytes] | str:
    """A part's bundle files by path within it ({} when none of its pages is marked to
    be indexed), or why Pagefind failed."""
    pages = _marked_pages(part, produced, out)
    if not pages:
        return {}
    scratch = None if part.whole else _scratch_folder()
    with tempfile.TemporaryDirectory(prefix="site-gen-search-", dir=scratch) as temp:
        site, index = Path(temp, "site"), Path(temp, "index")
        for rel, data in pages:
            target = site / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        failure = _run(program, site, index)
        if failure:
            return failure
        files = canonical_index(_read_tree(index))
    if part.primary:
        return files
    return {rel: data for rel, data in files.items() if _search_data(rel)}


def _marked_pages(
    part: Part, produced: Mapping[str, tuple[str, bytes | None]], out: Path
) -> list[tuple[str, bytes]]:
    """What Pagefind is given: a whole index every page, as it would find them (it
    skips those without `data-pagefind-body` itself, but numbers them); a part only
    the pages marked `data-pagefind-body`."""
    pages = []
    for rel in part.pages:
        data = produced[rel][1]
        if data is None:
            data = (out / rel).read_bytes()
        if part.whole or INDEX_MARK in data:
            pages.append((rel, data))
    return pages


def _scratch_folder() -> str | None:
    """Where a part's pages and index are staged for Pagefind: a memory file system when
    there is one with room, since creating thousands of small files and folders on disk
    can cost milliseconds each (ext4 right after many deletions, as a build's renames
    make: 2.2 s for a part's 1,258 pages, and Pagefind's own writing twice as long).

    Pagefind numbers pages in the order it walks their folders, which is the file
    system's, so the same pages give the same bytes only on the same kind of file
    system. A whole index is staged in the system's temporary folder, as it always was.
    """
    try:
        info = os.statvfs(SCRATCH)
    except OSError:
        return None
    room = info.f_bavail * info.f_frsize
    return SCRATCH if room >= SCRATCH_ROOM and os.access(SCRATCH, os.W_OK) else None


def _search_data(rel: str) -> bool:
    """Whether a bundle file is searched in a merged part (its code and UI come from the
    search page's own bundle)."""
    return rel == "pagefind-entry.json" or rel.endswith(".pf_meta") or rel.startswith(MERGED_FOLDERS)


def _parts_listing(folders: list[str]) -> bytes:
    """pagefind/parts.json: the bundles the search page merges into its own, relative to it."""
    start = len(INDEX_DIR) + 1
    return json.dumps({"parts": [folder[start:] for folder in folders]}, separators=(",", ":")).encode()


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
