"""One function per page kind: the template to use and the views it gets."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any, Callable, Container

from .index import TOPICAL
from .model import Record
from .routes import OPEN_QUESTIONS, letter_label, open_year, timeline_months_of, timeline_years_of, topic_list
from .views import DateView, Entry, Link, QuestionView, ViewBuilder, recent_window, within

Context = dict[str, Any]
LATEST = 3
RECENT_QUOTES = 5
HOME_QUESTIONS = 25
"""The open questions the home page shows, the most pressing first (overdue, then by
deadline); /questions/ lists the others (by the year they are due, once there are
many). A long-running briefing can hold a thousand."""
MOST_QUOTED = 25
"""The people /people/ shows once it lists them a letter per page."""
LATEST_TOPICS = 25
"""The active topics /topics/ shows once it lists topics a letter per page: those
with the latest developments."""


@dataclass(frozen=True)
class TopicSummary:
    topic: Link
    status: str
    summary: Any
    latest: tuple[Entry, ...]
    changed: tuple[Entry, ...]
    open_questions: int
    last_date: DateView | None
    last_key: Any = None  # the sort key of its last development (to rank topics by)


@dataclass(frozen=True)
class Next:
    """A 'what's next' item: an upcoming deadline or scheduled event."""

    kind: str
    date_shown: str
    machine: str
    title: str
    path: str
    topics: tuple[Link, ...]


def _pressing_first(vb: ViewBuilder) -> Callable[[Record], tuple[Any, ...]]:
    """The order of questions: overdue first, then by deadline (none last), then by
    when raised."""
    tz, site = vb.tz, vb.site

    def key(record: Record) -> tuple[Any, ...]:
        deadline = record.values.get("deadline")
        when = deadline.sort_key(tz) if deadline else (float("inf"), 0)
        return (not site.is_overdue(record), when, site.sort_key(record))

    return key


def question_order(vb: ViewBuilder, questions: list[Record]) -> list[QuestionView]:
    """Overdue first, then by deadline (none last), then by when raised."""
    return [vb.question(q) for q in sorted(questions, key=_pressing_first(vb))]


def _most_pressing(vb: ViewBuilder, questions: list[Record], count: int) -> list[QuestionView]:
    """The first `count` of `questions` in question_order, without a view of every one."""
    return [vb.question(q) for q in heapq.nsmallest(count, questions, key=_pressing_first(vb))]


def open_questions(vb: ViewBuilder, records: list[Record]) -> list[QuestionView]:
    return question_order(vb, [q for q in records if q.values["status"] == "open"])


def whats_next(vb: ViewBuilder, records: list[Record], user: str) -> tuple[Next, ...]:
    """Upcoming deadlines and scheduled events from the as-of date on, nearest first."""
    return vb.each_then("next", records, lambda r: _next(vb, r), user, _soonest_first)


def _soonest_first(items: list[tuple[Any, Next] | None]) -> tuple[Next, ...]:
    return tuple(item for _, item in sorted(filter(None, items), key=itemgetter(0)))


def _next(vb: ViewBuilder, record: Record) -> tuple[Any, Next] | None:
    """A record's "what's next" item (sort key, item), if it has one."""
    site, as_of = vb.site, vb.site.options.as_of
    if record.kind == "questions" and record.values["status"] == "open":
        deadline = record.values.get("deadline")
        if deadline and deadline.last_day(vb.tz) >= as_of:
            return (
                site.sort_key(record, deadline),
                Next(
                    "deadline",
                    deadline.display(vb.tz),
                    deadline.machine(),
                    record.values["question"],
                    f"questions/{record.id}/",
                    vb.topic_links(record),
                ),
            )
    elif record.kind == "events" and record.values["date"].last_day(vb.tz) >= as_of:
        when = record.values["date"]
        return (
            site.sort_key(record),
            Next(
                "event",
                vb.shown_date(record),
                when.machine(),
                record.values["title"],
                vb.urls.record("events", record.id),
                vb.topic_links(record),
            ),
        )
    return None


def changed_entries(vb: ViewBuilder, records: list[Record], user: str) -> tuple[Entry, ...]:
    """What moved in the recent window, newest first: new, updated, corrected, answered."""
    window = recent_window(vb.site)
    return vb.each_then("moved", records, lambda r: _moved(vb, r, window), user, _newest_first)


def _newest_first(moved: list[tuple[tuple[Any, Entry], ...]]) -> tuple[Entry, ...]:
    found = list(chain.from_iterable(moved))
    found.sort(key=itemgetter(0), reverse=True)
    return tuple(entry for _, entry in found)


def _moved(vb: ViewBuilder, record: Record, window: tuple[Any, Any]) -> tuple[tuple[Any, Entry], ...]:
    """One record's part of "what moved": its entries and revisions dated in the window."""
    start, end = window
    found = []
    # Entries are made only for records with a date in the window: the home
    # page looks at every record, and most are older.
    points = vb.site.timeline_points(record)
    if any(kind != "question-deadline" and within(vb.site, when, start, end) for kind, when in points):
        for key, entry in vb.entries(record):
            if entry.kind != "question-deadline" and within(vb.site, _parse(entry), start, end):
                found.append((key, entry))
    found.extend(_revisions(vb, record, start, end))
    return tuple(found)


def _revisions(vb: ViewBuilder, record: Record, start: Any, end: Any) -> list[tuple[Any, Entry]]:
    if record.kind != "stories":
        return []
    revisions = []
    updated = record.values.get("updated")
    if updated and within(vb.site, updated, start, end):
        revisions.append((updated, "Updated", None))
    for correction in record.values.get("corrections", []):
        if within(vb.site, correction["date"], start, end):
            revisions.append((correction["date"], "Corrected", vb.markdown(correction["text"])))
    return [
        (
            vb.site.sort_key(record, when),
            Entry(
                "story",
                label,
                f"story-{record.id}",
                vb.date(when),
                when.display(vb.tz),
                record.values["title"],
                f"stories/{record.id}/",
                summary,
                vb.topic_links(record),
                record.draft,
                when.month_key(vb.tz),
                note=label,
            ),
        )
        for when, label, summary in revisions
    ]


def _parse(entry: Entry) -> Any:
    from .dates import parse_date

    return parse_date(entry.date.written)


def topic_records(vb: ViewBuilder, topic_id: str) -> list[Record]:
    return list(chain.from_iterable(vb.site.topic_records(topic_id, kind) for kind in TOPICAL))


def latest(vb: ViewBuilder, records: list[Record], count: int = LATEST) -> tuple[Entry, ...]:
    """The newest stories and events up to the as-of date."""
    as_of = vb.site.options.as_of
    past = [
        r for r in records if r.kind in ("stories", "events") and r.values["date"].first_day(vb.tz) <= as_of
    ]
    past.sort(key=vb.site.sort_key, reverse=True)
    return tuple(entry for r in past[:count] for _, entry in vb.entries(r))


# -- pages ------------------------------------------------------------------


def home(vb: ViewBuilder, arg: str) -> tuple[str, Context]:
    site = vb.site
    active = [t for t in site.all("topics") if t.values["status"] == "active"]
    everything = list(chain.from_iterable(site.all(kind) for kind in TOPICAL))  # joined in C: 17,000 records
    summaries = tuple(topic_summary(vb, t) for t in active)
    quotes = recent_quotes(vb, site.all("quotes"))
    start, end = recent_window(site)
    open_ = [q for q in site.all("questions") if q.values["status"] == "open"]
    pressing = _most_pressing(vb, open_, HOME_QUESTIONS)
    return "home.html", {
        "page": vb.page("", site.config.title, "home"),
        "changed": changed_entries(vb, everything, "home"),
        "window": (vb.day(start), vb.day(end)),
        "recent_days": site.config.recent_days,
        "topics": summaries,
        "open_questions": tuple(pressing),
        "open_count": len(open_),
        "open_by_year": vb.urls.cutoff(OPEN_QUESTIONS) is not None,
        "overdue_count": sum(1 for q in open_ if site.is_overdue(q)),
        "next": whats_next(vb, everything, "home"),
        "quotes": tuple(vb.quote(q) for q in quotes),
    }


def recent_quotes(vb: ViewBuilder, quotes: list[Record]) -> tuple[Record, ...]:
    """The newest quotes said up to the as-of date."""
    as_of, tz, sort_key = vb.site.options.as_of, vb.tz, vb.site.sort_key

    def said(quote: Record) -> tuple[Any, Record] | None:  # a sort key is unique to its record
        return (sort_key(quote), quote) if quote.values["date"].first_day(tz) <= as_of else None

    return vb.each_then("said", quotes, said, "home", _newest_said)


def _newest_said(said: list[tuple[Any, Record] | None]) -> tuple[Record, ...]:
    return tuple(quote for _, quote in heapq.nlargest(RECENT_QUOTES, filter(None, said)))


def topic_summary(vb: ViewBuilder, topic: Record) -> TopicSummary:
    """A topic's card on the home page and /topics/ (made once per build, or kept)."""
    return vb.cached("topic_summary", topic, lambda record: _topic_summary(vb, record))


def _topic_summary(vb: ViewBuilder, topic: Record) -> TopicSummary:
    records = topic_records(vb, topic.id)
    dated = [r for r in records if r.date and r.date.first_day(vb.tz) <= vb.site.options.as_of]
    last = max(dated, key=vb.site.sort_key) if dated else None
    return TopicSummary(
        vb.link(topic),
        topic.values["status"],
        vb.markdown(topic.values["summary"]),
        latest(vb, records),
        changed_entries(vb, records, f"topics/{topic.id}/"),
        sum(1 for r in records if r.kind == "questions" and r.values["status"] == "open"),
        vb.date(last.date) if last and last.date else None,
        vb.site.sort_key(last) if last else None,
    )


def topics(vb: ViewBuilder, arg: str) -> tuple[str, Context]:
    """Every topic by status; once there are many (routes.LETTERS_ABOVE), a page per
    letter (arg "a") and, on /topics/ itself, the active topics that moved last."""
    letters = _letter_links(vb, "topics")
    groups = {status: [] for status in ("active", "dormant", "closed")}  # type: dict[str, list[Any]]
    active = 0
    if letters and not arg:
        summaries = [topic_summary(vb, t) for t in vb.site.all("topics") if t.values["status"] == "active"]
        active = len(summaries)
        groups["active"] = heapq.nlargest(LATEST_TOPICS, summaries, key=_last_moved)
    else:
        for topic in vb.urls.in_letter("topics", arg) if arg else vb.site.all("topics"):
            groups[topic.values["status"]].append(topic_summary(vb, topic))
    page, letter = _letter_page(vb, "topics", "Topics", arg)
    return "topics.html", {
        "page": page,
        "groups": tuple((k, tuple(v)) for k, v in groups.items() if v),
        "letters": letters,
        "letter": letter,
        "active_count": active,
    }


def _last_moved(summary: TopicSummary) -> tuple[bool, Any]:
    return (summary.last_key is not None, summary.last_key or ())


def topic(vb: ViewBuilder, topic_id: str) -> tuple[str, Context]:
    record = vb.site.records["topics"][topic_id]
    records = topic_records(vb, topic_id)
    name = topic_list(topic_id)
    # A long topic shows its recent years here (a busy one from its month cutoff on);
    # each earlier year, or month, has a page of its own.
    cutoff = vb.urls.cutoff(name)
    years = sorted(_shown_years(vb, name, "")) if cutoff is not None else None
    questions, earlier = _recent_questions(vb, [r for r in records if r.kind == "questions"], cutoff)
    answered = question_order(vb, [q for q in questions if q.values["status"] == "answered"])
    dropped = question_order(vb, [q for q in questions if q.values["status"] == "dropped"])
    shown, headings = (records, None) if years is None else _shown_records(vb, name, years, listed=True)
    months = _months_shown(vb, name, years or [], listed=True)
    split_year = months["months_year"]
    v = record.values
    title = v["title"]
    return "topic.html", {
        "page": vb.page(
            f"topics/{topic_id}/",
            title,
            "topic",
            _plain(vb, v["summary"]),
            (Link("topics/", "Topics"), Link(f"topics/{topic_id}/", title)),
            record.draft,
        ),
        "topic": _topic_header(vb, record),
        "known": tuple(answered),
        "latest": latest(vb, records),
        "unknown": tuple(open_questions(vb, questions)),
        "dropped": tuple(dropped),
        "questions_from": cutoff if any(earlier.values()) else None,
        "earlier_questions": earlier,
        "next": whats_next(vb, records, f"topics/{topic_id}/"),
        "years": _year_links(vb, name),
        "period": "",
        **months,
        "months_from": _month_name(vb.urls.month_cutoff(name, split_year)) if split_year else "",
        "timeline": vb.timeline(_unique(shown), years, f"topics/{topic_id}/", headings),
        "quotes": _topic_quotes(vb, shown, years, headings),
    }


def _recent_questions(
    vb: ViewBuilder, questions: list[Record], cutoff: int | None
) -> tuple[list[Record], dict[str, int]]:
    """A long topic's page lists the questions settled (open ones: due, or raised
    with no deadline) from its cutoff year on; the others are in the timelines of
    its earlier years. Also how many of each status are left to those."""
    earlier = {"open": 0, "answered": 0, "dropped": 0}
    if cutoff is None:
        return questions, earlier
    site, recent = vb.site, []
    for question in questions:
        status = question.values["status"]
        if status == "open":
            year = open_year(site, question)
        else:
            year = timeline_years_of(site, question)[-1]
        if year >= cutoff:
            recent.append(question)
        else:
            earlier[status] += 1
    return recent, earlier


def topic_year(vb: ViewBuilder, arg: str) -> tuple[str, Context]:
    """One earlier year of a long topic's timeline (`arg` is "<topic id>/<year>") or, for
    a year split by month, one month of it ("<topic id>/<year>/<MM>")."""
    topic_id, period = arg.split("/", 1)
    record = vb.site.records["topics"][topic_id]
    name, title = topic_list(topic_id), record.values["title"]
    lead = (Link("topics/", "Topics"), Link(f"topics/{topic_id}/", title))
    if "/" in period:
        year, month, shown, context = _month_page(vb, name, period, title, lead, "topic_year", record.draft)
        headings: Any = {(year, month)}
    else:
        year = int(period)
        path = vb.urls.archive(name, year)
        shown, headings = _shown_records(vb, name, [year], listed=False)
        context = {
            "page": vb.page(
                path, f"{title}: {year}", "topic_year", crumbs=(*lead, Link(path, period)), draft=record.draft
            ),
            "year": year,
            "period": period,
            "years": _year_links(vb, name),
            **_months_shown(vb, name, [year], listed=False),
        }
    return "topic_year.html", {
        **context,
        "topic": _topic_header(vb, record),
        "timeline": vb.timeline(shown, {year}, context["page"].path, headings),
        "quotes": _topic_quotes(vb, shown, {year}, headings),
    }


def _topic_header(vb: ViewBuilder, record: Record) -> dict[str, Any]:
    v, topic_id = record.values, record.id
    return {
        "id": topic_id,
        "title": v["title"],
        "status": v["status"],
        "summary": vb.markdown(v["summary"]),
        "started": vb.date(v["started"]) if v.get("started") else None,
        "tags": tuple(v.get("tags", [])),
        "related": tuple(vb.link(vb.site.records["topics"][t]) for t in vb.site.related.get(topic_id, [])),
        "feed": f"topics/{topic_id}/feed.xml",
        "timeline_json": f"topics/{topic_id}/timeline.json",
    }


def _topic_quotes(
    vb: ViewBuilder,
    records: list[Record],
    years: Container[int] | None,
    headings: Container[tuple[int, int]] | None = None,
) -> tuple[Any, ...]:
    """The quotes among `records` (said in `years` and under `headings`, (year, month),
    when given), newest first."""
    site = vb.site
    said = [
        r
        for r in _unique(records)
        if r.kind == "quotes"
        and (years is None or timeline_years_of(site, r)[0] in years)
        and (headings is None or timeline_months_of(site, r)[0] in headings)
    ]
    return tuple(vb.quote(q) for q in sorted(said, key=vb.site.sort_key, reverse=True))


def _unique(records: list[Record]) -> list[Record]:
    """`records` without repeats (a record with entries in several years is listed in each)."""
    return list({id(r): r for r in records}.values())


def timeline(vb: ViewBuilder, arg: str) -> tuple[str, Context]:
    """The merged timeline: the list page (arg ""), an earlier year ("2024") or, for a
    year split by month, one month of it ("2024/03")."""
    if "/" in arg:
        year, month, shown, context = _list_month_page(vb, "timeline", arg)
        entries = vb.timeline(shown, {year}, context["page"].path, {(year, month)})
        return "timeline.html", {**context, "timeline": entries}
    years = sorted(_shown_years(vb, "timeline", arg))
    path = vb.urls.archive("timeline", int(arg)) if arg else "timeline/"
    # Only the shown years' (or months') records: a page never reads the whole archive.
    everything, months = _shown_records(vb, "timeline", years, listed=not arg)
    return "timeline.html", {
        **_list_page(vb, "timeline", arg, years, path),
        "timeline": vb.timeline(everything, set(years), path, months) if years else (),
    }


LIST_TITLES = {"timeline": "Timeline", "quotes": "Quotes"}


def _list_page(vb: ViewBuilder, name: str, arg: str, years: list[int], path: str) -> Context:
    """What the list page of `name` or one of its years shows besides its records."""
    title = LIST_TITLES[name] if not arg else f"{LIST_TITLES[name]}: {arg}"
    crumbs = (Link(f"{name}/", LIST_TITLES[name]),) + ((Link(path, arg),) if arg else ())
    return {
        "page": vb.page(path, title, name, crumbs=crumbs),
        "year": int(arg) if arg else None,
        "period": arg,
        "years": _year_links(vb, name),
        **_months_shown(vb, name, years, listed=not arg),
    }


def _months_shown(vb: ViewBuilder, name: str, years: list[int], listed: bool) -> Context:
    """The month pages a page of `name` showing `years` links (see _month_links), and
    the year they are months of."""
    return {
        "months": _month_links(vb, name, years, listed),
        "months_year": next((y for y in years if vb.urls.months(name, y)), None),
    }


def _shown_records(vb: ViewBuilder, name: str, years: list[int], listed: bool) -> tuple[list[Record], Any]:
    """The records the page of `name` shows for `years`, and the month headings it shows
    them under (None: all of those years'). A year split by month shows the records
    dated by the year alone and, on the list page, its months from the month cutoff on."""
    urls, records, headings, split = vb.urls, [], set(), False
    for year in years:
        months = urls.months(name, year)
        if not months:
            records += urls.in_year(name, year)
            headings.update((year, m) for m in range(13))
            continue
        split = True
        first = urls.month_cutoff(name, year) if listed else 13
        for month in (m for m in months if m == 0 or m >= first):
            records += urls.in_month(name, year, month)
            headings.add((year, month))
    return _unique(records), (headings if split else None)


def _month_links(vb: ViewBuilder, name: str, years: list[int], listed: bool) -> tuple[Link, ...]:
    """The month pages of the shown years split by month: all of an archived year's,
    the list page's months before its month cutoff."""
    urls, links = vb.urls, []
    for year in years:
        months = [m for m in urls.months(name, year) if m]
        if listed:
            cutoff = urls.month_cutoff(name, year)
            months = [m for m in months if m < cutoff]
        links += [Link(urls.month_path(name, year, m), _month_name(m)) for m in months]
    return tuple(links)


def _month_name(month: int, year: int | None = None) -> str:
    from .dates import MONTH_NAMES

    return MONTH_NAMES[month] if year is None else f"{MONTH_NAMES[month]} {year}"


def _list_month_page(vb: ViewBuilder, name: str, arg: str) -> tuple[int, int, list[Record], Context]:
    """One month of the merged timeline or the quotes (see _month_page)."""
    title = LIST_TITLES[name]
    return _month_page(vb, name, arg, title, (Link(f"{name}/", title),), name)


def _month_page(
    vb: ViewBuilder, name: str, arg: str, title: str, lead: tuple[Link, ...], kind: str, draft: bool = False
) -> tuple[int, int, list[Record], Context]:
    """One month of a year the list `name` splits by month ("2024/03"): the year, the
    month, its records and what the page shows besides them. `title`: the list's, which
    the page's title starts with; `lead`: the breadcrumbs to the list page."""
    year, month = map(int, arg.split("/"))
    urls = vb.urls
    path = urls.month_path(name, year, month)
    shown = urls.in_month(name, year, month)
    period = _month_name(month, year)
    year_page = urls.archive(name, year)
    months = [m for m in urls.months(name, year) if m]
    crumbs: tuple[Link, ...] = (*lead, Link(path, period))
    if year_page == urls.list_path(name):  # a listed year: its earlier months have pages
        months = [m for m in months if m < urls.month_cutoff(name, year)]
    else:
        crumbs = (*lead, Link(year_page, str(year)), crumbs[-1])
    return (
        year,
        month,
        shown,
        {
            "page": vb.page(path, f"{title}: {period}", kind, crumbs=crumbs, draft=draft),
            "year": year,
            "period": period,
            "years": _year_links(vb, name),
            "months": tuple(Link(urls.month_path(name, year, m), _month_name(m)) for m in months),
            "months_year": year,
        },
    )


def _shown_years(vb: ViewBuilder, kind: str, arg: str) -> set[int]:
    """The years a list page shows: one archived year, or all from the cutoff on."""
    if arg:
        return {int(arg)}
    cutoff = vb.urls.cutoff(kind)
    return {y for y in vb.urls.years(kind) if cutoff is not None and y >= cutoff}


def _year_links(vb: ViewBuilder, name: str) -> tuple[Link, ...]:
    """The list page (labelled with the years it covers), then each archived year."""
    years, cutoff = vb.urls.years(name), vb.urls.cutoff(name)
    if not years or cutoff is None:
        return ()
    label = str(cutoff) if years[0] == cutoff else f"{cutoff}–{years[0]}"
    archived = (Link(vb.urls.archive(name, y), str(y)) for y in vb.urls.archived(name))
    return (Link(vb.urls.list_path(name), label), *archived)


def questions(vb: ViewBuilder, arg: str) -> tuple[str, Context]:
    """All open questions with the settled ones; once there are many settled ones,
    only those of recent years, and those of each earlier year on a page of its own
    (arg "2024"). Many open questions are split so too, by the year they are due
    (arg "open/2019")."""
    if arg.startswith("open/"):
        return _open_year(vb, int(arg[len("open/") :]))
    if arg:
        shown, open_ = vb.urls.in_year("questions", int(arg)), []
    else:
        open_ = _listed(vb, OPEN_QUESTIONS, lambda q: q.values["status"] == "open")
        shown = _listed(vb, "questions", lambda q: q.values["status"] != "open")
    path = vb.urls.archive("questions", int(arg)) if arg else "questions/"
    title = "Questions" if not arg else f"Questions settled in {arg}"
    crumbs = (Link("questions/", "Questions"),) + ((Link(path, arg),) if arg else ())
    return "questions.html", {
        "page": vb.page(path, title, "questions", crumbs=crumbs),
        "year": int(arg) if arg else None,
        "years": _year_links(vb, "questions"),
        "open": tuple(question_order(vb, open_)),
        "open_years": _year_links(vb, OPEN_QUESTIONS),
        "open_from": vb.urls.cutoff(OPEN_QUESTIONS),
        "open_year": None,
        "answered": tuple(question_order(vb, [q for q in shown if q.values["status"] == "answered"])),
        "dropped": tuple(question_order(vb, [q for q in shown if q.values["status"] == "dropped"])),
    }


def _listed(vb: ViewBuilder, name: str, wanted: Callable[[Record], bool]) -> list[Record]:
    """The questions /questions/ shows of the list `name`: those `wanted` when the list
    is not split, else those of the years from its cutoff on."""
    if vb.urls.cutoff(name) is None:
        return [q for q in vb.site.all("questions") if wanted(q)]
    return [q for y in sorted(_shown_years(vb, name, "")) for q in vb.urls.in_year(name, y)]


def _open_year(vb: ViewBuilder, year: int) -> tuple[str, Context]:
    """The open questions due (or, with no deadline, raised) in an earlier year."""
    path = vb.urls.archive(OPEN_QUESTIONS, year)
    crumbs = (Link("questions/", "Questions"), Link(path, f"Open, {year}"))
    return "questions.html", {
        "page": vb.page(path, f"Open questions due in {year}", "questions", crumbs=crumbs),
        "year": None,
        "years": (),
        "open": tuple(question_order(vb, vb.urls.in_year(OPEN_QUESTIONS, year))),
        "open_years": _year_links(vb, OPEN_QUESTIONS),
        "open_from": vb.urls.cutoff(OPEN_QUESTIONS),
        "open_year": year,
        "answered": (),
        "dropped": (),
    }


def question(vb: ViewBuilder, question_id: str) -> tuple[str, Context]:
    record = vb.site.records["questions"][question_id]
    view = vb.question(record)
    crumbs = (Link("questions/", "Questions"), Link(view.path, _short(view.question)))
    return "question.html", {
        "page": vb.page(view.path, view.question, "question", crumbs=crumbs, draft=record.draft),
        "question": view,
    }


def story(vb: ViewBuilder, story_id: str) -> tuple[str, Context]:
    site, record = vb.site, vb.site.records["stories"][story_id]
    v = record.values
    card = vb.story_card(record)
    return "story.html", {
        "page": vb.page(
            card.path,
            v["title"],
            "story",
            _plain(vb, v["summary"]),
            (*card.topics[:1], Link(card.path, _short(v["title"]))),
            record.draft,
        ),
        "story": card,
        "body": vb.markdown(v.get("body"), nested=False),
        "source": vb.source(v.get("source")),
        "people": vb.refs("people", v.get("people")),
        "tags": tuple(v.get("tags", [])),
        "updated": vb.date(v["updated"]) if v.get("updated") else None,
        "corrections": tuple(_corrections(vb, record)),
        "quotes": tuple(vb.quote(q) for q in site.linked(record, "quotes")),
        "questions": tuple(vb.question(q) for q in site.linked(record, "questions")),
        "events": tuple(vb.link(e) for e in site.linked(record, "events")),
    }


def _corrections(vb: ViewBuilder, record: Record) -> list[Any]:
    from .views import Correction

    return [
        Correction(vb.date(c["date"]), vb.markdown(c["text"]))  # type: ignore[arg-type]
        for c in record.values.get("corrections", [])
    ]


def people(vb: ViewBuilder, arg: str) -> tuple[str, Context]:
    """Everyone, by name; once there are many (routes.LETTERS_ABOVE), a page per
    letter (arg "a") and, on /people/ itself, the most quoted."""
    letters = _letter_links(vb, "people")
    if arg:
        persons = vb.urls.in_letter("people", arg)
    elif letters:
        counted = ((len(vb.site.linked(p, "quotes")), p) for p in vb.site.all("people"))
        top = heapq.nsmallest(MOST_QUOTED, (pair for pair in counted if pair[0]), key=_most_first)
        persons = [p for _, p in top]
    else:
        persons = sorted(vb.site.all("people"), key=lambda p: (p.values["name"].casefold(), p.id))
    cards = tuple(
        (vb.link(p), p.values.get("role"), p.values.get("org"), len(vb.site.linked(p, "quotes")))
        for p in persons
    )
    page, letter = _letter_page(vb, "people", "People", arg)
    return "people.html", {"page": page, "people": cards, "letters": letters, "letter": letter}


def _most_first(pair: tuple[int, Record]) -> tuple[int, str, str]:
    count, person = pair
    return (-count, person.values["name"].casefold(), person.id)


def _letter_links(vb: ViewBuilder, kind: str) -> tuple[Link, ...]:
    """A link to each letter's page of a list split by letter (none: it is not)."""
    return tuple(Link(vb.urls.letter_path(kind, x), letter_label(x)) for x in vb.urls.letters(kind))


def _letter_page(vb: ViewBuilder, kind: str, title: str, letter: str) -> tuple[Any, str | None]:
    """The page view of a list page (`letter` "") or of one of its letters' pages."""
    crumbs = (Link(f"{kind}/", title),)
    if not letter:
        return vb.page(f"{kind}/", title, kind, crumbs=crumbs), None
    path, label = vb.urls.letter_path(kind, letter), letter_label(letter)
    return vb.page(path, f"{title}: {label}", kind, crumbs=(*crumbs, Link(path, label))), label


def person(vb: ViewBuilder, person_id: str) -> tuple[str, Context]:
    record = vb.site.records["people"][person_id]
    v = record.values
    path = f"people/{person_id}/"
    quotes = sorted(vb.site.linked(record, "quotes"), key=vb.site.sort_key, reverse=True)
    return "person.html", {
        "page": vb.page(
            path,
            v["name"],
            "person",
            crumbs=(Link("people/", "People"), Link(path, v["name"])),
            draft=record.draft,
        ),
        "person": {
            "id": person_id,
            "name": v["name"],
            "role": v.get("role"),
            "org": v.get("org"),
            "url": v.get("url"),
        },
        "quotes": tuple(vb.quote(q) for q in quotes),
        "stories": tuple(vb.story_line(s) for s in vb.site.linked(record, "stories")),
    }


def quotes(vb: ViewBuilder, arg: str) -> tuple[str, Context]:
    """All quotes, newest first: the list page (arg ""), an earlier year ("2024") or,
    for a year split by month, one month of it ("2024/03")."""
    if "/" in arg:
        _, _, chosen, context = _list_month_page(vb, "quotes", arg)
    else:
        years = sorted(_shown_years(vb, "quotes", arg))
        path = vb.urls.archive("quotes", int(arg)) if arg else "quotes/"
        chosen = _shown_records(vb, "quotes", years, listed=not arg)[0]
        context = _list_page(vb, "quotes", arg, years, path)
    return "quotes.html", {
        **context,
        "quotes": tuple(vb.quote(q) for q in sorted(chosen, key=vb.site.sort_key, reverse=True)),
    }


def not_found(vb: ViewBuilder, arg: str) -> tuple[str, Context]:
    return "404.html", {"page": vb.page("404.html", "Page not found", "not_found")}


def search(vb: ViewBuilder, arg: str) -> tuple[str, Context]:
    crumbs = (Link("search/", "Search"),)
    return "search.html", {"page": vb.page("search/", "Search", "search", crumbs=crumbs)}


def _plain(vb: ViewBuilder, markdown_text: str) -> str:
    import re
    from html import unescape

    text = unescape(re.sub(r"<[^>]+>", "", vb.md.render(markdown_text)))
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:197].rsplit(" ", 1)[0] + "…"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


PAGES: dict[str, Callable[[ViewBuilder, str], tuple[str, Context]]] = {
    "home": home,
    "topics": topics,
    "topic": topic,
    "topic_year": topic_year,
    "timeline": timeline,
    "questions": questions,
    "question": question,
    "story": story,
    "people": people,
    "person": person,
    "quotes": quotes,
    "not_found": not_found,
    "search": search,
}
