"""The cache's file of page inputs: each page's inputs (incremental.DepState)
and the inputs of each record's briefing.json text, with where the text is in
the briefing.json last written (produce.Fragments).

Pickled whole, they were half a million objects, and the pickler's memo (a
table of every object written, grown by doubling) reached 24 MB at the end of
a 10,000-story build: the peak of a build that changes one story. So the file
is a run of pickles, each with a memo of its own, freed before the next:

  1. the table of inputs (each once);
  2. their values, in the table's order;
  3. each page's and each group's inputs, as numbers into the table
     (`array`s, which pickle as bytes), and the records' fingerprints;
  4. where each record's text is in briefing.json, and its inputs as numbers.

Read back, a page's inputs are a tuple of the table's keys (see DepState), and
the pages that use each input are worked out only when a build needs them.
"""

from __future__ import annotations

import pickle
from array import array
from collections.abc import Collection, Iterable
from typing import IO, TYPE_CHECKING, Any

from .cache import unpickle
from .incremental import DepState, Key

if TYPE_CHECKING:
    from .produce import Fragments

_NUMBER = "I"  # unsigned, at least 4 bytes: room for 4 billion inputs


def write_inputs(handle: IO[bytes], deps: DepState, fragments: Fragments) -> None:
    """Write `deps` and `fragments` to `handle` (read back by read_inputs)."""
    table = _Table(deps.values)
    pages = list(deps.deps)
    page_inputs = table.numbered(deps.deps.values())
    groups = list(deps.groups)
    group_inputs = table.numbered(deps.groups.values())
    records = list(fragments)
    spans = array("Q", [where for _, where in fragments.values()])
    record_inputs = table.numbered(keys for keys, _ in fragments.values())
    parts = (
        table.keys,
        list(deps.values.values()),
        (pages, *page_inputs, groups, *group_inputs, deps.fps),
        (records, spans, *record_inputs),
    )
    for part in parts:
        pickle.dump(part, handle, protocol=5)


def read_inputs(handle: IO[bytes]) -> tuple[DepState, Fragments]:
    """The state and fragments write_inputs wrote; ValueError if the file is not whole."""
    keys: list[Key] = unpickle(handle)
    values: list[Any] = unpickle(handle)
    pages, page_ends, page_inputs, groups, group_ends, group_inputs, fps = unpickle(handle)
    records, spans, record_ends, record_inputs = unpickle(handle)
    if not (len(values) <= len(keys) and len(pages) == len(page_ends) and len(records) == len(spans)):
        raise ValueError("the inputs file does not hold what its parts say")
    take = keys.__getitem__
    deps = dict(zip(pages, _keys_of(take, page_ends, page_inputs)))
    by_group = dict(zip(groups, _keys_of(take, group_ends, group_inputs)))
    state = DepState.restored(deps, dict(zip(keys, values)), by_group, fps)
    fragments = dict(zip(records, zip(_keys_of(take, record_ends, record_inputs), spans)))
    return state, fragments


class _Table:
    """Each input once, numbered: those with a value first, in the values' order.

    Inputs are looked up by identity first: the pages of a build share the
    builder's key objects (Builder._canonical_inputs), so the 600,000 inputs of
    a 10,000-story site's pages are numbered without hashing each tuple again.
    A key object not in the table is looked up by value.
    """

    def __init__(self, valued: Iterable[Key]) -> None:
        self.keys = list(valued)
        # Every key here is held by self.keys or by the lists being numbered, so no
        # other object can have its id while the table lives.
        self.by_id = {id(key): at for at, key in enumerate(self.keys)}
        self._by_value: dict[Key, int] | None = None  # made only if a key is not found by id

    def numbered(self, lists: Iterable[Collection[Key]]) -> tuple[array[int], array[int]]:
        """Each list's end in the run of numbers, and the run itself."""
        ends, run = array(_NUMBER), array(_NUMBER)
        by_id = self.by_id
        for keys in lists:
            try:
                run.extend(map(by_id.__getitem__, map(id, keys)))
            except KeyError:  # an equal key of another object, or an input without a value
                del run[ends[-1] if ends else 0 :]
                run.extend(map(self._add, keys))
            ends.append(len(run))
        return ends, run

    def _add(self, key: Key) -> int:
        if self._by_value is None:
            self._by_value = {key: at for at, key in enumerate(self.keys)}
        found = self._by_value.get(key)
        if found is None:
            found = self._by_value[key] = len(self.keys)
            self.keys.append(key)
        self.by_id[id(key)] = found
        return found


def _keys_of(take: Any, ends: array[int], run: array[int]) -> Iterable[tuple[Key, ...]]:
    start = 0
    for end in ends:
        yield tuple(map(take, run[start:end]))
        start = end
