"""`site-gen check`: the loader's problems plus the editorial checks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from .errors import WARNING, Problem, ProblemsReport
from .index import TOPICAL, Site
from .model import Record
from .site import LoadResult, load_site


@dataclass
class CheckReport(ProblemsReport):
    """Everything `check` found, and the overdue questions it lists."""

    result: LoadResult
    problems: list[Problem]
    overdue: list[Record]

    def failed(self, strict: bool) -> bool:
        return bool(self.errors or (strict and self.warnings))


def check_site(path: str | os.PathLike[str], *, as_of: str | None = None) -> CheckReport:
    """Validate everything, as `site-gen check` does; builds nothing."""
    result = load_site(path, as_of=as_of)
    problems = list(result.problems)
    overdue: list[Record] = []
    if result.site is not None:
        problems.extend(stale_topics(result.site))
        overdue = overdue_questions(result.site)
    return CheckReport(result, sorted(set(problems)), overdue)


def stale_topics(site: Site) -> list[Problem]:
    """A warning for each active topic with nothing dated in the stale window."""
    window_start = site.options.as_of - timedelta(days=site.config.stale_after_days)
    found = []
    for topic in site.all("topics"):
        if topic.values.get("status") != "active" or _recently_dated(site, topic, window_start):
            continue
        found.append(
            Problem(
                topic.path,
                topic.line,
                topic.col,
                WARNING,
                f"topic '{topic.id}' is active but nothing in it is dated within "
                f"{site.config.stale_after_days} days before {site.options.as_of.isoformat()}; "
                "add what moved, or set status: dormant",
            )
        )
    return found


def _recently_dated(site: Site, topic: Record, window_start: object) -> bool:
    tz = site.config.tz
    for kind in TOPICAL:
        for record in site.topic_records(topic.id, kind):
            for name in ("date", "raised", "answered", "updated"):
                when = record.values.get(name)
                if when and when.last_day(tz) >= window_start and when.first_day(tz) <= site.options.as_of:
                    return True
    return False


def overdue_questions(site: Site) -> list[Record]:
    return sorted(
        (q for q in site.all("questions") if site.is_overdue(q)),
        key=lambda q: site.sort_key(q, q.values["deadline"]),
    )
