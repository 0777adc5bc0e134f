"""Link validated records into a `Site`: unique ids, resolved references,
drafts, and the relations each page needs (a topic's stories, a person's
quotes...). Every cross-record rule of the format is checked here.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, Iterable, Iterator

from .dates import PartialDate
from .errors import Problems
from .fields import KIND_SINGULAR, KINDS, ListOf, Ref
from .model import BuildOptions, Record, SiteConfig, item_key

TOPICAL = ("stories", "quotes", "questions", "events")


@dataclass
class Site:
    """The linked, published (or preview) view of a site's content."""

    root: Path
    config: SiteConfig
    options: BuildOptions
    records: dict[str, dict[str, Record]]
    topics_of: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    by_topic: dict[str, dict[str, list[Record]]] = field(default_factory=dict)
    backlinks: dict[tuple[str, str], dict[str, list[Record]]] = field(default_factory=dict)
    related: dict[str, list[str]] = field(default_factory=dict)
    _tz: Any = field(default=None, repr=False, compare=False)
    # Every record loaded, drafts too, by kind and id: what the next build compares with.
    _everything: dict[str, dict[str, Record]] | None = field(default=None, repr=False, compare=False)
    # The published quotes without provenance, by id: the next build looks only at changed ones.
    _unsourced: dict[str, Record] | None = field(default=None, repr=False, compare=False)
    _lists: dict[str, list[Record]] = field(default_factory=dict, repr=False, compare=False)  # see all()

    def get(self, kind: str, record_id: str) -> Record | None:
        return self.records[kind].get(record_id)

    def all(self, kind: str) -> list[Record]:
        """The kind's published records in id order: one list, made at the first call,
        which callers must not change (a build asks for some kinds a dozen times,
        and each copy of 10,000 records touched every one of them)."""
        found = self._lists.get(kind)
        if found is None:
            found = self._lists[kind] = list(self.records[kind].values())
        return found

    def label(self, record: Record) -> str:
        return str(record.values.get(KINDS[record.kind].label_field, record.id))

    def sort_key(self, record: Record, when: PartialDate | None = None) -> tuple[Any, ...]:
        """Date order: first instant, coarser first, then title or text."""
        if when is not None:
            return self._sort_key(record, when)
        # Every page sorts by date: a record keeps its key.
        memo = record.derived(self.config.timezone)
        key = memo.get("order")
        if key is None:
            key = memo["order"] = self._sort_key(record, record.date)
        return key

    def _sort_key(self, record: Record, when: PartialDate | None) -> tuple[Any, ...]:
        if self._tz is None:
            self._tz = self.config.tz
        instant, rank = when.sort_key(self._tz) if when else (float("-inf"), 0)
        return (instant, rank, self.label(record), record.kind, record.id)

    def sorted(self, records: list[Record]) -> list[Record]:
        return sorted(records, key=self.sort_key)

    def is_overdue(self, question: Record) -> bool:
        deadline = question.values.get("deadline")
        if question.values.get("status") != "open" or deadline is None:
            return False
        return deadline.last_day(self.config.tz) < self.options.as_of

    def linked(self, record: Record, kind: str) -> list[Record]:
        """Records of `kind` that refer to `record` (its backlinks)."""
        return self.backlinks.get((record.kind, record.id), {}).get(kind, [])

    def topic_records(self, topic_id: str, kind: str) -> list[Record]:
        return self.by_topic.get(topic_id, {}).get(kind, [])

    def timeline_points(self, record: Record) -> list[tuple[str, PartialDate]]:
        """The (data-kind, date) entries a record puts on a timeline."""
        if record.kind != "questions":
            return [(KIND_SINGULAR[record.kind], record.values["date"])]
        points = [("question-raised", record.values["raised"])]
        if record.values.get("deadline"):
            points.append(("question-deadline", record.values["deadline"]))
        if record.values.get("status") == "answered" and record.values.get("answered"):
            points.append(("question-answered", record.values["answered"]))
        return points

    def record_topics(self, record: Record) -> list[Record]:
        ids = self.topics_of.get((record.kind, record.id), [])
        return [self.records["topics"][t] for t in ids if t in self.records["topics"]]


def _reference_fields(kind: str) -> tuple[tuple[str, str, bool], ...]:
    """(field name, target kind, is a list) for each field of `kind` that refers to records."""
    found = []
    for spec in KINDS[kind].fields:
        if not spec.name or spec.name == "id":
            continue
        if isinstance(spec.type, Ref):
            found.append((spec.name, spec.type.kind, False))
        elif isinstance(spec.type, ListOf) and isinstance(spec.type.item, Ref):
            found.append((spec.name, spec.type.item.kind, True))
    return tuple(found)


REFERENCE_FIELDS = {kind: _reference_fields(kind) for kind in KINDS}


def references(record: Record) -> Iterator[tuple[str, str, str]]:
    """(field path, target kind, target id) for every reference in a record."""
    values = record.values
    for name, kind, many in REFERENCE_FIELDS[record.kind]:
        value = values.get(name)
        if value is None:
            continue
        if not many:
            yield name, kind, value
        else:
            for index, target in enumerate(value):
                yield item_key(name, index), kind, target


def build_site(
    root: Path,
    config: SiteConfig,
    options: BuildOptions,
    loaded: list[Record],
    problems: Problems,
    previous: Site | None = None,
    changes: list[tuple[list[Record], list[Record]]] | None = None,
) -> Site:
    """Check cross-record rules and link the records that are published.

    `previous`: the site this one was last built from without errors (serve
    keeps it). When the records changed only in ways that keep every link
    (same ids, drafts, references, topics), its links are patched instead of
    made again from nothing; anything else links from nothing. `changes`: the
    records each changed file had and has now, when those are all the changes
    since `previous` was loaded (a watcher's hinted load): only they are looked at.
    """
    everything = _unique_patched(previous, changes) if previous and changes is not None else None
    if everything is None:
        changes = None
        everything = _unique(loaded, problems)
    site = _patched(previous, root, config, options, everything, problems, changes) if previous else None
    if site is None:
        _check_references(everything, options, problems)
        published = {
            kind: {rid: rec for rid, rec in sorted(records.items()) if options.drafts or not rec.draft}
            for kind, records in everything.items()
        }
        site = Site(root, config, options, published)
        _link(site)
    site._everything = everything
    _provenance(site, problems, previous, changes)
    return site


def _patched(
    previous: Site,
    root: Path,
    config: SiteConfig,
    options: BuildOptions,
    everything: dict[str, dict[str, Record]],
    problems: Problems,
    changes: list[tuple[list[Record], list[Record]]] | None = None,
) -> Site | None:
    """`previous` with its changed records swapped in, or None when a link could move."""
    before = previous._everything
    if config != previous.config or options.drafts != previous.options.drafts or before is None:
        return None
    if any(len(records) != len(before[kind]) for kind, records in everything.items()):
        return None
    changed: list[tuple[Record, Record]] = []
    if changes is None:  # every record is looked at
        candidates: Iterable[Record] = (
            record for records in everything.values() for record in records.values()
        )
    else:
        candidates = (
            record for _, now in changes for record in now if everything[record.kind].get(record.id) is record
        )
    for record in candidates:
        old = before[record.kind].get(record.id)
        if old is None:
            return None
        if old is not record:
            if not _same_links(old, record):
                return None
            changed.append((old, record))
    site = Site(
        root,
        config,
        options,
        {kind: dict(records) for kind, records in previous.records.items()},
        topics_of=previous.topics_of,  # a record's topics are among what _same_links compares
        # Copied where a swap changes them (see _swap): the previous site's stay as they were.
        by_topic=dict(previous.by_topic),
        backlinks=dict(previous.backlinks),
        related=previous.related,
    )
    for old, record in changed:
        # The others' references were checked before, against the same ids and drafts.
        for key, kind, target in kept_references(record):
            _check_reference(record, key, kind, target, everything, options, problems)
        if record.id in site.records[record.kind]:  # published
            site.records[record.kind][record.id] = record
            _swap(site, old, record)
    site._lists.clear()  # any list of a kind taken meanwhile held the records swapped out
    return site


def _same_links(old: Record, new: Record) -> bool:
    """Whether swapping `new` for `old` leaves every link and list membership as it was."""
    return (
        old.draft == new.draft
        and kept_references(old) == kept_references(new)
        and old.values.get("topics") == new.values.get("topics")
        and old.values.get("related") == new.values.get("related")
    )


def _swap(site: Site, old: Record, new: Record) -> None:
    """Put `new` where `old` was in every list of the site, keeping date order."""
    lists: list[tuple[dict[str, list[Record]], str]] = []
    for _, target_kind, target in kept_references(new):
        kinds = site.backlinks.get((target_kind, target))
        if kinds is not None and new.kind in kinds:
            kinds = site.backlinks[(target_kind, target)] = dict(kinds)
            lists.append((kinds, new.kind))
    for topic_id in site.topics_of.get((new.kind, new.id), ()):
        kinds = site.by_topic.get(topic_id)
        if kinds is not None and new.kind in kinds:
            kinds = site.by_topic[topic_id] = dict(kinds)
            lists.append((kinds, new.kind))
    for kinds, kind in lists:
        # A fresh list: the previous site's stays as it was (a failed build falls back on it).
        swapped = [new if record is old else record for record in kinds[kind]]
        if site.sort_key(old) != site.sort_key(new):
            swapped.sort(key=site.sort_key)
        kinds[kind] = swapped


def _unique_patched(
    previous: Site, changes: list[tuple[list[Record], list[Record]]]
) -> dict[str, dict[str, Record]] | None:
    """The records by kind and id of `previous` with `changes` made (the records each
    changed file had, and has now); None when an id would be taken twice (_unique
    reports which)."""
    before = previous._everything
    if before is None:
        return None
    everything = dict(before)
    copied: set[str] = set()

    def own(kind: str) -> dict[str, Record]:
        if kind not in copied:
            copied.add(kind)
            everything[kind] = dict(everything[kind])
        return everything[kind]

    for was, _ in changes:
        for record in was:
            if everything[record.kind].get(record.id) is record:
                del own(record.kind)[record.id]
    for _, now in changes:
        for record in now:
            if record.id in everything[record.kind]:
                return None
            own(record.kind)[record.id] = record
    return everything


def _unique(loaded: list[Record], problems: Problems) -> dict[str, dict[str, Record]]:
    everything: dict[str, dict[str, Record]] = {kind: {} for kind in KINDS}
    for record in loaded:  # in (path, line) order, as the loader gives them
        seen = everything[record.kind].get(record.id)
        if seen is not None:
            problems.error(
                record.path,
                record.line,
                record.col,
                f"duplicate {KIND_SINGULAR[record.kind]} id '{record.id}' (also at "
                f"{seen.path}:{seen.line}); ids are unique per kind, rename one",
            )
            continue
        everything[record.kind][record.id] = record
    return everything


def _check_references(
    everything: dict[str, dict[str, Record]], options: BuildOptions, problems: Problems
) -> None:
    for records in everything.values():
        for record in records.values():
            for key, kind, target in kept_references(record):
                _check_reference(record, key, kind, target, everything, options, problems)


def _check_reference(
    record: Record,
    key: str,
    kind: str,
    target: str,
    everything: dict[str, dict[str, Record]],
    options: BuildOptions,
    problems: Problems,
) -> None:
    found = everything[kind].get(target)
    if found is not None and not (found.draft and not record.draft and not options.drafts):
        return
    line, col = record.mark(key)
    what = KIND_SINGULAR[kind]
    if found is None:
        near = difflib.get_close_matches(target, list(everything[kind]), n=1, cutoff=0.6)
        hint = f"did you mean '{near[0]}'?" if near else f"create content/{kind}/{target}.yaml or fix the id"
        problems.error(record.path, line, col, f"unknown {what} '{target}'; {hint}")
    elif found.draft and not record.draft and not options.drafts:
        problems.error(
            record.path,
            line,
            col,
            f"refers to the draft {what} '{target}' ({found.path}), which would be a "
            "broken link; publish it (remove draft: true) or remove the reference",
        )


def _link(site: Site) -> None:
    # Every record once, in date order: the lists below come out sorted as they fill.
    ordered = sorted((r for records in site.records.values() for r in records.values()), key=site.sort_key)
    backlinks: dict[tuple[str, str], dict[str, list[Record]]] = defaultdict(lambda: defaultdict(list))
    for record in ordered:
        for _, target_kind, target in kept_references(record):
            if target in site.records[target_kind]:
                backlinks[(target_kind, target)][record.kind].append(record)
    site.backlinks = {key: dict(kinds) for key, kinds in backlinks.items()}
    _topics(site, ordered)
    _related(site)


def kept_references(record: Record) -> tuple[tuple[str, str, str], ...]:
    """references(record), kept on the record (the same object while its file is unchanged)."""
    memo = record.derived("")
    found = memo.get("references")
    if found is None:
        found = memo["references"] = tuple(references(record))
    return found


def _topics(site: Site, ordered: list[Record]) -> None:
    by_topic: dict[str, dict[str, list[Record]]] = defaultdict(lambda: defaultdict(list))
    for record in ordered:
        if record.kind not in TOPICAL:
            continue
        topic_ids = _own_topics(site, record)
        site.topics_of[(record.kind, record.id)] = topic_ids
        for topic_id in topic_ids:
            by_topic[topic_id][record.kind].append(record)
    site.by_topic = {t: dict(kinds) for t, kinds in by_topic.items()}


def _own_topics(site: Site, record: Record) -> list[str]:
    topic_ids = record.values.get("topics")
    if topic_ids is None and record.kind == "quotes" and record.values.get("story"):
        story = site.records["stories"].get(record.values["story"])
        topic_ids = story.values.get("topics") if story else None
    return [t for t in dict.fromkeys(topic_ids or []) if t in site.records["topics"]]


def _related(site: Site) -> None:
    related: dict[str, set[str]] = defaultdict(set)
    for topic in site.records["topics"].values():
        for other in topic.values.get("related", []):
            if other in site.records["topics"] and other != topic.id:
                related[topic.id].add(other)
                related[other].add(topic.id)
    site.related = {t: sorted(ids) for t, ids in related.items()}


def _provenance(
    site: Site,
    problems: Problems,
    previous: Site | None = None,
    changes: list[tuple[list[Record], list[Record]]] | None = None,
) -> None:
    """Warn of each published quote without a story or a source. After a hinted load
    only the changed quotes are looked at (at 10,000 stories the 5,000 quotes took
    4 ms of a 80 ms edit); the others kept their answer."""
    published = site.records["quotes"]
    if (
        previous is None
        or previous._unsourced is None
        or changes is None
        or previous.options.drafts != site.options.drafts  # other quotes published
    ):
        unsourced = {q.id: q for q in published.values() if _unsourced(q)}
    else:
        unsourced = dict(previous._unsourced)
        for before, now in changes:
            for record in chain(before, now):
                if record.kind == "quotes" and unsourced.get(record.id) is record:
                    del unsourced[record.id]
            for record in now:
                if record.kind == "quotes" and published.get(record.id) is record and _unsourced(record):
                    unsourced[record.id] = record
    site._unsourced = unsourced
    for quote in unsourced.values():
        problems.warning(
            quote.path,
            quote.line,
            quote.col,
            "quote has no provenance; add story: or source: so readers can check it",
        )


def _unsourced(quote: Record) -> bool:
    return "story" not in quote.values and "source" not in quote.values
