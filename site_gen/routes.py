"""Plan every output file: the only place paths and URLs are decided."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from itertools import chain
from typing import Any, Callable

from .index import Site
from .model import Record
from .places import FindMoved, PlacesMemo, moved_places

# The kinds with a page per record, and the view that makes it.
RECORD_PAGES = (("stories", "story"), ("questions", "question"), ("people", "person"))


@dataclass(frozen=True)
class Route:
    """One output file: where it goes and which view fills it.

    `path` is relative to the output folder ("topics/x/index.html");
    `view` names a function in views.VIEWS and `arg` is its record id or year.
    """

    path: str
    view: str
    arg: str = ""

    @property
    def is_page(self) -> bool:
        return self.path.endswith("index.html")

    @property
    def url_path(self) -> str:
        """The path a browser asks for ("topics/x/"), relative to the site root."""
        return self.path[: -len("index.html")] if self.is_page else self.path


BRIEFING_PATH = "data/briefing.json"  # every record as JSON


def page_path(kind: str, record_id: str = "") -> str:
    """The site-relative URL path of a record's page (or a kind's list)."""
    return f"{kind}/{record_id}/" if record_id else f"{kind}/"


def year_of(site: Site, record: Record) -> int:
    memo = record.derived(site.config.timezone)
    year = memo.get("year")
    if year is None:
        tz = site.config.tz
        year = memo["year"] = record.date.start(tz).astimezone(tz).year  # type: ignore[union-attr]
    return year


def timeline_years_of(site: Site, record: Record) -> list[int]:
    """The years in which `record` has a timeline entry (by month heading), sorted."""
    return _years(site, record, "timeline_years", lambda when, tz: when.month_key(tz)[0])


def open_year(site: Site, question: Record) -> int:
    """The year an open question is listed under: its deadline's, else the year it
    was raised (by month heading, as on the timeline)."""
    values = question.values
    return (values.get("deadline") or values["raised"]).month_key(site.config.tz)[0]


def _point_years(site: Site, record: Record) -> list[int]:
    """The years of a record's timeline points by their first instant (which list pages exist)."""
    return _years(site, record, "point_years", lambda when, tz: when.start(tz).astimezone(tz).year)


def timeline_months_of(site: Site, record: Record) -> list[tuple[int, int]]:
    """The (year, month) headings of `record`'s timeline entries, sorted (month 0: a
    date given by its year alone). Not kept with the record, unlike its years: only
    the month slots ask, once per record and build, and keeping it would cost about
    120 bytes a record (the peak of a 100,000-story build was 29 MiB higher with it)."""
    tz = site.config.tz
    return sorted({when.month_key(tz) for _, when in site.timeline_points(record)})


def quote_months_of(site: Site, record: Record) -> list[tuple[int, int]]:
    """A quote's heading on the quotes list: (its year, its month), month 0 when its
    date gives the year alone (its year as `year_of` has it, so a year's months hold
    exactly that year's quotes)."""
    year = year_of(site, record)
    heading = record.date.month_key(site.config.tz)  # type: ignore[union-attr]
    return [(year, heading[1] if heading[0] == year else 0)]


def _years(site: Site, record: Record, name: str, year: Callable[[Any, Any], int]) -> list[int]:
    memo = record.derived(site.config.timezone)
    years = memo.get(name)
    if years is None:
        tz = site.config.tz
        years = memo[name] = sorted({year(when, tz) for _, when in site.timeline_points(record)})
    return years


YearsOf = Callable[[Record], list[Any]]  # a record's years (or months) by some measure


@dataclass(frozen=True)
class Split:
    """A list split by year: its years, newest first, each year's records, and a busy
    year's records by month (filled in as years are asked about: see Urls._topic_months)."""

    years: list[int]
    by_year: dict[int, list[Record]]
    by_month: dict[int, dict[int, list[Record]] | None]


class YearSlots:
    """One kind's records by year (or by a (year, month) heading), each at its
    place in the kind's list: worked out once, then patched where the list holds
    other objects than last time (a record is the same object while its file is
    unchanged)."""

    PATCH_AT_MOST = 64  # changed places; more, and the slots are made anew

    def __init__(self, records: list[Record], years_of: YearsOf) -> None:
        self.records = records
        self.years_of = years_of
        self.members: dict[Any, dict[int, Record]] = {}
        for place, record in enumerate(records):
            for year in years_of(record):
                self.members.setdefault(year, {})[place] = record

    def patched(
        self, records: list[Record], years_of: YearsOf, moved_in: FindMoved = moved_places
    ) -> YearSlots:
        """The slots of `records` (new ones; these are left as they are). `moved_in`:
        how the places holding other records are found (see places.PlacesMemo)."""
        old = self.records
        moved = moved_in(old, records, self.PATCH_AT_MOST)
        if moved is None:
            return YearSlots(records, years_of)
        fresh = object.__new__(YearSlots)
        fresh.records, fresh.years_of = records, years_of
        fresh.members = dict(self.members)
        copied: set[Any] = set()
        for place in moved:
            for year in self.years_of(old[place]):
                fresh._slot(year, copied).pop(place, None)
            for year in years_of(records[place]):
                fresh._slot(year, copied)[place] = records[place]
        for year in [year for year in copied if not fresh.members[year]]:
            del fresh.members[year]
        return fresh

    def _slot(self, year: Any, copied: set[Any]) -> dict[int, Record]:
        if year not in copied:
            copied.add(year)
            self.members[year] = dict(self.members.get(year, {}))
        return self.members[year]

    def years(self) -> set[Any]:
        return set(self.members)

    def of(self, year: Any) -> list[Record]:
        """The records with `year`, in the kind's order."""
        found = self.members.get(year)
        return [found[place] for place in sorted(found)] if found else []


SPLIT_ABOVE = 100
"""A topic's page, or /questions/' settled questions, with more records than this
keep only the recent years; each earlier year gets a page of its own."""

MONTHS_ABOVE = 400
"""A year of the merged timeline, of the quotes or of a topic's timeline, with more
records than this is shown a month per page (a desk that files thousands of records
a year would otherwise get a year page of megabytes); its year page lists the months
and holds the records dated by the year alone."""

LETTERS_ABOVE = 150
"""/topics/ or /people/ with more entries than this lists them a letter per page
(/topics/by-name/a/): a briefing followed for years gathers thousands of people."""

TOPIC_LIST = "topics/"
QUESTION_ARCHIVE = "archive/"
OPEN_QUESTIONS = "questions/open"
"""The open questions on /questions/: past SPLIT_ABOVE, those due (or, with no
deadline, raised) before the cutoff year get a page per year, /questions/open/<year>/."""
BY_NAME = "by-name/"
OTHER_LETTER = "other"  # names that start with neither a letter of a to z nor one with an accent
LETTER_KINDS = ("topics", "people")


# Latin letters that no accent removal turns into a to z.
_PLAIN_LETTERS = str.maketrans("øæœßłđðþı", "oaoslddti")


def index_letter(name: str) -> str:
    """The letter a name is listed under: its first letter without accent, lower
    case ("Émile" under "e", "Øresund" under "o"), or OTHER_LETTER."""
    first = unicodedata.normalize("NFKD", name.strip()[:1])[:1].casefold().translate(_PLAIN_LETTERS)
    return first if "a" <= first <= "z" else OTHER_LETTER


def letter_label(letter: str) -> str:
    return "Other" if letter == OTHER_LETTER else letter.upper()


def _name_of(record: Record) -> str:
    return str(record.values["name" if record.kind == "people" else "title"])


def topic_list(topic_id: str) -> str:
    """The name of a topic's timeline list (for Urls' list methods)."""
    return f"{TOPIC_LIST}{topic_id}"


class Urls:
    """Where every record is shown, computed once per build.

    Lists that grow with the archive are split by year: "timeline" and "quotes"
    always, "questions" (its answered and dropped questions), OPEN_QUESTIONS and a
    topic's timeline (`topic_list(id)`) once they hold more than SPLIT_ABOVE records.
    Each list has its years (newest first), a cutoff year from which on the
    list page itself shows them, and an archive page for each earlier year.
    A year of the timeline, the quotes or a topic with more than MONTHS_ABOVE
    records is split again, by month.
    """

    def __init__(self, site: Site, kept: dict[str, Any] | None = None) -> None:
        self.site = site
        self._split: dict[str, Split] = {}
        # A topic's split from an earlier build, reused while its records are the same
        # objects (a record is the same object while its file is unchanged).
        self._kept = kept if kept is not None else {}
        self._slots: dict[tuple[str, str], YearSlots] = {}
        self._listed: dict[str, list[Record]] = {}  # see _records_of
        self._moved = PlacesMemo()  # the slots of a kind by each measure compare the same lists
        self._routes: dict[str, tuple[tuple[str, ...], list[Route]]] = {}
        self._months: dict[tuple[str, int], list[int]] = {}
        self._month_keys: dict[str, dict[int, set[int]]] = {}  # see _headings
        self._letters: dict[str, dict[str, list[Record]]] = {}  # see by_letter
        self.quote_years = sorted(self._slots_of("quotes", "quotes").years(), reverse=True)
        self._slots_of("quote_months", "quotes")
        points = set()
        for kind in TIMELINE_KINDS:
            points |= self._slots_of("points", kind).years()
            # Worked out here, in the build's own process, so that it is kept for the next
            # build (an edit while serving patches it) and forked workers share it.
            self._slots_of("timeline", kind)
            self._slots_of("months", kind)
        self.timeline_years = sorted(points, reverse=True)

    def _slots_of(self, name: str, kind: str) -> YearSlots:
        """`kind`'s records by quote year ("quotes"), by the first instant of their
        timeline points ("points"), by the years of their timeline month headings
        ("timeline") or by those headings, (year, month) ("months"), and quotes by
        (year, month) on the quotes list ("quote_months")."""
        found = self._slots.get((name, kind))
        if found is None:
            site = self.site
            years_of: Callable[[Record], list[Any]]
            if name == "months":
                years_of = lambda r: timeline_months_of(site, r)  # noqa: E731
            elif name == "quote_months":
                years_of = lambda r: quote_months_of(site, r)  # noqa: E731
            elif name == "quotes":
                years_of = lambda r: [year_of(site, r)]  # noqa: E731
            elif name == "points":
                years_of = lambda r: _point_years(site, r)  # noqa: E731
            else:
                years_of = lambda r: timeline_years_of(site, r)  # noqa: E731
            records = self._records_of(kind)
            key = f"slots:{name}:{kind}"
            kept = self._kept.get(key)
            if kept is not None and kept[0] == (site.config.timezone,):
                found = kept[1].patched(records, years_of, self._moved)
            else:
                found = YearSlots(records, years_of)
            self._kept[key] = ((site.config.timezone,), found)
            self._slots[(name, kind)] = found
        return found

    def _records_of(self, kind: str) -> list[Record]:
        """A kind's records, once per build: each kind's slots by several measures
        compare the same list with the last build's."""
        found = self._listed.get(kind)
        if found is None:
            found = self._listed[kind] = self.site.all(kind)
        return found

    def in_year(self, name: str, year: int) -> list[Record]:
        """The records the list `name` shows under `year`.

        A year's archive page reads only these, so that it and its rebuilds stay
        the size of one year however long the archive grows.
        """
        if name == "quotes":
            return self._slots_of("quotes", "quotes").of(year)
        if name == "timeline":
            slots = (self._slots_of("timeline", kind) for kind in TIMELINE_KINDS)
            return list(chain.from_iterable(kind.of(year) for kind in slots))
        return self._split_list(name).by_year.get(year, [])

    def months(self, name: str, year: int) -> list[int]:
        """The months of `year` that `name` shows a page each for, or none when the
        year fits one page (0 among them: records dated by the year alone, shown on
        the page that shows the year). The merged timeline, the quotes and a topic's
        timeline split so."""
        if name not in MONTH_SLOTS:
            by_month = self._topic_months(name, year)
            return sorted(by_month) if by_month else []
        found = self._months.get((name, year))
        if found is None:
            found = self._months[(name, year)] = self._months_of(name, year)
        return found

    def _months_of(self, name: str, year: int) -> list[int]:
        by_year, by_month, kinds = MONTH_SLOTS[name]
        slots = [self._slots_of(by_year, kind).members.get(year) for kind in kinds]
        if sum(len(slot) for slot in slots if slot) <= MONTHS_ABOVE:
            return []
        return sorted(self._headings(name).get(year, ()))

    def _headings(self, name: str) -> dict[int, set[int]]:
        """Each year's months with records in the list `name`: the keys of its month
        slots, walked once per build (a few thousand at 100,000 stories), not its records."""
        found = self._month_keys.get(name)
        if found is None:
            found = self._month_keys[name] = {}
            for kind in MONTH_SLOTS[name][2]:
                for year, month in self._slots_of(MONTH_SLOTS[name][1], kind).members:
                    found.setdefault(year, set()).add(month)
        return found

    def month_cutoff(self, name: str, year: int) -> int:
        """The first month of a year split by month that the list page itself shows:
        the as-of month in the as-of year, every month of a later year, and the last
        month of a newest year that is already past."""
        as_of = self.site.options.as_of
        if year != as_of.year:
            return 1 if year > as_of.year else max(self.months(name, year), default=1)
        return as_of.month

    def month_pages(self, name: str) -> list[tuple[int, int]]:
        """The (year, month) of every month page of `name`, newest first: each month of
        an archived year split by month, and the months of a listed one before its
        month cutoff."""
        archived = set(self.archived(name))
        pages = []
        for year in self.years(name):
            months = [m for m in self.months(name, year) if m]
            if months and year not in archived:
                cutoff = self.month_cutoff(name, year)
                months = [m for m in months if m < cutoff]
            pages += [(year, m) for m in reversed(months)]
        return pages

    def month_path(self, name: str, year: int, month: int) -> str:
        return f"{name}/{year}/{month:02d}/"

    def in_month(self, name: str, year: int, month: int) -> list[Record]:
        """The records `name` shows under the heading of `month` of `year` (0: the year alone)."""
        if name not in MONTH_SLOTS:
            by_month = self._topic_months(name, year)
            return by_month.get(month, []) if by_month else []
        _, by_month, kinds = MONTH_SLOTS[name]
        return [r for kind in kinds for r in self._slots_of(by_month, kind).of((year, month))]

    def month_archive(self, name: str, year: int, month: int) -> str:
        """The page that shows `month` of `year` (0: the year alone) of the list `name`."""
        page = self.archive(name, year)
        if not month or month not in self.months(name, year):
            return page
        if page == self.list_path(name) and month >= self.month_cutoff(name, year):
            return page
        return self.month_path(name, year, month)

    def _topic_months(self, name: str, year: int) -> dict[int, list[Record]] | None:
        """A topic's records of a busy `year` by month heading (None: the year fits a
        page, or `name` is not a topic's list). Worked out when first asked for and kept
        with the topic's split, which a next build reuses while the topic's records are
        the same."""
        if not name.startswith(TOPIC_LIST):
            return None
        split = self._split_list(name)
        if year in split.by_month:
            return split.by_month[year]
        records = split.by_year.get(year, [])
        by_month: dict[int, list[Record]] | None = None
        if len(records) > MONTHS_ABOVE:
            by_month = {}
            for record in records:
                for heading in timeline_months_of(self.site, record):
                    if heading[0] == year:
                        by_month.setdefault(heading[1], []).append(record)
        split.by_month[year] = by_month
        return by_month

    def _split_list(self, name: str) -> Split:
        """A list split only when it is long: its years and each year's records
        (no years when it fits one page)."""
        found = self._split.get(name)
        if found is None:
            settings = (self.site.config.timezone, SPLIT_ABOVE, MONTHS_ABOVE)
            kept = self._kept.get(name)
            # A topic's records by kind: a patched site copies them only for the topics of
            # the records it swapped, so the same object means the same records.
            topic = name[len(TOPIC_LIST) :] if name.startswith(TOPIC_LIST) else None
            source = self.site.by_topic.get(topic) if topic is not None else None
            if kept is not None and source is not None and kept[3] is source and kept[0][:3] == settings:
                found = self._split[name] = kept[2]
                return found
            records, years_of = self._members(name)
            # The kept entry holds its records, so their ids are not reused by others.
            identity = (*settings, tuple(map(id, records)))
            if kept is not None and kept[0] == identity:
                found = self._split[name] = kept[2]
                self._kept[name] = (identity, records, found, source)
                return found
            by_year: dict[int, list[Record]] = {}
            if len(records) > SPLIT_ABOVE:
                for record in records:
                    for year in years_of(record):
                        by_year.setdefault(year, []).append(record)
            found = self._split[name] = Split(sorted(by_year, reverse=True), by_year, {})
            self._kept[name] = (identity, records, found, source)
        return found

    def kept(self) -> dict[str, Any]:
        """What a next build's Urls may reuse (the splits this build used)."""
        # Every kind's year slots (a build that looks at no year still keeps them), and
        # the splits of the lists this build planned (not those of topics now gone).
        slots = {name: kept for name, kept in self._kept.items() if name.startswith(("slots:", "letters:"))}
        return slots | self._routes | {name: self._kept[name] for name in self._split if name in self._kept}

    def _members(self, name: str) -> tuple[list[Record], Callable[[Record], list[int]]]:
        site = self.site
        if name == "questions":
            settled = [q for q in site.all("questions") if q.values["status"] != "open"]
            return settled, lambda q: timeline_years_of(site, q)[-1:]
        if name == OPEN_QUESTIONS:
            open_ = [q for q in site.all("questions") if q.values["status"] == "open"]
            return open_, lambda q: [open_year(site, q)]
        topic_id = name[len(TOPIC_LIST) :]
        records = list(chain.from_iterable(site.topic_records(topic_id, kind) for kind in TIMELINE_KINDS))
        return records, lambda r: timeline_years_of(site, r)

    def years(self, name: str) -> list[int]:
        if name == "quotes":
            return self.quote_years
        if name == "timeline":
            return self.timeline_years
        return self._split_list(name).years

    def cutoff(self, name: str) -> int | None:
        """The first year the list page itself shows: the as-of year (or the newest
        year when nothing is that recent), so that upcoming entries stay in view.
        None when the list is not split."""
        years = self.years(name)
        return min(self.site.options.as_of.year, years[0]) if years else None

    def archived(self, name: str) -> list[int]:
        """The years with an archive page of their own, newest first."""
        cutoff = self.cutoff(name)
        return [y for y in self.years(name) if cutoff is not None and y < cutoff]

    def list_path(self, name: str) -> str:
        """The list page itself."""
        return "questions/" if name == OPEN_QUESTIONS else f"{name}/"

    def archive(self, name: str, year: int) -> str:
        """The page that shows `year`: the list page from the cutoff year on."""
        cutoff = self.cutoff(name)
        if cutoff is None or year >= cutoff:
            return self.list_path(name)
        if name == "questions":
            return f"questions/{QUESTION_ARCHIVE}{year}/"
        return f"{name}/{year}/"

    def by_letter(self, kind: str) -> dict[str, list[Record]]:
        """The records of `kind` ("topics", "people") by index letter, each letter's
        sorted by name, the letters in order (OTHER_LETTER last); empty when the list
        fits one page (LETTERS_ABOVE). Kept for a next build while the records are
        the same objects."""
        found = self._letters.get(kind)
        if found is None:
            records = self.site.all(kind)
            identity = (LETTERS_ABOVE, tuple(map(id, records)))
            key = f"letters:{kind}"
            kept = self._kept.get(key)
            if kept is not None and kept[0] == identity:
                found = kept[2]
            else:
                found = {}
                if len(records) > LETTERS_ABOVE:
                    named = sorted(records, key=lambda r: (_name_of(r).casefold(), r.id))
                    for record in named:
                        found.setdefault(index_letter(_name_of(record)), []).append(record)
                    found = {k: found[k] for k in sorted(found, key=lambda k: (k == OTHER_LETTER, k))}
            # The kept entry holds its records, so their ids are not reused by others.
            self._kept[key] = (identity, records, found)
            self._letters[kind] = found
        return found

    def letters(self, kind: str) -> list[str]:
        """The letters `kind`'s list has a page each for (none: it fits one page)."""
        return list(self.by_letter(kind))

    def in_letter(self, kind: str, letter: str) -> list[Record]:
        return self.by_letter(kind).get(letter, [])

    def letter_path(self, kind: str, letter: str) -> str:
        return f"{kind}/{BY_NAME}{letter}/"

    def record_routes(self, kind: str, view: str) -> list[Route]:
        """A page for each record of `kind`: the last build's routes while the ids
        are the same (making ten thousand routes costs more than comparing ids)."""
        ids = tuple(self.site.records[kind])
        key = f"routes:{kind}:{view}"
        kept = self._kept.get(key)
        if kept is not None and kept[0] == ids:
            self._routes[key] = kept
            return kept[1]
        routes = [Route(f"{kind}/{rid}/index.html", view, rid) for rid in ids]
        self._routes[key] = self._kept[key] = (ids, routes)
        return routes

    def record(self, kind: str, record_id: str) -> str:
        """The URL path (relative to the site root) where a record is shown."""
        if kind == "events":
            event = self.site.records["events"][record_id]
            topics = self.site.topics_of.get(("events", record_id)) or event.values["topics"]
            year, month = timeline_months_of(self.site, event)[0]
            return f"{self.month_archive(topic_list(topics[0]), year, month)}#event-{record_id}"
        if kind == "quotes":
            quote = self.site.records["quotes"][record_id]
            ((year, month),) = quote_months_of(self.site, quote)
            return f"{self.month_archive('quotes', year, month)}#quote-{record_id}"
        return page_path(kind, record_id)


TIMELINE_KINDS = ("stories", "events", "quotes", "questions")

# The lists a busy year splits by month: the slots of a year's records, the slots by
# (year, month) heading, and the kinds they hold.
MONTH_SLOTS = {
    "timeline": ("timeline", "months", TIMELINE_KINDS),
    "quotes": ("quotes", "quote_months", ("quotes",)),
}


# Every site has these (the same objects from build to build: plans compare quickly).
FIXED_ROUTES = (
    Route("index.html", "home"),
    Route("topics/index.html", "topics"),
    Route("timeline/index.html", "timeline"),
    Route("questions/index.html", "questions"),
    Route("people/index.html", "people"),
    Route("quotes/index.html", "quotes"),
    Route("404.html", "not_found"),
    Route("search/index.html", "search"),
    Route("feed.xml", "feed"),
    Route("sitemap.xml", "sitemap"),
    Route("robots.txt", "robots"),
    Route(BRIEFING_PATH, "briefing_json"),
    Route("data/briefing.schema.json", "briefing_schema"),
)


def plan(site: Site, urls: Urls) -> list[Route]:
    """Every file the site is made of, in a stable order."""
    routes = list(FIXED_ROUTES)
    routes += [Route(f"timeline/{y}/index.html", "timeline", str(y)) for y in urls.archived("timeline")]
    routes += [Route(f"quotes/{y}/index.html", "quotes", str(y)) for y in urls.archived("quotes")]
    for name in MONTH_SLOTS:
        for year, month in urls.month_pages(name):
            path = urls.month_path(name, year, month)
            routes.append(Route(f"{path}index.html", name, f"{year}/{month:02d}"))
    settled = urls.archived("questions")
    routes += [Route(f"{urls.archive('questions', y)}index.html", "questions", str(y)) for y in settled]
    for year in urls.archived(OPEN_QUESTIONS):
        routes.append(Route(f"{urls.archive(OPEN_QUESTIONS, year)}index.html", "questions", f"open/{year}"))
    for topic_id in site.records["topics"]:
        routes.append(Route(f"topics/{topic_id}/index.html", "topic", topic_id))
        routes.append(Route(f"topics/{topic_id}/feed.xml", "feed", topic_id))
        routes.append(Route(f"topics/{topic_id}/timeline.json", "timeline_json", topic_id))
        name = topic_list(topic_id)
        for year in urls.archived(name):
            routes.append(Route(f"topics/{topic_id}/{year}/index.html", "topic_year", f"{topic_id}/{year}"))
        for year, month in urls.month_pages(name):
            path = urls.month_path(name, year, month)
            routes.append(Route(f"{path}index.html", "topic_year", f"{topic_id}/{year}/{month:02d}"))
    for kind in LETTER_KINDS:
        routes += [Route(f"{urls.letter_path(kind, x)}index.html", kind, x) for x in urls.letters(kind)]
    for kind, view in RECORD_PAGES:
        routes += urls.record_routes(kind, view)
    return routes
