"""Dates as editors write them: a year, a month, a day or an instant.

A `PartialDate` keeps the text as written, its precision and an optional
qualifier (`~` approximate, `?` uncertain). It covers a period in the site's
timezone; sorting uses the first instant of that period, coarser dates first
at equal instants.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

YEAR, MONTH, DAY, INSTANT = "year", "month", "day", "datetime"
PRECISION_RANK = {YEAR: 0, MONTH: 1, DAY: 2, INSTANT: 3}
MONTH_NAMES = [calendar.month_name[m] for m in range(13)]

_DATE_RE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,6}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?)?)?)?(?P<q>[~?])?",
    re.ASCII,  # \d is 0-9 only: "٢٠٢٥" is not a year
)

# Instants a day inside datetime's range, so that any timezone can show them.
_FIRST_INSTANT = datetime(1, 1, 2, tzinfo=timezone.utc)
_LAST_INSTANT = datetime(9999, 12, 30, tzinfo=timezone.utc)

DATE_FORMS = "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM+HH:MM"


class DateError(ValueError):
    """A date text that is not one of the accepted forms, or is impossible."""


@dataclass(frozen=True)
class PartialDate:
    """A date at the precision it was written, with its qualifier."""

    text: str
    precision: str
    year: int
    month: int = 1
    day: int = 1
    instant: datetime | None = None
    qualifier: str = ""

    def start(self, tz: tzinfo) -> datetime:
        """The first instant of the period, in `tz` (an instant as itself)."""
        if self.instant is not None:
            return self.instant
        return datetime(self.year, self.month, self.day, tzinfo=tz)

    def last_day(self, tz: tzinfo) -> date:
        """The last calendar day the period covers, in the site's timezone."""
        if self.instant is not None:
            return self.instant.astimezone(tz).date()
        if self.precision == YEAR:
            return date(self.year, 12, 31)
        if self.precision == MONTH:
            return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return date(self.year, self.month, self.day)

    def first_day(self, tz: tzinfo) -> date:
        if self.instant is not None:
            return self.instant.astimezone(tz).date()
        return date(self.year, self.month, self.day)

    def sort_key(self, tz: tzinfo) -> tuple[float, int]:
        return (self.start(tz).timestamp(), PRECISION_RANK[self.precision])

    def machine(self) -> str:
        """The date as a valid HTML `datetime` value (no qualifier)."""
        if self.instant is not None:
            return self.instant.isoformat()
        return self.text.rstrip("~?")

    def iso(self, tz: tzinfo) -> str:
        """A sortable ISO 8601 instant: the period's first instant."""
        return self.start(tz).isoformat()

    def month_key(self, tz: tzinfo) -> tuple[int, int]:
        """(year, month) of the timeline heading; month 0 for a year-only date."""
        if self.precision == YEAR:
            return (self.year, 0)
        local = self.start(tz).astimezone(tz) if self.instant else None
        if local is not None:
            return (local.year, local.month)
        return (self.year, self.month)

    def display(self, tz: tzinfo) -> str:
        """The date as a reader sees it, at its precision ("c. May 2023", "2023?")."""
        if self.instant is not None:
            local = self.instant.astimezone(tz)
            shown = f"{local.day} {MONTH_NAMES[local.month]} {local.year}, {local:%H:%M}"
            name = local.tzname() or ""
            shown = f"{shown} {name}".rstrip()
        elif self.precision == YEAR:
            shown = str(self.year)
        elif self.precision == MONTH:
            shown = f"{MONTH_NAMES[self.month]} {self.year}"
        else:
            shown = f"{self.day} {MONTH_NAMES[self.month]} {self.year}"
        if self.qualifier == "~":
            return f"c. {shown}"
        if self.qualifier == "?":
            return f"{shown}?"
        return shown


def parse_date(text: str) -> PartialDate:
    """Parse a date as written; raise DateError saying what is accepted."""
    text = text.strip()
    match = _DATE_RE.fullmatch(text)
    if not match:
        raise DateError(f"'{text}' is not a date; write {DATE_FORMS} (optionally ending in ~ or ?)")
    parts = match.groupdict()
    year, qualifier = int(parts["y"]), parts["q"] or ""
    if year < 1:
        raise DateError(f"'{text}' has year 0000; years start at 0001")
    if parts["m"] is None:
        return PartialDate(text, YEAR, year, qualifier=qualifier)
    month = int(parts["m"])
    if not 1 <= month <= 12:
        raise DateError(f"'{text}' has month {parts['m']}; months are 01 to 12")
    if parts["d"] is None:
        return PartialDate(text, MONTH, year, month, qualifier=qualifier)
    day = int(parts["d"])
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise DateError(f"'{text}' is not a real day: {MONTH_NAMES[month]} {year} has {last} days")
    if parts["H"] is None:
        return PartialDate(text, DAY, year, month, day, qualifier=qualifier)
    return PartialDate(text, INSTANT, year, month, day, _instant(text, parts), qualifier)


def _instant(text: str, parts: dict[str, str | None]) -> datetime:
    if parts["tz"] is None:
        raise DateError(f"'{text}' is a date-time without an offset; add one, such as Z or +09:00")
    hour, minute = int(parts["H"] or 0), int(parts["M"] or 0)
    second = int(parts["S"] or 0)
    micro = int((parts["f"] or "0").ljust(6, "0"))
    if hour > 23 or minute > 59 or second > 59:
        raise DateError(f"'{text}' has an impossible time of day")
    offset = _offset(text, parts["tz"] or "Z")
    day = date(int(parts["y"] or 0), int(parts["m"] or 1), int(parts["d"] or 1))
    instant = datetime.combine(day, time(hour, minute, second, micro), tzinfo=offset)
    if not _FIRST_INSTANT <= instant <= _LAST_INSTANT:
        raise DateError(f"'{text}' is too close to the year 1 or 9999 to be shown in every timezone")
    return instant


def _offset(text: str, written: str) -> timezone:
    if written == "Z":
        return timezone.utc
    sign = -1 if written[0] == "-" else 1
    digits = written[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise DateError(f"'{text}' has an impossible offset {written}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_as_of(text: str) -> date:
    """Parse an --as-of value: exactly YYYY-MM-DD."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise DateError(f"'{text}' is not a date; write YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise DateError(f"'{text}' is not a real day ({exc})") from None
