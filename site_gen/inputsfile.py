"""The cache's file of page inputs: each page's inputs (incremental.DepState)
and the inputs of each record's briefing.json text, with where the text is in
the briefing.json last written (produce.Fragments).

Pickled whole, they were half a million objects, and the pickler's memo (a
table of every object written, grown by doubling) reached 24 MB at the end of
a 10,000-story build: the peak of a build that changes one story. So the file
is a run of pickles, each with a memo of its own, freed before the next:

  1. the values of the inputs that have one, in parts of `CHUNK`;
  2. each page's inputs, as numbers into the table of inputs (`array`s,
     which pickle as bytes), `PAGES_PART` pages at a time;
  3. each group's inputs, as numbers, and the records' fingerprints;
  4. where each record's text is in briefing.json, and its inputs as numbers;
  5. the table of inputs (each once, those with a value first, in the
     values' order), in parts of `CHUNK`.

The table comes last because numbering may add to it (an input without a
value), and so the pages' numbers are written as they are made rather than
held for the whole site (44 MB at 100,000 stories, at a cold build's peak).

Read back, a page's inputs are a tuple of the table's keys (see DepState), and
the pages that use each input are worked out only when a build needs them.

Written whole, the file took 0.2 s of a one-story edit's `build` at 10,000
stories, and 5 s at 100,000, to say that a few pages changed. So a save after
a few edits writes only what changed since the file was last written whole
(the state's Journal, and the records' texts whose inputs are not the file's)
to a second, small file: the changes (`write_changes`). Reading applies them
to what the inputs file holds (`apply_changes`). The changes are cumulative,
always against the inputs file, and once they would hold more than a
`CHANGES_SHARE`th of the pages, inputs or records' texts, the save writes the
inputs file whole again and the changes empty.
"""

from __future__ import annotations

import pickle
from array import array
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from itertools import chain
from typing import IO, TYPE_CHECKING, Any

from .cache import unpickle
from .incremental import DepState, Key

if TYPE_CHECKING:
    from .produce import Fragments

_NUMBER = "I"  # unsigned, at least 4 bytes: room for 4 billion inputs
# The two long lists go in parts of this many items, each pickled with a memo of its
# own: pickled whole at 100,000 stories (830,000 inputs), each list's memo took 60-70 MB
# at the end of a cold build, where its memory peaks. Smaller parts share fewer strings
# read back (32,768: 7% more memory held at 10,000 stories, and 10% slower to read).
CHUNK = 262_144
# Pages whose inputs are numbered and pickled together: at 100,000 stories a page has
# about 90 inputs, so a part's numbers take about 6 MB.
PAGES_PART = 16_384
# The changes since the inputs file was written whole may reach this share (one in
# CHANGES_SHARE) of its pages, inputs or records' texts; beyond, it is written whole.
CHANGES_SHARE = 8


def write_inputs(handle: IO[bytes], deps: DepState, fragments: Fragments) -> None:
    """Write `deps` and `fragments` to `handle` (read back by read_inputs)."""
    _dump_in_parts(handle, list(deps.values.values()))  # before the table: their memos apart
    table = _Table(deps.values)
    pages = list(deps.deps)
    pickle.dump(len(pages), handle, protocol=5)
    inputs_of = deps.deps.__getitem__
    for start in range(0, len(pages), PAGES_PART):
        part = pages[start : start + PAGES_PART]
        pickle.dump((part, *table.numbered(map(inputs_of, part))), handle, protocol=5)
    groups = list(deps.groups)
    pickle.dump((groups, *table.numbered(deps.groups.values()), deps.fps), handle, protocol=5)
    records = list(fragments)
    spans = array("Q", [where for _, where in fragments.values()])
    record_inputs = table.numbered(keys for keys, _ in fragments.values())
    pickle.dump((records, spans, *record_inputs), handle, protocol=5)
    table.numbering_done()
    _dump_in_parts(handle, table.keys)


def read_inputs(handle: IO[bytes]) -> tuple[DepState, Fragments]:
    """The state and fragments write_inputs wrote; ValueError if the file is not whole."""
    values: list[Any] = _load_in_parts(handle)
    count: int = unpickle(handle)
    pages: list[str] = []
    numbered: list[tuple[array[int], array[int]]] = []
    while len(pages) < count:
        part, ends, run = unpickle(handle)
        if not part or len(part) != len(ends):
            raise ValueError("the inputs file ends before its pages do")
        pages += part
        numbered.append((ends, run))
    groups, group_ends, group_inputs, fps = unpickle(handle)
    records, spans, record_ends, record_inputs = unpickle(handle)
    keys: list[Key] = _load_in_parts(handle)
    if not (len(values) <= len(keys) and len(groups) == len(group_ends) and len(records) == len(spans)):
        raise ValueError("the inputs file does not hold what its parts say")
    take = keys.__getitem__
    deps = dict(zip(pages, chain.from_iterable(_keys_of(take, ends, run) for ends, run in numbered)))
    by_group = dict(zip(groups, _keys_of(take, group_ends, group_inputs)))
    valued = dict(zip(keys, values))
    _share_fingerprints(fps, valued)
    state = DepState.restored(deps, valued, by_group, fps)
    fragments = dict(zip(records, zip(_keys_of(take, record_ends, record_inputs), spans)))
    return state, fragments


def _share_fingerprints(fps: dict[tuple[str, str], str], valued: dict[Key, Any]) -> None:
    """Make each record's fingerprint the same string as its ("rec", kind, id) input's
    value, which it equals: read back from parts pickled apart, they were two copies
    (14 MB at 100,000 stories)."""
    value_of = valued.get
    for record, fingerprint in fps.items():
        same = value_of(("rec", *record))
        if same == fingerprint:
            fps[record] = same


def _dump_in_parts(handle: IO[bytes], items: list[Any]) -> None:
    pickle.dump(len(items), handle, protocol=5)
    for start in range(0, len(items), CHUNK):
        pickle.dump(items[start : start + CHUNK], handle, protocol=5)


def _load_in_parts(handle: IO[bytes]) -> list[Any]:
    count: int = unpickle(handle)
    items: list[Any] = []
    while len(items) < count:
        part = unpickle(handle)
        if not part:
            raise ValueError("the inputs file ends before its lists do")
        items += part
    return items


class _Table:
    """Each input once, numbered: those with a value first, in the values' order.

    Looked up by value: numbering by object identity instead (the pages share the
    builder's key objects) was no quicker at 10,000 stories, and its table of ids
    took a fifth more memory (10 MB against 8 MB while the pages' inputs are
    numbered; the save is where a cold build's memory peaks). At 100,000 stories
    numbering takes 4.4 s of a 12 s save; by identity was not timed there.
    """

    def __init__(self, valued: Iterable[Key]) -> None:
        self.keys = list(valued)
        self._number = dict(zip(self.keys, range(len(self.keys))))

    def numbered(self, lists: Iterable[Collection[Key]]) -> tuple[array[int], array[int]]:
        """Each list's end in the run of numbers, and the run itself."""
        ends, run = array(_NUMBER), array(_NUMBER)
        number = self._number
        for keys in lists:
            try:
                run.extend(map(number.__getitem__, keys))
            except KeyError:  # an input without a value
                del run[ends[-1] if ends else 0 :]
                run.extend(map(self._add, keys))
            ends.append(len(run))
        return ends, run

    def numbering_done(self) -> None:
        """Free the lookup before the parts are pickled."""
        self._number = {}

    def _add(self, key: Key) -> int:
        found = self._number.get(key)
        if found is None:
            found = self._number[key] = len(self.keys)
            self.keys.append(key)
        return found


def _keys_of(take: Any, ends: array[int], run: array[int]) -> Iterable[tuple[Key, ...]]:
    start = 0
    for end in ends:
        yield tuple(map(take, run[start:end]))
        start = end


@dataclass
class WrittenInputs:
    """What a save needs to know of the inputs file as written whole: its token
    (the changes name it), and each record's text inputs in the file's order: a
    record whose inputs are still that very tuple (see Builder._canonical_fragments)
    has not changed."""

    token: str
    records: list[tuple[str, str]]
    inputs: list[tuple[Key, ...]]

    @classmethod
    def of(cls, token: str, fragments: Fragments) -> WrittenInputs:
        return cls(token, list(fragments), [keys for keys, _ in fragments.values()])


# What write_changes writes: each changed page's inputs (None: no longer made), the
# inputs valued anew and those no longer in use, the changed records' fingerprints
# (None: gone), the records in order (None: the inputs file's order), the changed
# records' text inputs, and where every record's text is (None: where the inputs file says).
Changes = tuple[
    dict[str, "tuple[Key, ...] | None"],
    dict[Key, Any],
    list[Key],
    dict[tuple[str, str], "str | None"],
    "list[tuple[str, str]] | None",
    dict[tuple[str, str], tuple[Key, ...]],
    "array[int] | None",
]

NO_CHANGES: Changes = ({}, {}, [], {}, None, {}, None)


def changes_since(deps: DepState, fragments: Fragments, written: WrittenInputs | None) -> Changes | None:
    """What changed since the inputs file `written` was written whole, or None when
    that is not known or too much (then the file is to be written whole again)."""
    journal = deps.journal
    if journal is None or written is None:
        return None
    share = CHANGES_SHARE
    if len(journal.pages) * share > len(deps.deps) or len(journal.values) * share > len(deps.values):
        return None
    records = list(fragments)
    order = None if records == written.records else records
    if order is None:
        texts = {
            record: keys
            for record, (keys, _), kept in zip(records, fragments.values(), written.inputs)
            if keys is not kept
        }
    else:
        kept = dict(zip(written.records, written.inputs))
        texts = {record: keys for record, (keys, _) in fragments.items() if kept.get(record) is not keys}
    if len(texts) * share > max(len(records), 1):
        return None
    values, pages = deps.values, deps.deps
    return (
        {path: _as_tuple(pages.get(path)) for path in journal.pages},
        {key: values[key] for key in journal.values if key in values},
        [key for key in journal.values if key not in values],
        {record: deps.fps.get(record) for record in journal.records},
        order,
        texts,
        array("Q", [where for _, where in fragments.values()]),
    )


def _as_tuple(keys: Collection[Key] | None) -> tuple[Key, ...] | None:
    return keys if keys is None or isinstance(keys, tuple) else tuple(keys)


def write_changes(handle: IO[bytes], changes: Changes) -> None:
    """Write `changes` (from changes_since, or NO_CHANGES) to `handle`."""
    pickle.dump(changes, handle, protocol=5)


def apply_changes(handle: IO[bytes], deps: DepState, fragments: Fragments) -> Fragments:
    """Apply the changes write_changes wrote to the state and fragments read from
    the inputs file; the fragments as they are now. ValueError if they do not fit."""
    pages, values, unvalued, fps, order, texts, spans = unpickle(handle)
    if spans is None:
        if order is not None or texts:
            raise ValueError("the inputs' changes do not say where the records' texts are")
        deps.replay(pages, values, unvalued, fps)
        return fragments
    records = list(fragments) if order is None else order
    if len(records) != len(spans):
        raise ValueError("the inputs' changes do not match the inputs file")
    # In the same order, patched in place: a second table of every record's text would
    # hold about 27 MB more at 100,000 stories (estimated), where a one-story build's
    # memory peaks.
    now: Fragments = fragments if order is None else {}
    for record, where in zip(records, spans):
        kept = fragments.get(record)
        keys = texts.get(record)
        if keys is None:
            if kept is None:
                raise ValueError("the inputs' changes name a record the inputs file does not have")
            keys = kept[0]
        if kept is None or kept[0] is not keys or kept[1] != where or now is not fragments:
            now[record] = (keys, where)
    deps.replay(pages, values, unvalued, fps)
    return now
