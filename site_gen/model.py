"""The in-memory model: records, the site's settings and the linked site.

Pure data, no I/O: the loader fills it, the index links it, the views read it.
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from .dates import PartialDate

_COL_BITS = 20
_COL_MASK = (1 << _COL_BITS) - 1


def pack_mark(line: int, col: int) -> int:
    """A field's line and column as one int: records keep one per field and list
    item, for the messages of later checks, and a tuple of two ints costs three
    objects (at 10,000 stories, 230,000 marks)."""
    return line << _COL_BITS | min(col, _COL_MASK)


def item_key(key: str, index: int) -> str:
    """A list item's field path, such as "topics.1": one string shared by every record."""
    return sys.intern(f"{key}.{index}")


_SETTING = "\0setting"  # in a record's memo: the setting its setting-bound values were worked out under
_SHAPES: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per set of field paths


def pack_marks(marks: dict[str, int]) -> tuple[tuple[str, ...], bytes]:
    """A record's marks (field path: packed mark) as its field paths, one tuple shared
    by every record with the same paths, and the packed marks as bytes. A dict of
    marks was a dict, a string and an int object per field: about 1 kB a record,
    against about 110 bytes this way."""
    names = tuple(marks)
    return _SHAPES.setdefault(names, names), struct.pack(f"<{len(names)}Q", *marks.values())


@dataclass(slots=True)
class Record:
    """One validated record as the editor wrote it.

    `values` holds converted field values (defaults filled in). `mark(path)`
    gives the (line, col) of a field path such as "topics", "topics.1" or
    "source.url": `mark_names` holds the paths and `mark_spots` their packed
    marks (see pack_marks).
    """

    kind: str
    id: str
    values: dict[str, Any]
    path: str
    line: int
    col: int
    mark_names: tuple[str, ...] = ()
    mark_spots: bytes = b""
    # What every build works out again from the record alone (its date-order key, its
    # years...), kept on it: a record is the same object from build to build while its
    # file is unchanged. See `derived`.
    memo: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # Its fields in a tuple, not a dict per record, and the field paths as the one
        # shared tuple, so each pickle holds it once.
        names = _SHAPES.setdefault(self.mark_names, self.mark_names)
        fields = (self.kind, self.id, self.values, self.path, self.line, self.col)
        return (Record, (*fields, names, self.mark_spots, self.memo))

    @property
    def draft(self) -> bool:
        return bool(self.values.get("draft"))

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def mark(self, key: str) -> tuple[int, int]:
        """The position of a field path, falling back to its field, then to the record."""
        names = self.mark_names
        for wanted in (key, key.split(".")[0]):
            if wanted in names:
                (found,) = struct.unpack_from("<Q", self.mark_spots, 8 * names.index(wanted))
                return found >> _COL_BITS, found & _COL_MASK
        return self.line, self.col

    @property
    def date(self) -> PartialDate | None:
        return self.values.get("date") or self.values.get("raised")

    def derived(self, setting: str) -> dict[str, Any]:
        """A place for values worked out from this record alone: under one `setting`
        (a timezone's name), or under none (""). One dict for both, since three
        dicts a record cost megabytes: the names of the two sorts must differ, and
        values taken under another setting are dropped (all of them)."""
        memo = self.memo
        if memo is None:
            memo = self.memo = {}
        if setting and memo.get(_SETTING) != setting:
            if _SETTING in memo:
                memo.clear()
            memo[_SETTING] = setting
        return memo


@dataclass(frozen=True)
class SiteConfig:
    """site.yaml, validated, with defaults filled in."""

    title: str
    base_url: str
    description: str | None = None
    language: str = "en"
    timezone: str = "UTC"
    allow_html: bool = False
    cname: str | None = None
    recent_days: int = 7
    stale_after_days: int = 30
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The URL path the site is served under, always ending in '/'."""
        rest = self.base_url.split("://", 1)[1]
        return "/" + rest.split("/", 1)[1] if "/" in rest else "/"

    def with_base_url(self, base_url: str | None) -> SiteConfig:
        if not base_url:
            return self
        from dataclasses import replace

        return replace(self, base_url=base_url if base_url.endswith("/") else base_url + "/")


@dataclass(frozen=True)
class BuildOptions:
    """What a check, build or serve is asked to do."""

    as_of: date
    drafts: bool = False
    strict: bool = False
    base_url: str | None = None
