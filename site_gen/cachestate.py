"""What a Builder saves in its cache and reads back (cache.py knows the folder).

Four kinds of file, per output folder and set of options:

- the manifest (`<key>.pickle`): every input's stat, each output file's
  fingerprint, digest and stat; read by every build, for the quick check;
- the bulk (`<key>.bulk.pickle`): the names of the record shards, read only
  when a build has something to do;
- the record shards (`<key>.records-<n>-<random>.pickle`): the parsed records
  of the files whose path falls in the shard, with their rendered Markdown;
  only the shards whose files changed are written again;
- the page inputs (`<key>.inputs.pickle`, see inputsfile.py), read only when
  the templates and settings are unchanged, and the changes to them since
  they were written whole (`<key>.inputs-changes.pickle`): most saves write
  only these.

Each is written to a temporary file and moved into place, the manifest last:
it names the others by a token, so a half-saved cache is never read as whole.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator

from .cache import CACHE_DIR, CACHE_VERSION, exclusive, make_cache_dir, prune_caches, unpickle
from .fields import KINDS, markdown_values
from .incremental import DepState, Journal, Key
from .index import Site
from .inputsfile import (
    NO_CHANGES,
    WrittenInputs,
    apply_changes,
    changes_since,
    read_inputs,
    write_changes,
    write_inputs,
)
from .loader import Loader
from .snapshot import Snapshot
from .writer import FileState

if TYPE_CHECKING:
    from .produce import Fragments

RECORD_SHARDS = 16


def shard_of(path: str) -> int:
    """The cache shard that holds a record file's parse."""
    return zlib.crc32(path.encode("utf-8")) % RECORD_SHARDS


class CacheState:
    """The part of a Builder that saves its state to the cache and reads it back.

    The attributes below are the Builder's (see Builder.__init__): what the
    cache keeps of them, and what it needs to know where to keep it.
    """

    # Rendered texts the Markdown cache may gain (edits) before the records' texts are
    # counted again to forget the others.
    MARKDOWN_SLACK = 100

    root: Path
    out: Path
    drafts: bool
    base_url: str | None
    keep_views: bool  # a builder that builds again (see Builder)
    cache_file: Path | None
    loader: Loader
    files: dict[str, FileState]
    base: str
    snapshot: Snapshot | None
    pending: set[str]
    deps: DepState
    fragments: Fragments
    markdown: dict[bool, dict[str, str]]
    _site: Site | None
    _token: str
    _pending_changed: set[Key]
    _bulk_loaded: bool
    _inputs_unread: bool
    _inputs_written: WrittenInputs | None
    _moved: set[tuple[str, str]] | None
    _unsaved: bool
    _markdown_live: int
    _shards: dict[int, str]
    _stale_shards: set[int] | None
    _new_renders: set[str]

    def _key(self) -> str:
        """This builder's files in the cache: one set per output folder, drafts and base URL."""
        digest = hashlib.blake2b(f"{self.out}\0{self.drafts}\0{self.base_url}".encode(), digest_size=16)
        return "build-" + digest.hexdigest()[:16]

    def _cache_file(self) -> Path:
        return self.root / CACHE_DIR / f"{self._key()}.pickle"

    def _bulk_file(self) -> Path:
        assert self.cache_file is not None
        return self.cache_file.with_suffix(".bulk.pickle")

    def _inputs_file(self) -> Path:
        assert self.cache_file is not None
        return self.cache_file.with_suffix(".inputs.pickle")

    def _changes_file(self) -> Path:
        assert self.cache_file is not None
        return self.cache_file.with_suffix(".inputs-changes.pickle")

    def _restore(self) -> None:
        """The small part of the cache: what the quick check and the writer need.

        Records, rendered Markdown and page inputs (the bulk) are read only
        when a build has something to do.
        """
        if self.cache_file is None or not self.cache_file.is_file():
            self._bulk_loaded = True
            return
        try:
            with open(self.cache_file, "rb") as handle:
                state = unpickle(handle)
            if state.get("version") != CACHE_VERSION:
                self._bulk_loaded = True
                return
            self.files, self.base = state["files"], state["base"]
            self.snapshot, self._token = state["snapshot"], state["token"]
            self.pending, self._pending_changed = state["pending"]
        except Exception:  # a damaged cache is only a slower build
            self.files, self.base, self.snapshot, self._bulk_loaded = {}, "", None, True

    def _load_bulk(self) -> None:
        if self._bulk_loaded:
            return
        self._bulk_loaded = True
        try:
            state = self._read_part(self._bulk_file())
            records: dict[str, Any] = {}
            markdown: dict[bool, dict[str, str]] = {False: {}, True: {}}
            for name in state["shards"].values():
                with open(self._bulk_file().parent / name, "rb") as handle:
                    shard = unpickle(handle)
                if shard.get("name") != name:
                    raise ValueError("a shard is not the bulk's")
                records.update(shard["records"])
                for allow_html, rendered in shard["markdown"].items():
                    markdown[allow_html].update(rendered)
            self.loader.restore(records)
            self._shards, self._stale_shards = dict(state["shards"]), set()
            self.markdown = markdown
            self._markdown_live = max(map(len, self.markdown.values()))
            self._inputs_unread = True
            self._moved = None
        except Exception:  # missing or damaged: rebuild every page once
            self.loader.known, self.deps, self.fragments, self.base = {}, DepState(), {}, ""
            self._shards, self._stale_shards = {}, None

    def _read_part(
        self, path: Path, handle: IO[bytes] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """A part of the cache the manifest names (by its token; or named by `token`, as
        the inputs file by its changes); ValueError if another. (From `handle` when
        given: a file whose first pickle is the header.)"""
        if handle is None:
            with open(path, "rb") as handle:
                return self._read_part(path, handle, token)
        state = unpickle(handle)
        if state.get("version") != CACHE_VERSION or state.get("token") != (token or self._token):
            raise ValueError(f"{path.name} is not the one its cache names")
        return state

    def _load_inputs(self) -> None:
        """Each page's inputs and each record's briefing.json text, as the last build saved them."""
        if not self._inputs_unread:
            return
        self._inputs_unread = False
        self._inputs_written = None
        try:
            # The changes name the inputs file they apply to; the manifest names them.
            with open(self._changes_file(), "rb") as changes:
                token = self._read_part(self._changes_file(), changes)["inputs"]
                with open(self._inputs_file(), "rb") as handle:
                    self._read_part(self._inputs_file(), handle, token)
                    deps, fragments = read_inputs(handle)
                written = WrittenInputs.of(token, fragments)
                self.fragments = apply_changes(changes, deps, fragments)
                self.deps, self._inputs_written = deps, written
        except Exception:  # missing or damaged: every page is made again
            self.deps, self.fragments, self.base = DepState(), {}, ""

    @property
    def unsaved(self) -> bool:
        """Whether a build since the last save left something for `save()` to write."""
        return self._unsaved and self.cache_file is not None

    def save(self) -> None:
        """Write the cache now, if a build since the last save has not (see `autosave`)."""
        if not self._unsaved or self.cache_file is None:
            return
        with exclusive(self.root / CACHE_DIR / f"{self._key()}.lock"):
            self._save()

    def _save(self) -> None:
        self._unsaved = False
        if self.cache_file is None:
            return
        if self._site is not None:
            cache = self.markdown[self._site.config.allow_html]
            if len(cache) > self._markdown_live * 1.25 + self.MARKDOWN_SLACK:  # counted when it grew
                self._prune_markdown(self._site, markdown_texts(self._site))
        self._load_inputs()  # a build that failed before it needed them saves them as they were
        make_cache_dir(self.cache_file.parent)
        self._token = os.urandom(8).hex()
        bulk = {
            "version": CACHE_VERSION,
            "token": self._token,
            "shards": self._save_shards(),
        }
        # Apart from the rest: a build that remakes every page never reads them.
        self._save_inputs()
        self._write_state(self._bulk_file(), bulk)
        # The manifest last: it names the others by their token. Its snapshot is taken
        # only now, as the inputs' tables are freed (at 100,000 stories, 36 MB that
        # were alive beside them, at a cold build's peak of memory).
        manifest = {
            "version": CACHE_VERSION,
            "token": self._token,
            "files": self.files,
            "base": self.base,
            "snapshot": self.snapshot,
            "pending": (self.pending, self._pending_changed),
        }
        self._write_state(self.cache_file, manifest)
        owner = self.cache_file.with_suffix(".out")
        if not owner.is_file():
            owner.write_text(str(self.out) + "\n", encoding="utf-8")
        for stale in self.cache_file.parent.glob(f"{self._key()}.records-*.pickle"):
            if stale.name not in self._shards.values():
                stale.unlink(missing_ok=True)
        prune_caches(self.cache_file.parent)

    def _save_inputs(self) -> None:
        """The changes to the page inputs since they were last written whole; or, when
        they are too many or not known, the inputs whole and no changes."""
        changes = changes_since(self.deps, self.fragments, self._inputs_written)
        if changes is not None and not self._inputs_file_is(self._inputs_written):
            changes = None  # another process wrote it whole since: changes would not fit it
        if changes is None:
            header = {"version": CACHE_VERSION, "token": self._token}
            whole = self._inputs_file()
            self._write_state(whole, header, lambda handle: write_inputs(handle, self.deps, self.fragments))
            # A builder that builds again writes only the changes since, at its next save.
            self._inputs_written = WrittenInputs.of(self._token, self.fragments) if self.keep_views else None
            self.deps.journal = Journal() if self.keep_views else None
            changes, inputs_token = NO_CHANGES, self._token
        else:
            assert self._inputs_written is not None
            inputs_token = self._inputs_written.token
        header = {"version": CACHE_VERSION, "token": self._token, "inputs": inputs_token}
        self._write_state(self._changes_file(), header, lambda handle: write_changes(handle, changes))

    def _inputs_file_is(self, written: WrittenInputs | None) -> bool:
        """Whether the inputs file is still the one `written` describes (its header's token)."""
        if written is None:
            return False
        try:
            self._read_part(self._inputs_file(), token=written.token)
        except Exception:  # another's, missing or damaged
            return False
        return True

    def _write_state(
        self, target: Path, state: dict[str, Any], more: Callable[[IO[bytes]], None] | None = None
    ) -> None:
        """Write `state` (and then what `more` writes) to `target`, whole or not at all."""
        temp = target.with_suffix(f".tmp-{os.getpid()}")
        with open(temp, "wb") as handle:
            pickle.dump(state, handle, protocol=5)
            if more is not None:
                more(handle)
        os.replace(temp, target)

    def _prune_markdown(self, site: Site, texts: list[str]) -> None:
        """Forget the rendered texts no record has any more: each edit of a text adds
        one, and a long serve session would otherwise grow the cache for good."""
        cache = self.markdown[site.config.allow_html]
        live = set(texts)
        for text in [text for text in cache if text not in live]:
            del cache[text]  # in place: a warm-up's renderer shares this dict
        self._markdown_live = len(cache)

    def _rendered_texts(self, states: Iterable[tuple[Any, str, Any]]) -> dict[bool, dict[str, str]]:
        """The cache's rendered Markdown of the texts of these files' records (loader states)."""
        found: dict[bool, dict[str, str]] = {}
        for allow_html, cache in self.markdown.items():
            if cache:
                found[allow_html] = {t: cache[t] for t in _texts_of(states) if t in cache}
        return found

    def _shards_newly_rendered(self, parts: dict[int, dict[str, Any]], stale: set[int]) -> set[int]:
        """The shards, of those not `stale`, with a record whose text was rendered since
        the last save. Most new texts are in a changed file, whose shard is stale
        anyway: the other shards are looked through only for those that are not."""
        if not self._new_renders or len(stale) == len(parts):
            return set()
        outside = self._new_renders.difference(*(_texts_of(parts[index].values()) for index in stale))
        if not outside:
            return set()
        return {i for i in parts if i not in stale and not outside.isdisjoint(_texts_of(parts[i].values()))}

    def _save_shards(self) -> dict[int, str]:
        """Write the parsed records' shards that changed since the last save (each
        in a file of its own name); the names of all of them.

        A shard holds its records' rendered Markdown too, in the same pickle: read
        back, each text is then one string shared by its record and the Markdown
        cache (95 MB at 100,000 stories, were they apart). A shard whose files did
        not change is written again when a text of its records was rendered since
        the last save (after `allow_html` changed, every text is).
        """
        assert self.cache_file is not None
        stale = set(range(RECORD_SHARDS)) if self._stale_shards is None else set(self._stale_shards)
        parts: dict[int, dict[str, Any]] = {index: {} for index in range(RECORD_SHARDS)}
        for path, state in self.loader.state().items():
            parts[shard_of(path)][path] = state
        stale |= self._shards_newly_rendered(parts, stale)
        self._new_renders.clear()
        for index in stale:
            records = parts[index]
            rendered = self._rendered_texts(records.values())
            name = f"{self._key()}.records-{index}-{os.urandom(6).hex()}.pickle"
            target = self.cache_file.parent / name
            temp = target.with_suffix(f".tmp-{os.getpid()}")
            with open(temp, "wb") as handle:
                pickle.dump({"name": name, "records": records, "markdown": rendered}, handle, protocol=5)
            os.replace(temp, target)
            self._shards[index] = name
        self._stale_shards = set()
        return dict(self._shards)


def markdown_texts(site: Site) -> list[str]:
    """Every Markdown text in the published records (to render ahead, in parallel)."""
    return [
        text
        for kind in KINDS
        for record in site.records[kind].values()
        for text in markdown_values(record.kind, record.values)
    ]


def _texts_of(states: Iterable[tuple[Any, str, Any]]) -> Iterator[str]:
    """The Markdown texts of the records of these files (the loader's states)."""
    return (
        text
        for _, _, result in states
        for record in result.records
        for text in markdown_values(record.kind, record.values)
    )
