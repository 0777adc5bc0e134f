"""dates: partial dates as written, their precision, qualifiers, display and order."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from site_gen.dates import DAY, INSTANT, MONTH, YEAR, DateError, PartialDate, parse_as_of, parse_date

UTC = timezone.utc
TOKYO = ZoneInfo("Asia/Tokyo")


# --- the accepted forms -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "precision", "ymd"),
    [
        ("2023", YEAR, (2023, 1, 1)),
        ("2025-11", MONTH, (2025, 11, 1)),
        ("2025-11-13", DAY, (2025, 11, 13)),
        ("2024-02-29", DAY, (2024, 2, 29)),
        ("2000-02-29", DAY, (2000, 2, 29)),
        ("0001", YEAR, (1, 1, 1)),
        ("9999-12-31", DAY, (9999, 12, 31)),
    ],
)
def test_dates_keep_their_precision_and_text(text, precision, ymd):
    parsed = parse_date(text)
    assert parsed.precision == precision
    assert (parsed.year, parsed.month, parsed.day) == ymd
    assert parsed.text == text
    assert parsed.qualifier == ""
    assert parsed.instant is None


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2025-10-30T11:00:00+09:00", datetime(2025, 10, 30, 2, 0, tzinfo=UTC)),
        ("2025-10-30T11:00+09:00", datetime(2025, 10, 30, 2, 0, tzinfo=UTC)),
        ("2025-10-30T11:00:00+0900", datetime(2025, 10, 30, 2, 0, tzinfo=UTC)),
        ("2025-10-30T02:00:00Z", datetime(2025, 10, 30, 2, 0, tzinfo=UTC)),
        ("2025-10-30 02:00Z", datetime(2025, 10, 30, 2, 0, tzinfo=UTC)),
        ("2025-10-29T22:00:00-04:00", datetime(2025, 10, 30, 2, 0, tzinfo=UTC)),
        ("2025-10-30T02:00:00.250Z", datetime(2025, 10, 30, 2, 0, 0, 250_000, tzinfo=UTC)),
    ],
)
def test_date_times_need_an_offset_and_z_counts(text, utc):
    parsed = parse_date(text)
    assert parsed.precision == INSTANT
    assert parsed.instant == utc
    assert parsed.text == text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2025-02-30", ["not a real day", "February 2025 has 28 days"]),
        ("2025-04-31", ["April 2025 has 30 days"]),
        ("2100-02-29", ["February 2100 has 28 days"]),
        ("2025-13", ["month 13", "01 to 12"]),
        ("2025-00", ["month 00"]),
        ("2025-11-00", ["not a real day"]),
        ("0000", ["year 0000"]),
        ("2025-10-30T11:00:00", ["without an offset", "Z or +09:00"]),
        ("2025-10-30T11:00", ["without an offset"]),
        ("2025-10-30T24:00Z", ["impossible time of day"]),
        ("2025-10-30T11:60Z", ["impossible time of day"]),
        ("2025-10-30T11:00:60Z", ["impossible time of day"]),
        ("2025-10-30T11:00+24:00", ["impossible offset"]),
        ("2025-10-30T11:00+09:60", ["impossible offset"]),
        ("0001-01-01T00:00+01:00", ["too close to the year 1"]),
        ("9999-12-31T20:00-05:00", ["too close to the year 1 or 9999"]),
        ("25-11", ["is not a date", "YYYY-MM-DD"]),
        ("2025/11/13", ["is not a date"]),
        ("2025-1-5", ["is not a date"]),
        ("13 November 2025", ["is not a date"]),
        ("November 2025", ["is not a date"]),
        ("", ["is not a date"]),
        ("2025~?", ["is not a date"]),
        ("~2025", ["is not a date"]),
        ("20250", ["is not a date"]),
        ("\u0662\u0660\u0662\u0665", ["is not a date"]),  # Arabic-Indic digits
        ("２０２５", ["is not a date"]),  # full-width digits
        ("2025\n", []),  # surrounding white space is not part of the date
    ],
)
def test_impossible_or_malformed_dates_are_refused(text, words):
    if not words:
        assert parse_date(text).text == "2025"
        return
    with pytest.raises(DateError) as info:
        parse_date(text)
    for word in words:
        assert word in str(info.value)


def test_the_error_says_what_is_accepted():
    with pytest.raises(DateError, match=r"write YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM\+HH:MM"):
        parse_date("soon")


# --- qualifiers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("2023-05~", "c. May 2023"),
        ("2023?", "2023?"),
        ("2023~", "c. 2023"),
        ("2023-05?", "May 2023?"),
        ("2025-11-03~", "c. 3 November 2025"),
        ("2025-10-30T11:00:00+09:00?", "30 October 2025, 02:00 UTC?"),
    ],
)
def test_qualifiers_are_shown(text, shown):
    parsed = parse_date(text)
    assert parsed.qualifier == text[-1]
    assert parsed.text == text, "the text keeps the qualifier as written"
    assert parsed.display(UTC) == shown
    assert parsed.machine() == text[:-1] or parsed.precision == INSTANT


def test_qualifiers_do_not_change_sorting():
    for plain in ("2023", "2023-05", "2023-05-04", "2023-05-04T10:00Z"):
        keys = {parse_date(plain + q).sort_key(UTC) for q in ("", "~", "?")}
        assert len(keys) == 1


# --- display --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tz", "shown"),
    [
        ("2023", UTC, "2023"),
        ("2025-11", UTC, "November 2025"),
        ("2025-11-13", UTC, "13 November 2025"),
        ("2025-05-05", UTC, "5 May 2025"),
        ("2025-10-30T11:00:00+09:00", UTC, "30 October 2025, 02:00 UTC"),
        ("2025-10-30T11:00:00+09:00", TOKYO, "30 October 2025, 11:00 JST"),
        ("2025-10-30T20:00:00Z", TOKYO, "31 October 2025, 05:00 JST"),
    ],
)
def test_display_at_the_written_precision(text, tz, shown):
    assert parse_date(text).display(tz) == shown


def test_machine_form_is_a_valid_html_datetime():
    assert parse_date("2025-11~").machine() == "2025-11"
    assert parse_date("2025-10-30T11:00+09:00").machine() == "2025-10-30T11:00:00+09:00"


# --- periods and order ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2025", date(2025, 1, 1), date(2025, 12, 31)),
        ("2025-11", date(2025, 11, 1), date(2025, 11, 30)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2025-02", date(2025, 2, 1), date(2025, 2, 28)),
        ("2025-11-13", date(2025, 11, 13), date(2025, 11, 13)),
    ],
)
def test_a_date_covers_its_whole_period(text, first, last):
    parsed = parse_date(text)
    assert parsed.first_day(UTC) == first
    assert parsed.last_day(UTC) == last


def test_an_instant_falls_on_its_day_in_the_site_timezone():
    parsed = parse_date("2025-10-30T20:00:00Z")
    assert parsed.last_day(UTC) == date(2025, 10, 30)
    assert parsed.last_day(TOKYO) == date(2025, 10, 31)
    assert parsed.month_key(TOKYO) == (2025, 10)
    assert parse_date("2025-10-31T20:00:00Z").month_key(TOKYO) == (2025, 11)


def test_a_period_starts_in_the_site_timezone():
    assert parse_date("2025-11").start(TOKYO) == datetime(2025, 11, 1, tzinfo=TOKYO)
    assert parse_date("2025-11").iso(UTC) == "2025-11-01T00:00:00+00:00"


def test_sorting_by_first_instant_then_coarser_first():
    texts = ["2025-01-01T00:00:00Z", "2025-01-01", "2025-01", "2025", "2024-12-31T23:00Z", "2025-01-02"]
    ordered = sorted(texts, key=lambda t: parse_date(t).sort_key(UTC))
    assert ordered == [
        "2024-12-31T23:00Z",
        "2025",
        "2025-01",
        "2025-01-01",
        "2025-01-01T00:00:00Z",
        "2025-01-02",
    ]


def test_sorting_uses_the_site_timezone_for_periods():
    # midnight in Tokyo is 15:00 UTC the day before
    tokyo = sorted(["2025-01-01", "2024-12-31T16:00Z"], key=lambda t: parse_date(t).sort_key(TOKYO))
    assert tokyo == ["2025-01-01", "2024-12-31T16:00Z"]
    utc = sorted(["2025-01-01", "2024-12-31T16:00Z"], key=lambda t: parse_date(t).sort_key(UTC))
    assert utc == ["2024-12-31T16:00Z", "2025-01-01"]


# --- --as-of ---------------------------------------------------------------------------------


def test_as_of_is_exactly_a_day():
    assert parse_as_of("2025-11-30") == date(2025, 11, 30)


@pytest.mark.parametrize(
    "text",
    [
        "2025-11",
        "2025",
        "2025-11-31",
        "2025-13-01",
        "yesterday",
        "",
        "2025-11-30T00:00Z",
        " 2025-11-30",
        "２０２５-11-30",
    ],
)
def test_as_of_refuses_anything_else(text):
    with pytest.raises(DateError):
        parse_as_of(text)


# --- properties -----------------------------------------------------------------------------

qualifiers = st.sampled_from(["", "~", "?"])
days = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))


@given(days, st.sampled_from([YEAR, MONTH, DAY]), qualifiers)
def test_round_trip_of_valid_dates(day, precision, qualifier):
    text = {YEAR: f"{day.year:04d}", MONTH: f"{day.year:04d}-{day.month:02d}", DAY: day.isoformat()}[
        precision
    ]
    parsed = parse_date(text + qualifier)
    assert parsed.precision == precision
    assert parsed.text == text + qualifier
    assert parsed.qualifier == qualifier
    assert parsed.machine() == text
    assert parsed.year == day.year
    if precision != YEAR:
        assert parsed.month == day.month
    if precision == DAY:
        assert (parsed.month, parsed.day) == (day.month, day.day)
        assert parsed.first_day(UTC) == parsed.last_day(UTC) == day
    assert parsed.first_day(UTC) <= day <= parsed.last_day(UTC)


offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=offsets),
    st.booleans(),
)
def test_round_trip_of_valid_instants(moment, seconds):
    moment = moment.replace(microsecond=0) if seconds else moment.replace(second=0, microsecond=0)
    text = moment.isoformat(timespec="seconds" if seconds else "minutes")
    parsed = parse_date(text)
    assert parsed.precision == INSTANT
    assert parsed.instant == moment
    assert parsed.text == text
    parse_date(text).display(TOKYO)  # any instant can be shown in any timezone


@given(st.integers(1, 9999), st.integers(1, 12), st.integers(1, 99))
def test_every_invalid_calendar_day_is_refused(year, month, day):
    text = f"{year:04d}-{month:02d}-{day:02d}"
    if day <= calendar.monthrange(year, month)[1]:
        assert parse_date(text).day == day
    else:
        with pytest.raises(DateError, match="not a real day"):
            parse_date(text)


@given(st.integers(1, 9999), st.integers(0, 99).filter(lambda m: not 1 <= m <= 12))
def test_every_invalid_month_is_refused(year, month):
    with pytest.raises(DateError, match="month"):
        parse_date(f"{year:04d}-{month:02d}")


date_like = st.from_regex(
    r"[0-9]{1,5}(-[0-9]{1,3}(-[0-9]{1,3}([T ][0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3}(\.[0-9]{1,7})?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?)?)?)?[~?]{0,2}",
    fullmatch=True,
)


@given(st.one_of(st.text(), date_like))
def test_parser_raises_nothing_but_date_error(text):
    try:
        parsed = parse_date(text)
    except DateError:
        return
    assert isinstance(parsed, PartialDate)
    parsed.display(UTC)
    parsed.sort_key(TOKYO)
    parsed.last_day(TOKYO)


@given(st.one_of(st.text(), date_like))
def test_as_of_raises_nothing_but_date_error(text):
    try:
        assert isinstance(parse_as_of(text), date)
    except DateError:
        pass
