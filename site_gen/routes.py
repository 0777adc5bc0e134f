"""Plan every output file: the only place paths and URLs are decided."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .index import Site
from .model import Record


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


def _point_years(site: Site, record: Record) -> list[int]:
    """The years of a record's timeline points by their first instant (which list pages exist)."""
    return _years(site, record, "point_years", lambda when, tz: when.start(tz).astimezone(tz).year)


def _years(site: Site, record: Record, name: str, year: Callable[[Any, Any], int]) -> list[int]:
    memo = record.derived(site.config.timezone)
    years = memo.get(name)
    if years is None:
        tz = site.config.tz
        years = memo[name] = sorted({year(when, tz) for _, when in site.timeline_points(record)})
    return years


class Urls:
    """Where every record is shown, computed once per build."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self._in_year: dict[tuple[str, int], list[Record]] | None = None
        self.quote_years = sorted({year_of(site, q) for q in site.all("quotes")}, reverse=True)
        self.timeline_years = sorted(
            {
                year
                for kind in TIMELINE_KINDS
                for record in site.all(kind)
                for year in _point_years(site, record)
            },
            reverse=True,
        )

    def in_year(self, kind: str, year: int) -> list[Record]:
        """The records with an entry in `year` on the timeline (or the quotes of `year`).

        A year's archive page reads only these, so that it and its rebuilds stay
        the size of one year however long the archive grows.
        """
        if self._in_year is None:
            self._in_year = self._by_year()
        return self._in_year.get((kind, year), [])

    def _by_year(self) -> dict[tuple[str, int], list[Record]]:
        found: dict[tuple[str, int], list[Record]] = {}
        for record in self.site.all("quotes"):
            found.setdefault(("quotes", year_of(self.site, record)), []).append(record)
        for kind in TIMELINE_KINDS:
            for record in self.site.all(kind):
                for year in timeline_years_of(self.site, record):
                    found.setdefault(("timeline", year), []).append(record)
        return found

    def years(self, kind: str) -> list[int]:
        return self.quote_years if kind == "quotes" else self.timeline_years

    def cutoff(self, kind: str) -> int | None:
        """The first year the list page itself shows: the as-of year (or the newest
        year when nothing is that recent), so that upcoming entries stay in view."""
        years = self.years(kind)
        return min(self.site.options.as_of.year, years[0]) if years else None

    def archived(self, kind: str) -> list[int]:
        """The years with an archive page of their own, newest first."""
        cutoff = self.cutoff(kind)
        return [y for y in self.years(kind) if cutoff is not None and y < cutoff]

    def archive(self, kind: str, year: int) -> str:
        """The page that shows `year`: the list page from the cutoff year on."""
        cutoff = self.cutoff(kind)
        return f"{kind}/" if cutoff is None or year >= cutoff else f"{kind}/{year}/"

    def record(self, kind: str, record_id: str) -> str:
        """The URL path (relative to the site root) where a record is shown."""
        if kind == "events":
            event = self.site.records["events"][record_id]
            topics = self.site.topics_of.get(("events", record_id)) or event.values["topics"]
            return f"topics/{topics[0]}/#event-{record_id}"
        if kind == "quotes":
            quote = self.site.records["quotes"][record_id]
            return f"{self.archive('quotes', year_of(self.site, quote))}#quote-{record_id}"
        return page_path(kind, record_id)


TIMELINE_KINDS = ("stories", "events", "quotes", "questions")


def plan(site: Site, urls: Urls) -> list[Route]:
    """Every file the site is made of, in a stable order."""
    routes = [
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
        Route("data/briefing.json", "briefing_json"),
        Route("data/briefing.schema.json", "briefing_schema"),
    ]
    routes += [Route(f"timeline/{y}/index.html", "timeline", str(y)) for y in urls.archived("timeline")]
    routes += [Route(f"quotes/{y}/index.html", "quotes", str(y)) for y in urls.archived("quotes")]
    for topic_id in site.records["topics"]:
        routes.append(Route(f"topics/{topic_id}/index.html", "topic", topic_id))
        routes.append(Route(f"topics/{topic_id}/feed.xml", "feed", topic_id))
        routes.append(Route(f"topics/{topic_id}/timeline.json", "timeline_json", topic_id))
    for kind, view in (("stories", "story"), ("questions", "question"), ("people", "person")):
        routes += [Route(f"{kind}/{rid}/index.html", view, rid) for rid in site.records[kind]]
    return routes
