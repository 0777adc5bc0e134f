"""What each output file was made from, so a rebuild redoes only what changed.

While a page's view is built, the site and the URL map it sees are tracked
stand-ins that note every input the page asks for: a record ("rec"), all
records of a kind ("all"), a topic's records ("topic"), a record's backlinks
("back"), a record's topics ("topics_of"), related topics, a record's URL,
the archive years. The next build recomputes the value of every noted input
and rebuilds exactly the files one of whose inputs changed. Anything the
stand-ins do not know is noted as EVERYTHING, which changes with any record:
when unsure, rebuild.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from itertools import chain, count
from typing import Any, Callable, Collection, Iterable, Iterator

from .index import Site, kept_references
from .model import Record
from .places import FindMoved, moved_places
from .routes import (
    OPEN_QUESTIONS,
    TIMELINE_KINDS,
    TOPIC_LIST,
    Urls,
    quote_months_of,
    timeline_months_of,
    timeline_years_of,
    year_of,
)

Key = tuple[str, ...]
EVERYTHING: Key = ("everything",)
ROUTES: Key = ("routes",)


class Tracker:
    """The inputs noted since the last `take()`."""

    def __init__(self) -> None:
        self.keys: set[Key] = set()

    def add(self, key: Key) -> None:
        self.keys.add(key)

    def records(self, records: Iterable[Record]) -> None:
        self.keys.update(("rec", r.kind, r.id) for r in records)

    def take(self) -> frozenset[Key]:
        keys, self.keys = frozenset(self.keys), set()
        return keys


class _KindRecords:
    """`site.records[kind]`: a lookup notes the record, a walk notes the kind."""

    def __init__(self, kind: str, records: dict[str, Record], tracker: Tracker) -> None:
        self.kind, self._records, self._tracker = kind, records, tracker

    def __getitem__(self, record_id: str) -> Record:
        self._tracker.add(("rec", self.kind, record_id))
        return self._records[record_id]

    def get(self, record_id: str, default: Any = None) -> Any:
        self._tracker.add(("rec", self.kind, record_id))
        return self._records.get(record_id, default)

    def __contains__(self, record_id: object) -> bool:
        self._tracker.add(("rec", self.kind, str(record_id)))
        return record_id in self._records

    def _all(self) -> dict[str, Record]:
        self._tracker.add(("all", self.kind))
        return self._records

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def keys(self) -> Any:
        return self._all().keys()

    def values(self) -> Any:
        return self._all().values()

    def items(self) -> Any:
        return self._all().items()


class _Lookup:
    """A dict of the index (topics_of, related): a lookup notes its key."""

    def __init__(self, name: str, data: dict[Any, Any], tracker: Tracker) -> None:
        self.name, self._data, self._tracker = name, data, tracker

    def _note(self, key: Any) -> None:
        self._tracker.add((self.name, *key) if isinstance(key, tuple) else (self.name, key))

    def __getitem__(self, key: Any) -> Any:
        self._note(key)
        return self._data[key]

    def get(self, key: Any, default: Any = None) -> Any:
        self._note(key)
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return key in self._data

    def __getattr__(self, name: str) -> Any:
        self._tracker.add(EVERYTHING)
        return getattr(self._data, name)


class TrackedSite:
    """The `Site` a page sees while its inputs are noted."""

    def __init__(self, site: Site, tracker: Tracker) -> None:
        self._site, self._tracker = site, tracker
        self.root, self.config, self.options = site.root, site.config, site.options
        self.records = {kind: _KindRecords(kind, recs, tracker) for kind, recs in site.records.items()}
        self.topics_of = _Lookup("topics_of", site.topics_of, tracker)
        self.related = _Lookup("related", site.related, tracker)
        # Pure functions of the records they are given (and of the settings).
        self.label, self.sort_key, self.sorted = site.label, site.sort_key, site.sorted
        self.is_overdue, self.timeline_points = site.is_overdue, site.timeline_points

    def get(self, kind: str, record_id: str) -> Record | None:
        self._tracker.add(("rec", kind, record_id))
        return self._site.get(kind, record_id)

    def all(self, kind: str) -> list[Record]:
        self._tracker.add(("all", kind))
        return self._site.all(kind)

    def linked(self, record: Record, kind: str) -> list[Record]:
        self._tracker.add(("back", record.kind, record.id, kind))
        found = self._site.linked(record, kind)
        self._tracker.records(found)
        return found

    def topic_records(self, topic_id: str, kind: str) -> list[Record]:
        self._tracker.add(("topic", topic_id, kind))
        found = self._site.topic_records(topic_id, kind)
        self._tracker.records(found)
        return found

    def record_topics(self, record: Record) -> list[Record]:
        self._tracker.add(("topics_of", record.kind, record.id))
        found = self._site.record_topics(record)
        self._tracker.records(found)
        return found

    def __getattr__(self, name: str) -> Any:  # anything else: depend on everything
        self._tracker.add(EVERYTHING)
        return getattr(self._site, name)


class TrackedUrls:
    """The `Urls` a page sees: a record's URL is noted with its value."""

    def __init__(self, urls: Urls, site: TrackedSite, tracker: Tracker) -> None:
        self._urls, self._tracker, self.site = urls, tracker, site

    def record(self, kind: str, record_id: str) -> str:
        self._tracker.add(("url", kind, record_id))
        return self._urls.record(kind, record_id)

    def _years(self, name: str) -> None:
        self._tracker.add(("years", name))

    def list_path(self, name: str) -> str:
        return self._urls.list_path(name)

    def years(self, kind: str) -> list[int]:
        self._years(kind)
        return self._urls.years(kind)

    def cutoff(self, kind: str) -> int | None:
        self._years(kind)
        return self._urls.cutoff(kind)

    def archived(self, kind: str) -> list[int]:
        self._years(kind)
        return self._urls.archived(kind)

    def archive(self, kind: str, year: int) -> str:
        self._years(kind)
        return self._urls.archive(kind, year)

    @property
    def quote_years(self) -> list[int]:
        self._years("quotes")
        return self._urls.quote_years

    @property
    def timeline_years(self) -> list[int]:
        self._years("timeline")
        return self._urls.timeline_years

    def in_year(self, kind: str, year: int) -> list[Record]:
        self._tracker.add(("in_year", kind, str(year)))
        found = self._urls.in_year(kind, year)
        self._tracker.records(found)
        return found

    def _months(self, kind: str, year: int) -> None:
        # Which months a year has pages for: they change with the records in the
        # year (which ones, not what they say) and with the months those are in.
        self._tracker.add(("in_year", kind, str(year)))
        self._tracker.add(("months", kind, str(year)))

    def months(self, kind: str, year: int) -> list[int]:
        self._months(kind, year)
        return self._urls.months(kind, year)

    def month_cutoff(self, kind: str, year: int) -> int:
        self._months(kind, year)
        return self._urls.month_cutoff(kind, year)

    def month_path(self, kind: str, year: int, month: int) -> str:
        return self._urls.month_path(kind, year, month)

    def in_month(self, kind: str, year: int, month: int) -> list[Record]:
        self._tracker.add(("in_month", kind, f"{year}-{month}"))
        found = self._urls.in_month(kind, year, month)
        self._tracker.records(found)
        return found

    def letters(self, kind: str) -> list[str]:
        self._tracker.add(("letters", kind))
        return self._urls.letters(kind)

    def letter_path(self, kind: str, letter: str) -> str:
        return self._urls.letter_path(kind, letter)

    def in_letter(self, kind: str, letter: str) -> list[Record]:
        self._tracker.add(("in_letter", kind, letter))
        found = self._urls.in_letter(kind, letter)
        self._tracker.records(found)
        return found

    def __getattr__(self, name: str) -> Any:
        self._tracker.add(EVERYTHING)
        return getattr(self._urls, name)


_LIST_VERSIONS = count()


class KeptList:
    """One view per record of a list, kept by a ViewMemo between builds (see SharedViews.each).

    `stale`: the records whose view the memo forgot since.
    """

    def __init__(self, name: str, records: list[Any], values: list[Any], deps: set[Key]) -> None:
        self.name, self.records, self.values, self.deps = name, records, values, deps
        self.places = {(record.kind, record.id): place for place, record in enumerate(records)}
        self.stale: set[tuple[str, str]] = set()
        # Another number each time a view in it is another object (see SharedViews.each_then).
        self.version = next(_LIST_VERSIONS)

    def patch(self, places: list[int], values: list[Any]) -> None:
        """Put `values` at `places`: a new version if one is another object."""
        kept = self.values
        moved = False
        for place, value in zip(places, values):
            if value is not kept[place]:
                kept[place] = value
                moved = True
        if moved:
            self.version = next(_LIST_VERSIONS)

    def changed(self, records: list[Any], at_most: int, moved: FindMoved = moved_places) -> list[int] | None:
        """The places to make again in `records`; None: make it whole. (`moved`: how
        the places holding other objects are found, see places.PlacesMemo.)"""
        differing = moved(self.records, records, at_most)
        if differing is None:
            return None
        places = set(differing)
        # (forget notes only the records this list holds; one it does not is not at its place)
        places.update(self.places[record] for record in self.stale if record in self.places)
        self.stale = set()
        if len(places) > at_most:
            return None
        for place in places:  # a record edited in place, not one moved (its place is noted)
            old, new = self.records[place], records[place]
            if (old.kind, old.id) != (new.kind, new.id):
                return None
        return sorted(places)


class ViewMemo:
    """Per-record views kept between the builds of one builder (serve's), with the
    inputs each was made from: `forget` drops those a change may have altered.

    Each view is indexed by its inputs and its record, so that forgetting
    looks only at the views a change reaches, not at every view kept.
    """

    def __init__(self, indexed: bool = True) -> None:
        # A view's inputs: a frozenset in a memo kept between builds (serve's), where each
        # reuse adds them to a page's set without hashing them again; else a tuple (a
        # frozenset of one key takes 216 bytes, a tuple 48, and the home page alone makes
        # about four views per record).
        self.views: dict[tuple[str, str, str], tuple[Any, Collection[Key]]] = {}
        self.dates: dict[Any, Any] = {}
        self.groups: dict[Any, Any] = {}  # timeline month groups by their entries (see SharedViews)
        self._indexed = indexed
        self._users: dict[Key, set[tuple[str, str, str]]] = {}
        self._of_record: dict[tuple[str, str], set[tuple[str, str, str]]] = {}
        self.lists: dict[tuple[str, str], KeptList] = {}  # by (user, view name)
        # What a page made of a kept list, with the list's version (see SharedViews.each_then).
        self.derived: dict[tuple[str, str, Any], tuple[int, Any]] = {}
        # A page's timeline entries in order, with the entry lists they came from (by page).
        self.orders: dict[str, tuple[list[Any], list[Any]]] = {}
        # What a list page was last rendered from, by page (see Producer._kept_page).
        self.pages: dict[str, tuple[Any, ...]] = {}
        # Only a memo kept between builds keeps whole lists (a worker's dies with its batch).
        self.keeps_lists = indexed
        # The builder's one object per input key (see Builder._canonical_inputs): a view's
        # inputs made of them let a page's inputs be compared with its last ones by identity.
        self.canon: dict[Key, Key] | None = None

    PATCH_AT_MOST = 64  # records of a kept list made again; more, and it is made whole

    def watch(self, kept: KeptList, user: str) -> None:
        """Keep `kept`, and tell it which of its records' views are forgotten."""
        self.lists[(user, kept.name)] = kept

    def put(self, key: tuple[str, str, str], value: Any, deps: Iterable[Key]) -> tuple[Any, Collection[Key]]:
        keys = deps if self.canon is None else map(self.canon.setdefault, deps, deps)
        inputs = frozenset(keys) if self._indexed else tuple(keys)
        found = self.views[key] = (value, inputs)
        if self._indexed:
            for dep in inputs:
                self._users.setdefault(dep, set()).add(key)
            self._of_record.setdefault((key[1], key[2]), set()).add(key)
        return found

    def clear(self) -> None:
        self.views.clear()
        self.dates.clear()
        self.groups.clear()
        self._users.clear()
        self._of_record.clear()
        self.lists.clear()
        self.derived.clear()
        self.orders.clear()
        self.pages.clear()

    def keep_pages(self, paths: Collection[str]) -> None:
        """Forget the kept views of list pages no longer made (a topic deleted)."""
        if self.pages:
            live = paths if isinstance(paths, (set, frozenset)) else set(paths)
            for path in [path for path in self.pages if path not in live]:
                del self.pages[path]

    def forget(self, changed: set[Key], touched: set[tuple[str, str]]) -> None:
        """Drop the views one of whose inputs changed, and every view of a record whose
        content changed (a record gone or made a draft changed too)."""
        stale: set[tuple[str, str, str]] = set()
        for key in changed:
            stale |= self._users.get(key, set())
        for record in touched:
            stale |= self._of_record.get(record, set())
        if self.lists:
            # Only a record the list holds: one it does not is either not in it now, or
            # new in it and so at a place whose object differs (see KeptList.changed).
            forgotten: dict[str, set[tuple[str, str]]] = {}
            for name, kind, record_id in stale:
                forgotten.setdefault(name, set()).add((kind, record_id))
            for kept in self.lists.values():
                records = forgotten.get(kept.name)
                if records:
                    kept.stale.update(record for record in records if record in kept.places)
        for key in stale:
            _, deps = self.views.pop(key)
            for dep in deps:
                users = self._users.get(dep)
                if users is not None:
                    users.discard(key)
                    if not users:
                        del self._users[dep]
            mine = self._of_record.get((key[1], key[2]))
            if mine is not None:
                mine.discard(key)
                if not mine:
                    del self._of_record[(key[1], key[2])]


class Inputs:
    """The current value of any noted input, for comparison with the last build's."""

    def __init__(
        self,
        site: Site,
        urls: Urls,
        fingerprints: dict[tuple[str, str], str],
        pages: str,
        moved: set[tuple[str, str]] | None = None,
    ) -> None:
        self.site, self.urls, self.fps, self.pages = site, urls, fingerprints, pages
        # The only records whose fingerprint can differ from the last successful build's
        # (None: any can); spares comparing every record's.
        self.moved = moved
        self._kinds: dict[str, str] = {}

    def _kind(self, kind: str) -> str:
        if kind not in self._kinds:
            digest = hashlib.blake2b(digest_size=16)
            for record_id in self.site.records.get(kind, {}):
                digest.update(f"{record_id}\0{self.fps.get((kind, record_id))}\0".encode())
            self._kinds[kind] = digest.hexdigest()
        return self._kinds[kind]

    def value(self, key: Key) -> Any:
        site, tag = self.site, key[0]
        try:
            if tag == "rec":
                return self.fps.get((key[1], key[2])) if key[2] in site.records[key[1]] else None
            if tag == "all":
                return self._kind(key[1])
            if tag == "everything":
                return tuple(self._kind(kind) for kind in site.records)
            if tag == "topic":
                return tuple(r.id for r in site.topic_records(key[1], key[2]))
            if tag == "back":
                return tuple(r.id for r in site.backlinks.get((key[1], key[2]), {}).get(key[3], []))
            if tag == "topics_of":
                return tuple(site.topics_of.get((key[1], key[2]), ()))
            if tag == "related":
                return tuple(site.related.get(key[1], ()))
            if tag == "url":
                return self.urls.record(key[1], key[2])
            if tag == "years":
                years = tuple(self.urls.years(key[1]))
                if key[1] != "quotes":
                    return years
                # A quote's address follows its year's months too (see _Reach's "url").
                return years, tuple(tuple(self.urls.months("quotes", year)) for year in years)
            if tag == "in_year":
                return tuple((r.kind, r.id) for r in self.urls.in_year(key[1], int(key[2])))
            if tag == "months":
                return tuple(self.urls.months(key[1], int(key[2])))
            if tag == "in_month":
                year, month = map(int, key[2].split("-"))
                return tuple((r.kind, r.id) for r in self.urls.in_month(key[1], year, month))
            if tag == "letters":
                return tuple(self.urls.letters(key[1]))
            if tag == "in_letter":
                return tuple(r.id for r in self.urls.in_letter(key[1], key[2]))
            if tag == "routes":
                return self.pages
        except (KeyError, IndexError, ValueError):
            return None
        return object()  # an input we cannot value: always changed


_UNKNOWN = object()


Group = tuple[str, str]


def group_of(key: Key) -> Group:
    """Inputs are kept in groups a change either reaches or not as a whole:
    by tag and kind (by the referring kind for backlinks), a list by its name."""
    if key[0] == "back":
        return ("back", key[3])
    return (key[0], key[1] if len(key) > 1 else "")


class _Reach:
    """Which inputs the records whose content changed (`touched`) can have changed.

    Conservative: an input not ruled out here is valued again and compared.
    """

    def __init__(
        self,
        touched: set[tuple[str, str]],
        site: Site,
        quote_years_moved: bool,
        held: Callable[[Key], bool],
    ) -> None:
        self.touched = touched
        self.quote_years_moved = quote_years_moved
        # Whether a list input (in_year, in_month, topic) held a touched record in its last value.
        self.held = held
        self.ids: dict[str, set[str]] = {}
        for kind, record_id in touched:
            self.ids.setdefault(kind, set()).add(record_id)
        # The records the touched ones refer to now (their old references are in the old values).
        self.targets: set[tuple[str, str, str]] = set()
        for kind, record_id in touched:
            record = site.records.get(kind, {}).get(record_id)
            if record is not None:
                self.targets.update(
                    (target_kind, target, kind) for _, target_kind, target in kept_references(record)
                )
        self.topics_moved = "topics" in self.ids
        self.stories_moved = "stories" in self.ids
        # The quotes that name a touched story (their topics are its topics), found
        # through the stories' backlinks rather than by reading every quote.
        stories = self.ids.get("stories", set())
        self.story_quotes = {
            quote.id
            for story in stories
            for quote in site.backlinks.get(("stories", story), {}).get("quotes", ())
            if quote.values.get("story") in stories
        }
        # Touched topics, and the topics a touched record is in now.
        self.topics_now = set(self.ids.get("topics", ()))
        for record in touched:
            self.topics_now.update(site.topics_of.get(record, ()))
        # The years and months (as in_year and in_month keys name them) in which touched
        # records are shown now.
        self.years: set[str] = set()
        self.months: set[str] = set()
        for kind, record_id in touched:
            record = site.records.get(kind, {}).get(record_id)
            if record is None:
                continue
            if kind in TIMELINE_KINDS:
                self.years.update(str(year) for year in timeline_years_of(site, record))
                self.months.update(f"{year}-{month}" for year, month in timeline_months_of(site, record))
            if kind == "quotes":
                self.years.add(str(year_of(site, record)))
                self.months.update(f"{year}-{month}" for year, month in quote_months_of(site, record))

    def _own(self, tag: str, kind: str, values: dict[Key, Any]) -> list[Key]:
        """The inputs of the group (tag, kind) that belong to a touched record of `kind`
        (looked up among all inputs with a value: a group read back from the cache is
        a tuple)."""
        return [key for key in ((tag, kind, rid) for rid in self.ids.get(kind, ())) if key in values]

    def candidates(self, group: Group, keys: Collection[Key], values: dict[Key, Any]) -> Iterable[Key]:
        """The inputs of a group that a change may have reached (the others kept
        their value), or all of them."""
        tag, sub = group
        if tag == "rec":
            return self._own(tag, sub, values)
        if tag == "url":
            # A quote is shown on its year's or month's page (which depends on the years
            # there are and on which of their months have pages).
            return keys if sub == "quotes" and self.quote_years_moved else self._own(tag, sub, values)
        if tag == "back":
            # Who refers to a record changes only with a referring record's content.
            return keys if sub in self.ids else ()
        if tag == "topics_of":
            # A record's own topics, those that exist, and (for a quote) its story's:
            # a touched story's quotes (one whose story changed is touched itself).
            if self.topics_moved:
                return keys
            own = self._own(tag, sub, values)
            if sub == "quotes" and self.stories_moved:
                told = (("topics_of", "quotes", quote_id) for quote_id in self.story_quotes)
                own += [key for key in told if key in values]
            return own
        if tag in ("years", "in_year") and sub in ("questions", OPEN_QUESTIONS):
            return keys if "questions" in self.ids else ()
        if tag in ("letters", "in_letter"):  # which names a list has: only with one of its records
            return keys if sub in self.ids else ()
        if tag == "all":  # the ids and contents of a kind: changed only with one of its records
            return keys if sub in self.ids else ()
        if tag == "everything":
            return keys if self.touched else ()
        if tag == "topic":
            # A topic's records change only with a touched record in the topic now or before
            # (and then all its kinds: a story's quotes move with the story's topics).
            if sub in self.topics_now:
                return keys
            return keys if any(map(self.held, keys)) else ()
        if tag == "in_year":
            # A year's records change only with a record that is in it now or was.
            held, years = self.held, self.years
            return [key for key in keys if key[2] in years or held(key)]
        if tag == "in_month":
            held, months = self.held, self.months
            return [key for key in keys if key[2] in months or held(key)]
        if tag == "months":
            # A year's months change only with a record in it now or before (the year's
            # records, noted with its months by every page that reads them: TrackedUrls).
            held, years = self.held, self.years
            return [
                key
                for key in keys
                if key[2] in years or (year := ("in_year", key[1], key[2])) not in values or held(year)
            ]
        return keys

    def changes(self, key: Key, old: Any) -> bool:
        if key[0] == "back":
            ids = self.ids.get(key[3])
            return ids is not None and (
                (key[1], key[2], key[3]) in self.targets or not ids.isdisjoint(old or ())
            )
        return True

    @staticmethod
    def later(group: Group) -> bool:
        """Groups that depend on which topics changed: decided after the others
        (see `topics_reached`)."""
        tag, sub = group
        if tag == "url":
            return sub == "events"
        return tag in ("years", "in_year", "months", "in_month") and sub.startswith(TOPIC_LIST)

    def topics_reached(self, changed: set[Key]) -> set[str]:
        """The topics whose records may have changed: touched topics, those a touched
        record is in now (`topics_now`), and those whose list of records changed (a
        record left or was deleted)."""
        return self.topics_now | {key[1] for key in changed if key[0] == "topic"}

    def later_candidates(
        self, group: Group, keys: Collection[Key], topics: set[str], site: Site
    ) -> Iterable[Key]:
        if group[0] != "url":
            return keys if group[1][len(TOPIC_LIST) :] in topics else ()
        if self.topics_moved:
            return keys
        # An event is shown on its first topic's page, in its year (or month).
        return [
            key
            for key in keys
            if (key[1], key[2]) in self.touched
            or not (first := site.topics_of.get((key[1], key[2]), ()))
            or first[0] in topics
        ]


def _thawed(table: dict[Any, Any], name: Any, kind: type) -> Any:
    """`table[name]` (None when absent), made a `kind` again from the tuple the cache
    saved the first time a build asks for it (see inputsfile.py)."""
    found = table.get(name)
    if found is None or isinstance(found, kind):
        return found
    found = table[name] = kind(found)
    return found


@dataclass
class Journal:
    """What changed in a DepState since the cache's inputs file was last written
    whole: a save after a few edits writes only these (see inputsfile.py)."""

    pages: set[str] = field(default_factory=set)  # made from other inputs, new, or no longer made
    values: set[Key] = field(default_factory=set)  # valued anew, new, or no longer in use
    records: set[tuple[str, str]] = field(default_factory=set)  # fingerprint new, changed or gone


LIST_TAGS = ("in_year", "in_month", "topic")  # inputs whose value lists records


def _members_of(key: Key, value: Any) -> Iterable[tuple[str, str]]:
    """The records a list input's value holds: (kind, id) pairs, or a topic's ids of one kind."""
    if not value:
        return ()
    if key[0] == "topic":
        kind = key[2]
        return [(kind, record_id) for record_id in value]
    return value


def _scan_holding(touched: set[tuple[str, str]], values: dict[Key, Any]) -> Callable[[Key], bool]:
    """Whether a list input held a touched record, looked up in its value (for one build)."""
    ids: dict[str, set[str]] = {}
    for kind, record_id in touched:
        ids.setdefault(kind, set()).add(record_id)
    none: set[str] = set()

    def held(key: Key) -> bool:
        if key[0] == "topic":
            return not ids.get(key[2], none).isdisjoint(values.get(key) or ())
        return not touched.isdisjoint(values.get(key) or ())

    return held


class Membership:
    """Per record, the list inputs (LIST_TAGS) whose last value held it: an edit finds
    the year, month and topic lists its records were in without looking through every
    list's thousands of members (at 10,000 stories 5 ms of an 80 ms edit).

    Brought up to date at each use, by comparing each list input's value with the
    one indexed (by identity: values are replaced, never changed in place), so that
    no other code need tell it of a change."""

    def __init__(self) -> None:
        self.indexed: dict[Key, Any] = {}
        self.holders: dict[tuple[str, str], list[Key]] = {}

    def holding(
        self, touched: set[tuple[str, str]], groups: dict[Group, Any], values: dict[Key, Any]
    ) -> set[Key]:
        """The list inputs whose value (in `values`) holds a record of `touched`."""
        indexed = self.indexed
        seen = 0
        for group, keys in groups.items():
            if group[0] not in LIST_TAGS:
                continue
            seen += len(keys)
            for key in keys:
                value = values[key]
                if indexed.get(key, _UNKNOWN) is not value:
                    self._move(key, value)
        if seen != len(indexed):  # inputs no longer in use
            for key in [key for key in indexed if key not in values]:
                self._move(key, _UNKNOWN)
        found: set[Key] = set()
        for record in touched:
            found.update(self.holders.get(record, ()))
        return found

    def _move(self, key: Key, value: Any) -> None:
        """Index `key` with `value` (_UNKNOWN: no longer in use) instead of its last one."""
        holders = self.holders
        last = self.indexed.pop(key, _UNKNOWN)
        if last is not _UNKNOWN:
            for record in _members_of(key, last):
                found = holders[record]
                found.remove(key)
                if not found:
                    del holders[record]
        if value is _UNKNOWN:
            return
        self.indexed[key] = value
        for record in _members_of(key, value):
            found = holders.get(record)
            if found is None:
                holders[record] = [key]
            else:
                found.append(key)


class DepState:
    """Per output file, the inputs it was made from; per input, its value then
    and the files that use it (so that the files an input reaches are found
    without walking every file)."""

    def __init__(self, index_users: bool = True) -> None:
        """`index_users`: keep `users` up to date from the start (a builder that builds
        again); else they are worked out when first needed (a builder that builds
        once never needs them: 20 MB and 0.1 s of a cold build at 10,000 stories)."""
        # A page's inputs, and a group's: a tuple when read back from the cache (see
        # inputsfile.py), made a set when a build first changes it (see _thawed).
        self.deps: dict[str, frozenset[Key] | tuple[Key, ...]] = {}
        self.values: dict[Key, Any] = {}  # every input in use, and only those
        self.groups: dict[Group, set[Key] | tuple[Key, ...]] = {}  # the inputs with a value, by group_of
        self.fps: dict[tuple[str, str], str] = {}
        self.touched: set[tuple[str, str]] = set()  # the records whose content `changed` saw change
        self._fresh: dict[Key, Any] = {}
        # Per input, its pages (see `users`); None until first asked for (see index_users),
        # and after a read from the cache: a build that makes a few pages from unchanged
        # inputs never needs it.
        self._users: dict[Key, list[str]] | None = {} if index_users else None
        # What changed since this state was read from (or written whole to) the cache;
        # None: not known (a state made anew), and the next save writes it whole.
        self.journal: Journal | None = None
        self._members: Membership | None = None  # see changed()

    @classmethod
    def restored(
        cls,
        deps: dict[str, tuple[Key, ...]],
        values: dict[Key, Any],
        groups: dict[Group, tuple[Key, ...]],
        fps: dict[tuple[str, str], str],
    ) -> DepState:
        """The state as the cache saved it (its users are worked out when needed)."""
        state = cls(index_users=False)
        state.deps, state.values, state.groups, state.fps = deps, values, groups, fps
        state.journal = Journal()
        return state

    def replay(
        self,
        pages: dict[str, tuple[Key, ...] | None],
        values: dict[Key, Any],
        unvalued: Iterable[Key],
        fps: dict[tuple[str, str], str | None],
    ) -> None:
        """Apply the changes a save wrote since the inputs file was written whole
        (see inputsfile.write_changes): each page's inputs (None: no longer made), the
        inputs valued anew or no longer in use, the records' fingerprints (None: gone).
        They stay in the journal, so that the next save writes them again."""
        deps = self.deps
        for path, keys in pages.items():
            if keys is None:
                deps.pop(path, None)
            else:
                deps[path] = keys
        for key, value in values.items():
            self._note(key, value)
        for key in unvalued:
            self._unvalue(key)
        for record, fingerprint in fps.items():
            if fingerprint is None:
                self.fps.pop(record, None)
            else:
                self.fps[record] = fingerprint
        journal = self.journal = Journal(set(pages), set(values), set(fps))
        journal.values.update(unvalued)

    @property
    def users(self) -> dict[Key, list[str]]:
        """Per input, its pages: a list (a set costs three to four times as much, for
        80,000 inputs at 10,000 stories), holding no page twice: update() adds a page
        to an input's list only when the input is new to the page."""
        return self.index_users()

    def index_users(self) -> dict[Key, list[str]]:
        """`users`, worked out now if not yet (at 10,000 stories, 80 ms: the first edit
        `serve` builds from a cache read back pays it once)."""
        if self._users is None:
            users: dict[Key, list[str]] = {}
            for path, keys in self.deps.items():
                for key in keys:
                    found = users.get(key)
                    if found is None:
                        users[key] = [path]
                    else:
                        found.append(path)
            self._users = users
        return self._users

    def inputs_of(self, path: str) -> frozenset[Key] | None:
        """The inputs `path` was last made from (None: not made before)."""
        return _thawed(self.deps, path, frozenset)

    def same_inputs(
        self, path: str, keys: Collection[Key], thaw: bool = True
    ) -> frozenset[Key] | tuple[Key, ...] | None:
        """The inputs `path` was last made from, as kept, when they are `keys`; else None.

        `thaw`: a tuple read back from the cache is made a set, kept for the next
        comparisons (a builder that builds again); else it is compared as it is: made
        a set, the home page's at 100,000 stories took 13 MB more (and each page that
        lists every record as much), thrown away when, as after most edits, nothing
        moved.
        """
        last = self.inputs_of(path) if thaw else self.deps.get(path)
        if last is None or len(last) != len(keys):
            return None
        mine = keys if isinstance(keys, (set, frozenset)) else frozenset(keys)
        if isinstance(last, frozenset):
            return last if last == mine else None
        return last if all(map(mine.__contains__, last)) else None  # a saved tuple has no repeats

    def prepare_lookups(self) -> bool:
        """Make one of the indexes an edit looks its pages up through, if not made yet:
        the pages of each input (`users`; at 10,000 stories 80-350 ms, which the
        first edit of a builder started on its cache paid), then the lists each record
        is in (see `changed`; about 35 ms). Whether one was made now."""
        if not self.deps:
            return False
        if self._users is None:
            self.index_users()
            return True
        if self._members is None:
            self._members = Membership()
            self._members.holding(set(), self.groups, self.values)
            return True
        return False

    def changed(self, inputs: Inputs, index: bool = False) -> set[Key]:
        """The inputs whose value is not what it was at the last build.

        `index`: find the lists that held a changed record through an index of the
        lists each record is in, kept up to date from build to build (a builder that
        builds again); else by a look through every list (a builder that builds once)."""
        if inputs.moved is None:
            touched = {record for record, _ in self.fps.items() ^ inputs.fps.items()}
        else:
            old, new = self.fps, inputs.fps
            touched = {record for record in inputs.moved if old.get(record) != new.get(record)}
        self.touched = touched
        years = ("years", "quotes")
        quote_years_moved = self.values.get(years, _UNKNOWN) != inputs.value(years)
        if index:
            if self._members is None:
                self._members = Membership()
            held = self._members.holding(touched, self.groups, self.values).__contains__
        else:
            held = _scan_holding(touched, self.values)
        maybe = _Reach(touched, inputs.site, quote_years_moved, held)
        found: set[Key] = set()
        self._fresh = {}
        later = []
        for group, keys in self.groups.items():
            if maybe.later(group):
                later.append((group, keys))
                continue
            if group[0] in ("all", "everything"):
                # Reached means changed (a record of the kind is new, gone or edited): no
                # need to digest every record to see it.
                for key in maybe.candidates(group, keys, self.values):
                    found.add(key)
                    self._fresh[key] = ("changed", os.urandom(8).hex())
                continue
            for key in maybe.candidates(group, keys, self.values):
                old = self.values[key]
                if maybe.changes(key, old):
                    self._compare(key, old, inputs, found)
        topics = maybe.topics_reached(found)
        for group, keys in later:
            for key in maybe.later_candidates(group, keys, topics, inputs.site):
                self._compare(key, self.values[key], inputs, found)
        return found

    def _compare(self, key: Key, old: Any, inputs: Inputs, found: set[Key]) -> None:
        value = inputs.value(key)
        if value != old:
            found.add(key)
            self._fresh[key] = value

    def dirty(self, changed: set[Key], index: bool = True) -> set[str]:
        """The files at least one of whose inputs is in `changed`.

        `index`: find them through each input's pages, worked out first if need be
        (a builder that builds again); else, when they are not, by a pass over every
        file's inputs (10,000 stories: 25 ms, against 80 ms and 10 MB to work them out).
        """
        if self._users is None and not index:
            return {path for path, keys in self.deps.items() if not changed.isdisjoint(keys)}
        found: set[str] = set()
        for key in changed:
            found.update(self.users.get(key, ()))
        return found

    def update(
        self,
        made: dict[str, frozenset[Key] | tuple[Key, ...]],
        inputs: Inputs,
        keep: Iterable[str] | None,
        everything: bool,
    ) -> None:
        """Record the inputs of the files just made; forget files no longer made
        (those not in `keep`; None: the same files as last time).

        `everything`: every input may have changed (settings or templates did),
        so every value is taken again, not only those `changed` found new.
        """
        deps = self.deps
        if everything:
            self.journal = None  # every value is taken again: the next save writes them all
        journal = self.journal
        if keep is not None:
            kept = keep if isinstance(keep, (set, frozenset)) else set(keep)
            gone = [path for path in deps if path not in kept]
            if gone:
                self.index_users()  # while deps still holds the pages that go
                for path in gone:
                    self._drop(path, deps.pop(path))
                if journal is not None:
                    journal.pages.update(gone)
        added: dict[Key, Any] = {}  # inputs no file used before (a dict: in order, once)
        remade: list[str] = []  # the files made from other inputs than last time, or new
        for path, keys in made.items():
            if deps.get(path) is keys:  # the same inputs as last time (see Builder._canonical_inputs)
                continue
            old = self.inputs_of(path)
            if old is not None:
                mine = keys if isinstance(keys, frozenset) else frozenset(keys)
                if old == mine:
                    deps[path] = keys
                    continue
            elif self._users is None:  # a new page, and no index of users to keep up
                deps[path] = keys
                remade.append(path)
                values = self.values
                added.update(dict.fromkeys(keys if not values else (k for k in keys if k not in values)))
                continue
            users = self.index_users()  # while deps still holds the page's old inputs
            deps[path] = keys
            remade.append(path)
            if old is None:  # a new page: every input is new to it
                new = keys
            else:
                self._drop(path, old - mine)
                new = mine - old
            for key in new:
                found = users.get(key)
                if found is None:
                    users[key] = [path]
                    added[key] = None
                else:
                    found.append(path)
        # The inputs still in use: those with a value and the new ones, unless the users
        # were worked out (then a page may have dropped some; see _drop).
        users = self._users

        def in_use(key: Key) -> bool:
            return key in users if users is not None else key in self.values or key in added

        if everything:
            if users is None and not self.values:
                # A cold build: the new inputs are all of them, valued in place (one table
                # of 835,000 inputs at 100,000 stories, not two).
                for key in added:
                    added[key] = inputs.value(key)
                self.values = added
            else:
                still = users if users is not None else chain(self.values, added)
                self.values = {key: inputs.value(key) for key in still}
            grouped: dict[Group, list[Key]] = {}
            for key in self.values:
                grouped.setdefault(group_of(key), []).append(key)
            # Sets for a builder that builds again; else tuples, as the cache reads them
            # back (made sets by the first build that changes them): at 100,000 stories
            # the sets held 835,000 inputs in 27 MB more, at a cold build's peak.
            kind = set if users is not None else tuple
            self.groups = {group: kind(keys) for group, keys in grouped.items()}
        else:
            # Values found new this build, for the inputs still in use (one dropped above
            # has no value or group any more; one dropped and used again needs both).
            for key, value in self._fresh.items():
                if in_use(key):
                    self._note(key, value)
            for key in added:
                if in_use(key) and key not in self.values:
                    self._note(key, inputs.value(key))
        self._fresh = {}
        if journal is not None:
            journal.pages.update(remade)
            if inputs.moved is not None:
                journal.records.update(inputs.moved)
            else:
                journal.records.update(record for record, _ in self.fps.items() ^ inputs.fps.items())
        if inputs.moved is None or everything:
            self.fps = dict(inputs.fps)  # its own: the loader patches its dict in place
        else:
            for record in inputs.moved:
                if record in inputs.fps:
                    self.fps[record] = inputs.fps[record]
                else:
                    self.fps.pop(record, None)

    def _note(self, key: Key, value: Any) -> None:
        if key not in self.values:
            group = _thawed(self.groups, group_of(key), set)
            if group is None:
                group = self.groups[group_of(key)] = set()
            group.add(key)
        self.values[key] = value
        if self.journal is not None:
            self.journal.values.add(key)

    def _unvalue(self, key: Key) -> None:
        """`key` is no longer in use: it has no value and no group any more."""
        if self.values.pop(key, _UNKNOWN) is _UNKNOWN:
            return
        group = _thawed(self.groups, group_of(key), set)
        group.discard(key)
        if not group:
            del self.groups[group_of(key)]
        if self.journal is not None:
            self.journal.values.add(key)

    def _drop(self, path: str, keys: Iterable[Key]) -> None:
        users = self.users
        for key in keys:
            found = users.get(key)
            assert found is not None
            found.remove(path)
            if not found:
                del users[key]
                self._unvalue(key)
