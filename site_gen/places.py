"""Where two long lists differ: the builders keep lists of thousands of records
between builds, and an edit changes a few places in them."""

from __future__ import annotations

from typing import Any


def differing_places(old: list[Any], new: list[Any], at_most: int) -> list[int] | None:
    """The places where two lists of the same length differ (compared with ==: give ids
    to compare objects), in order; None when more than `at_most` do. Halves by
    halves, so that a few changes in ten thousand places cost a few slice compares,
    which run in C, rather than a loop over every place."""
    found: list[int] = []
    todo = [(0, len(new))]
    while todo:
        low, high = todo.pop()
        if old[low:high] == new[low:high]:
            continue
        if high - low <= 16:
            found += [place for place in range(low, high) if old[place] != new[place]]
            if len(found) > at_most:
                return None
            continue
        middle = (low + high) // 2
        todo += [(middle, high), (low, middle)]
    return sorted(found)
