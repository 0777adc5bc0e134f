"""View objects: exactly what each template may see, built from the model.

Templates never receive records or the index. Every view is a plain frozen
dataclass of text, numbers and other views; Markdown arrives as sanitized
HTML (`Markup`). Because a page's view holds all it shows, its fingerprint
decides whether the page must be rendered again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, timedelta
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Any, Callable, Container

from markupsafe import Markup

from .dates import PartialDate
from .index import Site
from .markup import MarkdownRenderer, nest_headings, safe_url
from .model import Record
from .routes import Urls

KIND_LABELS = {
    "story": "Story",
    "event": "Event",
    "quote": "Quote",
    "question-raised": "Question raised",
    "question-deadline": "Deadline",
    "question-answered": "Answered",
}


@dataclass(frozen=True)
class Link:
    path: str
    label: str


@dataclass(frozen=True)
class DateView:
    written: str
    shown: str
    machine: str
    iso: str
    approximate: bool = False


@dataclass(frozen=True)
class Source:
    name: str
    url: str | None = None
    author: str | None = None
    via: str | None = None


@dataclass(frozen=True)
class QuoteView:
    id: str
    anchor: str
    text: str
    speaker: Link
    speaker_role: str | None
    date: DateView
    date_shown: str
    context: str | None
    source: Source | None
    story: Link | None
    topics: tuple[Link, ...]
    draft: bool


@dataclass(frozen=True)
class QuestionView:
    id: str
    path: str
    question: str
    status: str
    overdue: bool
    raised: DateView
    deadline: DateView | None
    answered: DateView | None
    answer: Markup | None
    why_it_matters: Markup | None
    resolution_criteria: Markup | None
    topics: tuple[Link, ...]
    stories: tuple[Link, ...]
    draft: bool


@dataclass(frozen=True)
class Entry:
    """One timeline entry (or a 'what changed' / 'what's next' item)."""

    kind: str
    label: str
    anchor: str
    date: DateView
    date_shown: str
    title: str
    path: str
    summary: Markup | None
    topics: tuple[Link, ...]
    draft: bool
    month: tuple[int, int] = (0, 0)
    quote: QuoteView | None = None
    note: str | None = None


@dataclass(frozen=True)
class MonthGroup:
    heading: str
    machine: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Correction:
    date: DateView
    text: Markup


@dataclass(frozen=True)
class StoryCard:
    id: str
    path: str
    title: str
    date: DateView
    date_shown: str
    summary: Markup
    topics: tuple[Link, ...]
    draft: bool


@dataclass(frozen=True)
class StoryLine:
    """A story in a list of many (a person's stories): its card without the summary,
    so that a summary's edit leaves the list's page as it was."""

    id: str
    path: str
    title: str
    date: DateView
    date_shown: str
    topics: tuple[Link, ...]
    draft: bool


@dataclass(frozen=True)
class SiteView:
    title: str
    description: str | None
    language: str
    base_url: str
    base_path: str
    as_of: DateView
    nav: tuple[Link, ...]
    extra: dict[str, Any]


@dataclass(frozen=True)
class PageMeta:
    path: str
    title: str
    description: str
    kind: str
    canonical: str
    breadcrumbs: tuple[Link, ...]
    draft: bool = False
    structured: dict[str, Any] = field(default_factory=dict)


NAV = (
    Link("", "Briefing"),
    Link("topics/", "Topics"),
    Link("timeline/", "Timeline"),
    Link("questions/", "Questions"),
    Link("people/", "People"),
    Link("quotes/", "Quotes"),
    Link("search/", "Search"),
)


# Values a template writes the same way whenever they are equal and of the same type.
_PLAIN = frozenset({str, Markup, int, float, bool, type(None), date})
_FIELDS: dict[type, tuple[str, ...] | None] = {}


def same_view(old: Any, new: Any) -> bool:
    """Whether a template shows `new` exactly as it showed `old`: the same object, or
    the same types holding equal values all the way down. Python's `==` is not
    enough (`1 == True`, and `Markup("<b>") == "<b>"`, show differently), and a list
    or dict is compared by what it holds now, as it may have changed since. A value
    of any other kind is not the same unless it is the same object: when unsure,
    render again."""
    kind = type(old)
    if old is new and kind is not list and kind is not dict:
        return True
    if kind is not type(new):
        return False
    if kind in _PLAIN:
        return bool(old == new)
    if kind is tuple or kind is list:
        return len(old) == len(new) and all(map(same_view, old, new))
    if kind is dict:
        return len(old) == len(new) and all(
            a == b and type(a) is type(b) and same_view(old[a], new[b]) for a, b in zip(old, new)
        )
    if kind not in _FIELDS:
        _FIELDS[kind] = tuple(f.name for f in fields(kind)) if is_dataclass(kind) else None
    names = _FIELDS[kind]
    if names is None:
        return False
    return all(same_view(getattr(old, name), getattr(new, name)) for name in names)


def entry_order(pair: tuple[Any, Entry]) -> tuple[Any, str]:
    """A timeline's order: the record's date order, then the kind of entry (unique per entry)."""
    return (pair[0], pair[1].kind)


class ViewBuilder:
    """Builds views for one build; caches per-record views within it."""

    def __init__(self, site: Site, markdown: MarkdownRenderer, urls: Urls) -> None:
        self.site = site
        self.md = markdown
        self.urls = urls
        self.tz = site.config.tz
        self._quotes: dict[str, QuoteView] = {}
        self._questions: dict[str, QuestionView] = {}
        self.site_view = self._site_view()

    def cached(self, name: str, record: Record, make: Callable[[Record], Any]) -> Any:
        """`make(record)`, a view of that one record; a builder that shares views
        between pages (and builds) keeps it with the inputs it was made from."""
        return make(record)

    def each(self, name: str, records: list[Record], make: Callable[[Record], Any], user: str) -> list[Any]:
        """`cached(name, r, make)` for every record, in order. `user` names the list
        (a page's part, such as "home"): a builder that keeps views between builds
        keeps the whole list too, and makes again only what changed in it."""
        return [self.cached(name, record, make) for record in records]

    def each_then(
        self,
        name: str,
        records: list[Record],
        make: Callable[[Record], Any],
        user: str,
        then: Callable[[list[Any]], Any],
    ) -> Any:
        """`then(each(...))`, for a `then` that reads nothing but the views and makes
        a new object: a builder that keeps the list keeps what `then` made of it too."""
        return then(self.each(name, records, make, user))

    # -- small pieces -------------------------------------------------------

    def date(self, when: PartialDate) -> DateView:
        return DateView(
            when.text, when.display(self.tz), when.machine(), when.iso(self.tz), when.qualifier == "~"
        )

    def day(self, when: date) -> DateView:
        return self.date(PartialDate(when.isoformat(), "day", when.year, when.month, when.day))

    def markdown(self, text: str | None, nested: bool = True) -> Markup | None:
        """Sanitized HTML of Markdown shown inside the page's sections (nested: its
        headings become bold paragraphs), or as a page's own body (`nested=False`)."""
        if not text:
            return None
        html = self.md.render(text)
        return Markup(nest_headings(html) if nested else html)

    def link(self, record: Record) -> Link:
        return Link(self.urls.record(record.kind, record.id), self.site.label(record))

    def topic_links(self, record: Record) -> tuple[Link, ...]:
        return tuple(self.link(t) for t in self.site.record_topics(record))

    def refs(self, kind: str, ids: list[str] | None) -> tuple[Link, ...]:
        found = (self.site.records[kind].get(i) for i in ids or [])
        return tuple(self.link(r) for r in found if r is not None)

    def shown_date(self, record: Record) -> str:
        return record.values.get("date_text") or record.values["date"].display(self.tz)

    def source(self, value: dict[str, Any] | None) -> Source | None:
        if not value:
            return None
        url = safe_url(value["url"]) if value.get("url") else None
        return Source(value["name"], url, value.get("author"), value.get("via"))

    # -- record views -------------------------------------------------------

    def quote(self, record: Record) -> QuoteView:
        if record.id not in self._quotes:
            values = record.values
            speaker = self.site.records["people"].get(values["speaker"])
            story = self.site.records["stories"].get(values.get("story", ""))
            self._quotes[record.id] = QuoteView(
                record.id,
                f"quote-{record.id}",
                values["text"],
                self.link(speaker) if speaker else Link("", values["speaker"]),
                _role(speaker),
                self.date(values["date"]),
                self.shown_date(record),
                values.get("context"),
                self.source(values.get("source")),
                self.link(story) if story else None,
                self.topic_links(record),
                record.draft,
            )
        return self._quotes[record.id]

    def question(self, record: Record) -> QuestionView:
        if record.id not in self._questions:
            v = record.values
            self._questions[record.id] = QuestionView(
                record.id,
                f"questions/{record.id}/",
                v["question"],
                v["status"],
                self.site.is_overdue(record),
                self.date(v["raised"]),
                self.date(v["deadline"]) if v.get("deadline") else None,
                self.date(v["answered"]) if v.get("answered") and v["status"] == "answered" else None,
                self.markdown(v.get("answer")),
                self.markdown(v.get("why_it_matters")),
                self.markdown(v.get("resolution_criteria")),
                self.topic_links(record),
                self.refs("stories", v.get("stories")),
                record.draft,
            )
        return self._questions[record.id]

    def story_card(self, record: Record) -> StoryCard:
        return StoryCard(
            record.id,
            f"stories/{record.id}/",
            record.values["title"],
            self.date(record.values["date"]),
            self.shown_date(record),
            Markup(self.md.render(record.values["summary"])),
            self.topic_links(record),
            record.draft,
        )

    def story_line(self, record: Record) -> StoryLine:
        v = record.values
        return StoryLine(
            record.id,
            f"stories/{record.id}/",
            v["title"],
            self.date(v["date"]),
            self.shown_date(record),
            self.topic_links(record),
            record.draft,
        )

    def entries(self, record: Record) -> list[tuple[tuple[Any, ...], Entry]]:
        """The timeline entries of a record, each with its sort key."""
        found = []
        for data_kind, when in self.site.timeline_points(record):
            key = self.site.sort_key(record, when)
            found.append((key, self._entry(record, data_kind, when)))
        return found

    def _entry(self, record: Record, data_kind: str, when: PartialDate) -> Entry:
        v = record.values
        anchor = f"{data_kind.split('-')[0]}-{record.id}" + (
            f"-{data_kind.split('-')[1]}" if "-" in data_kind else ""
        )
        shown = v.get("date_text") if data_kind in ("story", "event", "quote") else None
        common = dict(
            kind=data_kind,
            label=KIND_LABELS[data_kind],
            anchor=anchor,
            date=self.date(when),
            month=when.month_key(self.tz),
            date_shown=shown or when.display(self.tz),
            topics=self.topic_links(record),
            draft=record.draft,
        )
        if data_kind == "quote":
            quote = self.quote(record)
            return Entry(
                title=v["text"],
                path=self.urls.record("quotes", record.id),
                summary=None,
                quote=quote,
                **common,
            )  # type: ignore[arg-type]
        if data_kind.startswith("question"):
            note = {
                "question-raised": "Raised",
                "question-deadline": "Deadline for an answer",
                "question-answered": "Answered",
            }[data_kind]
            summary = self.markdown(v.get("answer")) if data_kind == "question-answered" else None
            return Entry(
                title=v["question"], path=f"questions/{record.id}/", summary=summary, note=note, **common
            )  # type: ignore[arg-type]
        return Entry(
            title=v["title"],
            path=self.urls.record(record.kind, record.id),
            summary=self.markdown(v.get("summary")),
            **common,
        )  # type: ignore[arg-type]

    def timeline(
        self,
        records: list[Record],
        years: Container[int] | None = None,
        user: str | None = None,
        months: Container[tuple[int, int]] | None = None,
    ) -> tuple[MonthGroup, ...]:
        """Entries in date order (only those of `years` and `months`, when given), under
        month or year headings. `user`: the page (a builder that keeps views keeps its
        order too)."""
        keyed = [pair for record in records for pair in self.entries(record)]
        keyed.sort(key=entry_order)
        return self.grouped(keyed, years, months)

    def grouped(
        self,
        keyed: list[tuple[Any, Entry]],
        years: Container[int] | None,
        months: Container[tuple[int, int]] | None = None,
    ) -> tuple[MonthGroup, ...]:
        """Entries in date order under their month headings (those of `years` and
        `months`, when given)."""
        # Grouped in C (groupby, attrgetter): a year's page has thousands of entries,
        # grouped again at every edit while serving.
        runs = groupby(map(itemgetter(1), keyed), attrgetter("month"))
        return tuple(
            self.month_group(month, tuple(entries))
            for month, entries in runs
            if (years is None or month[0] in years) and (months is None or month in months)
        )

    def month_group(self, month: tuple[int, int], entries: tuple[Entry, ...]) -> MonthGroup:
        return MonthGroup(_month_heading(month), _month_machine(month), entries)

    # -- site and page ------------------------------------------------------

    def _site_view(self) -> SiteView:
        config = self.site.config
        return SiteView(
            config.title,
            config.description,
            config.language,
            config.base_url,
            config.base_path,
            self.day(self.site.options.as_of),
            NAV,
            config.extra,
        )

    def page(
        self,
        path: str,
        title: str,
        kind: str,
        description: str = "",
        crumbs: tuple[Link, ...] = (),
        draft: bool = False,
    ) -> PageMeta:
        canonical = self.site.config.base_url + path
        home = Link("", self.site.config.title)
        return PageMeta(
            path,
            title,
            description or self.site.config.description or title,
            kind,
            canonical,
            (home, *crumbs),
            draft,
        )


def _role(person: Record | None) -> str | None:
    if person is None:
        return None
    parts = [person.values.get("role"), person.values.get("org")]
    return ", ".join(p for p in parts if p) or None


def _month_heading(month: tuple[int, int]) -> str:
    from .dates import MONTH_NAMES

    year, number = month
    return str(year) if number == 0 else f"{MONTH_NAMES[number]} {year}"


def _month_machine(month: tuple[int, int]) -> str:
    year, number = month
    return f"{year:04d}" if number == 0 else f"{year:04d}-{number:02d}"


def within(site: Site, when: PartialDate | None, start: date, end: date) -> bool:
    """Whether a date's period overlaps [start, end]."""
    if when is None:
        return False
    tz = site.config.tz
    return when.last_day(tz) >= start and when.first_day(tz) <= end


def recent_window(site: Site) -> tuple[date, date]:
    as_of = site.options.as_of
    return as_of - timedelta(days=site.config.recent_days), as_of
