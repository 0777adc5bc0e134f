"""validate (and the loader, config): record files and site.yaml against the field table."""

from __future__ import annotations

import os
import pickle
from datetime import timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from site_gen.dates import DAY, INSTANT, MONTH
from site_gen.errors import Problem, Problems
from site_gen.fields import ID_MAX, ID_PATTERN, id_problem
from site_gen.model import Record
from site_gen.site import load_site
from site_gen.validate import read_records
from site_gen.yamlread import read_yaml

TOPIC = "title: Trade truce\nsummary: Where it stands.\n"
AS_OF = "2025-11-20"


def parse(kind: str, text: str, stem: str = "x") -> tuple[list[Record], list[Problem]]:
    path = f"content/{kind}/{stem}.yaml"
    node, found = read_yaml(path, text.encode("utf-8"))
    problems = Problems(list(found))
    records = read_records(kind, path, stem, node, problems) if node is not None else []
    return records, problems.sorted()


def lines(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


def one_record(kind: str, text: str, stem: str = "x") -> Record:
    records, problems = parse(kind, text, stem)
    assert problems == [], lines(problems)
    assert len(records) == 1
    return records[0]


def one_problem(
    kind: str, text: str, line: int, col: int, *words: str, stem: str = "x", severity: str = "error"
) -> Problem:
    _, problems = parse(kind, text, stem)
    assert len(problems) == 1, lines(problems)
    problem = problems[0]
    assert problem.path == f"content/{kind}/{stem}.yaml"
    assert (problem.line, problem.col, problem.severity) == (line, col, severity), str(problem)
    for word in words:
        assert word in problem.message, f"{word!r} not in {problem.message!r}"
    return problem


# --- values as written ------------------------------------------------------------------------


def test_text_fields_keep_what_the_editor_typed():
    person = one_record("people", "name: No\nrole: yes\norg: 1.10\n")
    assert person.values["name"] == "No"
    assert person.values["role"] == "yes"
    assert person.values["org"] == "1.10"
    story = one_record(
        "stories",
        "title: 010\ndate: 2025-11\ntopics: [t]\nsummary: 12:30\nbody: 1:30:00\ntags: [on, off, 1e3]\n",
    )
    assert story.values["title"] == "010"
    assert story.values["summary"] == "12:30"
    assert story.values["body"] == "1:30:00"
    assert story.values["tags"] == ["on", "off", "1e3"]


def test_a_date_field_parses_what_a_text_field_keeps():
    story = one_record("stories", "title: 2025-11\ndate: 2025-11\ntopics: [t]\nsummary: S\n")
    assert story.values["title"] == "2025-11"
    assert story.values["date"].precision == MONTH
    assert story.values["date"].text == "2025-11"


def test_defaults_are_filled_in():
    topic = one_record("topics", TOPIC)
    assert topic.values["status"] == "active"
    assert topic.values["draft"] is False
    question = one_record("questions", "question: Q?\ntopics: [t]\nraised: 2025-11-01\n")
    assert question.values["status"] == "open"


@pytest.mark.parametrize(
    ("text", "line", "col", "words"),
    [
        ("draft: perhaps\n", 3, 8, ["'draft' takes true or false", "not 'perhaps'"]),
        ("draft: yes\n", 3, 8, ["'draft' takes true or false", "not 'yes'"]),
        ("draft: True\n", 3, 8, ["'draft' takes true or false"]),
        ("status: Active\n", 3, 9, ["'status' takes one of active, dormant, closed", "not 'Active'"]),
        (
            "related: 42\n",
            3,
            10,
            ["'related' takes a list of topic ids", "not '42'", "write [42] or one '- item' per line"],
        ),
        ("tags: {a: 1}\n", 3, 7, ["'tags' takes a list of text", "not a mapping"]),
        ("started: soon\n", 3, 10, ["started: 'soon' is not a date", "YYYY-MM-DD"]),
        ("extra: 5\n", 3, 8, ["'extra' takes a mapping of your own fields"]),
    ],
)
def test_a_value_that_does_not_fit_its_field(text, line, col, words):
    one_problem("topics", TOPIC + text, line, col, *words)


def test_topics_42_says_what_the_field_takes():
    one_problem(
        "stories",
        "title: S\ndate: 2025-11-01\ntopics: 42\nsummary: S\n",
        3,
        9,
        "'topics' takes a list of topic ids",
        "not '42'",
    )


def test_text_given_a_list_or_mapping():
    one_problem("topics", "title: [a, b]\nsummary: S\n", 1, 8, "'title' takes text, not a list")
    one_problem("topics", "title:\n  a: 1\nsummary: S\n", 2, 3, "'title' takes text, not a mapping")


def test_empty_text_is_refused():
    one_problem("topics", "title: ''\nsummary: S\n", 1, 8, "'title' is empty", "remove the field")


def test_url_fields_take_http_or_https_only():
    one_problem(
        "people",
        "name: P\nurl: javascript:alert(1)\n",
        2,
        6,
        "'url' takes an http or https URL",
        "javascript:alert(1)",
    )
    assert one_record("people", "name: P\nurl: HTTPS://example.org/x\n").values["url"]


# --- dates in records ---------------------------------------------------------------------------


EVENT = "title: E\ntopics: [t]\n"


@pytest.mark.parametrize(
    ("date", "words"),
    [
        ("2025-02-30", ["'2025-02-30' is not a real day", "February 2025 has 28 days"]),
        ("2025-13", ["'2025-13' has month 13"]),
        ("2025-10-30T11:00:00", ["date-time without an offset", "add one, such as Z or +09:00"]),
        ("'13 Nov'", ["'13 Nov' is not a date"]),
    ],
)
def test_bad_dates_are_reported_at_the_value(date, words):
    one_problem("events", f"{EVENT}date: {date}\n", 3, 7, "date:", *words)


@pytest.mark.parametrize(
    ("date", "precision"),
    [
        ("2025-11", MONTH),
        ("2025-11-13", DAY),
        ("2025-10-30T11:00:00+09:00", INSTANT),
        ("2025-10-30T02:00:00Z", INSTANT),
        ("'2025-11-13'", DAY),
    ],
)
def test_good_dates(date, precision):
    assert one_record("events", f"{EVENT}date: {date}\n").values["date"].precision == precision


def test_date_qualifiers_are_kept():
    event = one_record("events", f"{EVENT}date: 2023-05~\n")
    assert event.values["date"].display(timezone.utc) == "c. May 2023"
    event = one_record("events", f"{EVENT}date: 2023?\n")
    assert event.values["date"].qualifier == "?"


# --- required fields --------------------------------------------------------------------------


def test_missing_required_fields_are_reported_at_the_record():
    _, problems = parse("stories", "title: S\ntopics: [t]\n")
    assert lines(problems) == [
        "content/stories/x.yaml:1:1: error: missing required field 'date': add date: with a date "
        "(YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM+HH:MM)",
        "content/stories/x.yaml:1:1: error: missing required field 'summary': add summary: with "
        "Markdown text",
    ]


def test_missing_field_in_a_list_file_is_reported_at_that_item():
    text = "- id: a\n  title: A\n  date: 2025\n  topics: [t]\n- id: b\n  date: 2025\n  topics: [t]\n"
    records, problems = parse("events", text)
    assert [r.id for r in records] == ["a", "b"]
    assert lines(problems) == [
        "content/events/x.yaml:5:3: error: missing required field 'title': add title: with text"
    ]


@pytest.mark.parametrize("empty", ["", " ~", " null"])
def test_an_empty_required_field_counts_as_missing(empty):
    one_problem("topics", f"title:{empty}\nsummary: S\n", 1, 1, "missing required field 'title'")


def test_an_empty_optional_field_is_left_out():
    assert "role" not in one_record("people", "name: P\nrole:\n").values


def test_answered_question_needs_answer_and_answered():
    _, problems = parse("questions", "question: Q?\ntopics: [t]\nraised: 2025-11-01\nstatus: answered\n")
    assert [(p.line, p.col) for p in problems] == [(1, 1), (1, 1)]
    messages = [p.message for p in problems]
    assert "missing required field 'answer' (required when status is answered)" in messages[0]
    assert "missing required field 'answered' (required when status is answered)" in messages[1]
    one_record(
        "questions",
        "question: Q?\ntopics: [t]\nraised: 2025-11-01\nstatus: answered\n"
        "answer: Yes.\nanswered: 2025-11-15\n",
    )


@pytest.mark.parametrize("status", ["open", "dropped"])
def test_open_or_dropped_questions_need_no_answer(status):
    one_record("questions", f"question: Q?\ntopics: [t]\nraised: 2025-11-01\nstatus: {status}\n")


def test_quote_needs_topics_unless_it_has_a_story():
    quote = "text: Words.\nspeaker: p\ndate: 2025-11-01\n"
    one_problem("quotes", quote, 1, 1, "missing required field 'topics' (required unless story is set)")
    assert one_record("quotes", quote + "story: s\n").values["story"] == "s"
    assert one_record("quotes", quote + "topics: [t]\n").values["topics"] == ["t"]


def test_nested_mapping_fields_are_checked_with_their_positions():
    text = (
        "title: S\ndate: 2025-11-01\ntopics: [t]\nsummary: S\nsource:\n  nme: Reuters\n"
        "  url: ftp://x\ncorrections:\n  - date: 2025-11-02\n  - text: Fixed.\n    date: nope\n"
    )
    _, problems = parse("stories", text)
    assert lines(problems) == [
        "content/stories/x.yaml:6:3: error: missing required field 'source.name': add name: with text",
        "content/stories/x.yaml:6:3: error: unknown field 'source.nme'; did you mean 'name'?",
        "content/stories/x.yaml:7:8: error: 'source.url' takes an http or https URL "
        "(like https://example.org/page), not 'ftp://x'",
        "content/stories/x.yaml:9:5: error: missing required field 'corrections.0.text': add text: "
        "with Markdown text",
        "content/stories/x.yaml:11:11: error: corrections.1.date: 'nope' is not a date; write YYYY, "
        "YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM+HH:MM (optionally ending in ~ or ?)",
    ]


def test_a_record_keeps_each_fields_position_through_a_pickle():
    text = "title: S\ndate: 2025-11-01\ntopics: [t, u]\nsummary: S\nsource:\n  name: Reuters\n"
    record = one_record("stories", text)
    twin = one_record("stories", text, stem="y")
    back, twin_back = pickle.loads(pickle.dumps([record, twin], protocol=5))
    for one in (record, back):
        assert one.mark("title") == (1, 8)
        assert one.mark("topics.1") == (3, 13)
        assert one.mark("source.name") == (6, 9)
        assert one.mark("topics.7") == (3, 9)  # an item not written: its field
        assert one.mark("related") == (1, 1)  # a field not written: the record
    assert back == record
    # Records with the same fields share one tuple of field paths, also once read back.
    assert twin.mark_names is record.mark_names and twin_back.mark_names is back.mark_names


def test_values_worked_out_under_another_timezone_are_dropped():
    record = one_record("topics", TOPIC)
    record.derived("")["references"] = ()
    record.derived("UTC")["year"] = 2025
    assert record.derived("UTC")["year"] == 2025 and record.derived("")["references"] == ()
    assert "year" not in record.derived("Europe/London")
    assert "references" not in record.derived("")  # dropped too: only ever worked out again


# --- unknown fields and extra ---------------------------------------------------------------


def test_unknown_field_with_did_you_mean():
    one_problem("topics", TOPIC + "sumary: x\n", 3, 1, "unknown field 'sumary'", "did you mean 'summary'?")


def test_unknown_field_without_a_close_match_lists_the_fields_and_extra():
    problem = one_problem(
        "events",
        f"{EVENT}date: 2025\nwibble: 1\n",
        4,
        1,
        "unknown field 'wibble'",
        "an event takes id, draft, extra, title",
        "put your own data under extra:",
    )
    assert "did you mean" not in problem.message


@pytest.mark.parametrize("key", ["yes", "1", "~", "null", "Title"])
def test_keys_that_yaml_would_convert_are_just_unknown_fields(key):
    one_problem("topics", TOPIC + f"{key}: x\n", 3, 1, f"unknown field '{key}'")


def test_extra_takes_any_mapping_kept_as_written():
    topic = one_record("topics", TOPIC + "extra:\n  colour: No\n  items: [1.10, {a: ~}]\n")
    assert topic.values["extra"] == {"colour": "No", "items": ["1.10", {"a": None}]}


# --- the ` #` truncation warning --------------------------------------------------------------------


def test_comment_cutting_a_prose_value_is_a_warning():
    records, problems = parse("topics", "title: Item #1 is here\nsummary: S\n")
    assert records[0].values["title"] == "Item"
    assert lines(problems) == [
        "content/topics/x.yaml:1:8: warning: 'title' stops before ' #': YAML reads the rest of the "
        "line as a comment; quote the value if the '#' belongs to it"
    ]


def test_comment_cutting_a_list_item_is_a_warning():
    one_problem(
        "topics", TOPIC + "tags:\n  - Issue #4\n", 4, 5, "'tags.0' stops before ' #'", severity="warning"
    )


@pytest.mark.parametrize(
    "line",
    ["status: active # moving again", "started: 2025 # roughly", 'tags: ["x #1"] # note', "related: [a] # b"],
)
def test_comments_after_other_values_are_fine(line):
    one_record("topics", TOPIC + line + "\n")


# --- ids -------------------------------------------------------------------------------------


def test_the_file_name_is_the_id():
    assert one_record("topics", TOPIC, stem="rare-earths").id == "rare-earths"


def test_id_field_overrides_the_file_name():
    record = one_record("topics", "id: trade-truce\n" + TOPIC, stem="Old_Name")
    assert record.id == "trade-truce"
    assert "id" not in record.values


@pytest.mark.parametrize("stem", ["Bad_Name", "rare--earths", "-rare", "rare-", "café", "a b"])
def test_an_invalid_file_name_id(stem):
    problem = one_problem(
        "topics",
        TOPIC,
        1,
        1,
        "the file name gives an invalid id",
        f"'{stem}' is not a valid id",
        "rename the file or set id:",
        stem=stem,
    )
    assert "lowercase letters, digits and single hyphens" in problem.message


@pytest.mark.parametrize("written", ["Not OK", "rare_earths", "'-x'", "UPPER"])
def test_an_invalid_id_field(written):
    one_problem("topics", f"id: {written}\n" + TOPIC, 1, 5, "is not a valid id")


def test_ids_are_at_most_80_characters():
    assert one_record("topics", TOPIC, stem="a" * ID_MAX).id == "a" * ID_MAX
    one_problem("topics", TOPIC, 1, 1, "81 characters", "at most 80", "rename the file", stem="a" * 81)
    one_problem("topics", f"id: {'b' * 81}\n" + TOPIC, 1, 5, "81 characters", "at most 80")


def test_a_record_in_a_list_file_needs_an_id():
    text = "- id: a\n  title: A\n  summary: S\n- title: B\n  summary: S\n"
    records, problems = parse("topics", text, stem="list")
    assert [r.id for r in records] == ["a"]
    assert lines(problems) == [
        "content/topics/list.yaml:4:3: error: a record in a list file needs an id: add id: with its slug"
    ]


def test_an_empty_id_in_a_list_file_is_missing():
    one_problem("topics", "- id:\n  title: A\n  summary: S\n", 1, 3, "needs an id")


def test_an_empty_id_in_a_one_record_file_falls_back_to_the_file_name():
    assert one_record("topics", "id:\n" + TOPIC, stem="truce").id == "truce"


def test_list_items_must_be_mappings():
    one_problem("topics", "- just text\n", 1, 3, "each item of a record list must be a mapping")


@pytest.mark.parametrize("text", ["hello\n", "42\n", "'quoted'\n"])
def test_top_level_scalar_is_not_a_record(text):
    one_problem("topics", text, 1, 1, "a record file holds a mapping of fields, or a list")


valid_ids = st.from_regex(ID_PATTERN.replace("+", "{1,8}").replace("*", "{0,8}"), fullmatch=True)


@given(valid_ids)
def test_id_rule_accepts_lowercase_words_joined_by_single_hyphens(text):
    assert id_problem(text) is None
    assert one_record("topics", TOPIC, stem=text).id == text


@given(valid_ids, st.sampled_from(list("A_ .é/\n\t-") + ["--", "Ⅳ", "١"]), st.data())
def test_id_rule_refuses_any_other_character_or_shape(text, bad, data):
    where = data.draw(st.integers(0, len(text)))
    candidate = text[:where] + bad + text[where:]
    if bad == "-" and 0 < where < len(text) and "-" not in (text[where - 1], text[where]):
        return  # a single hyphen between two words is fine
    assert id_problem(candidate) is not None


@given(st.integers(ID_MAX + 1, 300))
def test_id_rule_refuses_long_ids(length):
    assert f"at most {ID_MAX}" in (id_problem("a" * length) or "")


# --- files on disk (the loader) ----------------------------------------------------------------


def site_problems(root, **options) -> list[str]:
    return lines(load_site(root, as_of=AS_OF, **options).problems)


def test_subfolders_and_yml_files_are_read(make_site):
    root = make_site(
        {
            "content/topics/t.yaml": TOPIC,
            "content/topics/2025/november/deep.yml": TOPIC,
        }
    )
    result = load_site(root, as_of=AS_OF)
    assert result.problems == []
    assert sorted(result.site.records["topics"]) == ["deep", "t"]
    assert result.site.records["topics"]["deep"].path == "content/topics/2025/november/deep.yml"


@pytest.mark.parametrize(
    "name",
    [
        ".t.yaml.swp",
        "t.yaml~",
        "#t.yaml#",
        ".#t.yaml",
        "t.yaml.swp",
        "t.yaml.tmp",
        "t.yaml.bak",
        ".hidden.yaml",
        "notes.txt",
        "t.json",
        "t.yaml.sb-1234-abcd",
    ],
)
def test_editor_temp_and_other_files_are_ignored(make_site, name):
    root = make_site({"content/topics/t.yaml": TOPIC, f"content/topics/{name}": "title: [broken\n"})
    result = load_site(root, as_of=AS_OF)
    assert result.problems == []
    assert list(result.site.records["topics"]) == ["t"]


def test_a_symlinked_record_file_is_refused(make_site, tmp_path):
    outside = tmp_path / "private.yaml"
    outside.write_text(TOPIC)
    root = make_site({"content/topics/t.yaml": TOPIC})
    os.symlink(outside, root / "content/topics/secret.yaml")
    assert site_problems(root) == [
        "content/topics/secret.yaml:1:1: error: record files may not be symlinks; copy the file here"
    ]


def test_a_symlinked_folder_is_refused(make_site, tmp_path):
    outside = tmp_path / "elsewhere"
    (outside / "more").mkdir(parents=True)
    (outside / "more/x.yaml").write_text(TOPIC)
    root = make_site({"content/topics/t.yaml": TOPIC})
    os.symlink(outside / "more", root / "content/topics/more")
    os.symlink(outside, root / "content/stories")
    assert site_problems(root) == [
        "content/stories:1:1: error: folders under content/ may not be symlinks; move the folder here",
        "content/topics/more:1:1: error: folders under content/ may not be symlinks",
    ]


def test_unknown_kind_folder_is_a_warning(make_site):
    root = make_site({"content/topic/t.yaml": TOPIC})
    assert site_problems(root) == [
        "content/topic:1:1: warning: 'topic' is not a record kind and is ignored; the kinds are topics, "
        "stories, quotes, questions, people, events"
    ]


def test_a_record_file_outside_a_kind_folder_is_a_warning(make_site):
    root = make_site({"content/t.yaml": TOPIC})
    problems = site_problems(root)
    assert problems == [
        "content/t.yaml:1:1: warning: record files go in a kind's folder, such as "
        "content/stories/; this one is ignored"
    ]


def test_a_fifo_is_not_read(make_site):
    root = make_site({"content/topics/t.yaml": TOPIC})
    os.mkfifo(root / "content/topics/pipe.yaml")
    assert site_problems(root) == [
        "content/topics/pipe.yaml:1:1: error: not a regular file; record files are plain text files"
    ]


def test_an_unreadable_file_is_a_problem(make_site, monkeypatch):
    root = make_site({"content/topics/t.yaml": TOPIC, "content/topics/locked.yaml": TOPIC})
    (root / "content/topics/locked.yaml").chmod(0)
    if os.geteuid() == 0:  # root reads any file: make it fail the way it does for others
        real = Path.read_bytes

        def read_bytes(path: Path) -> bytes:
            if path.name == "locked.yaml":
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert site_problems(root) == [
        "content/topics/locked.yaml:1:1: error: cannot read the file (Permission denied); check that "
        "it exists and is readable"
    ]


def test_values_as_written_through_the_whole_load(make_site):
    root = make_site(
        {
            "content/people/p.yaml": "name: No\nrole: yes\norg: 1.10\n",
            "content/people/q.yaml": "name: 010\nrole: 12:30\n",
        }
    )
    result = load_site(root, as_of=AS_OF)
    people = result.site.records["people"]
    assert people["p"].values["name"] == "No"
    assert people["p"].values["role"] == "yes"
    assert people["p"].values["org"] == "1.10"
    assert people["q"].values["name"] == "010"
    assert people["q"].values["role"] == "12:30"


def test_utf8_bom_file_loads(make_site):
    root = make_site({"content/topics/t.yaml": b"\xef\xbb\xbf" + TOPIC.encode()})
    assert load_site(root, as_of=AS_OF).site.records["topics"]["t"].values["title"] == "Trade truce"


# --- site.yaml ------------------------------------------------------------------------------------


def config_problems(make_site, site_yaml: str | bytes) -> list[str]:
    root = make_site({"site.yaml": site_yaml, "content/topics/t.yaml": TOPIC})
    result = load_site(root, as_of=AS_OF)
    assert result.site is None
    return lines(result.problems)


def test_site_yaml_defaults(make_site):
    root = make_site({"site.yaml": "title: B\nbase_url: https://example.org/briefing\n"})
    config = load_site(root, as_of=AS_OF).site.config
    assert config.base_url == "https://example.org/briefing/"
    assert (config.language, config.timezone, config.allow_html) == ("en", "UTC", False)
    assert (config.recent_days, config.stale_after_days) == (7, 30)


def test_site_yaml_missing_title_and_base_url(make_site):
    assert config_problems(make_site, "description: D\n") == [
        "site.yaml:1:1: error: missing required field 'base_url': add base_url: with an absolute http "
        "or https URL, which may have a path",
        "site.yaml:1:1: error: missing required field 'title': add title: with text",
    ]


@pytest.mark.parametrize(
    ("line", "col", "words"),
    [
        ("timezone: Mars/Olympus", 11, ["'timezone' takes an IANA timezone name", "'Mars/Olympus'"]),
        ("timezone: ../../etc/passwd", 11, ["'timezone' takes an IANA timezone name"]),
        ("timezone: ''", 11, ["'timezone' takes an IANA timezone name"]),
        ("language: english!", 11, ["'language' takes a BCP 47 language tag", "'english!'"]),
        ("language: en_GB", 11, ["'language' takes a BCP 47 language tag"]),
        (
            "base_url: /briefing/",
            11,
            [
                "'base_url' takes an absolute http or https URL",
                "(like https://example.org/briefing/)",
                "not '/briefing/'",
            ],
        ),
        ("base_url: example.org/briefing/", 11, ["'base_url' takes an absolute http or https URL"]),
        ("base_url: ftp://example.org/", 11, ["'base_url' takes an absolute http or https URL"]),
        ("allow_html: yes", 13, ["'allow_html' takes true or false", "not 'yes'"]),
        ("recent_days: -1", 14, ["'recent_days' takes a whole number", "not '-1'"]),
        ("stale_after_days: 1.5", 19, ["'stale_after_days' takes a whole number"]),
        ("cname: not a domain", 8, ["'cname' takes a domain name"]),
        ("titel: Typo", 1, ["unknown field 'titel'", "did you mean 'title'?"]),
        ("extra: [1]", 8, ["'extra' takes a mapping"]),
    ],
)
def test_site_yaml_errors(make_site, line, col, words):
    base = {"title": "title: B", "base_url": "base_url: https://example.org/"}
    key = line.split(":")[0]
    text = "\n".join([v for k, v in base.items() if k != key] + [line]) + "\n"
    problems = config_problems(make_site, text)
    assert len(problems) == 1, problems
    where = text.splitlines().index(line) + 1
    assert problems[0].startswith(f"site.yaml:{where}:{col}: error: "), problems[0]
    for word in words:
        assert word in problems[0]


def test_site_yaml_bad_encoding_and_shape(make_site):
    assert config_problems(make_site, b"title: Jos\xe9\nbase_url: https://e.org/\n") == [
        "site.yaml:1:11: error: not valid UTF-8 (byte 0xE9); re-save the file as UTF-8"
    ]
    assert config_problems(make_site, "- title: B\n") == [
        "site.yaml:1:1: error: site.yaml holds a mapping of settings"
    ]


def test_site_yaml_errors_do_not_hide_record_errors(make_site):
    root = make_site({"site.yaml": "title: B\n", "content/topics/t.yaml": "title: T\n"})
    result = load_site(root, as_of=AS_OF)
    assert result.site is None
    assert [(p.path, p.line) for p in result.errors] == [("content/topics/t.yaml", 1), ("site.yaml", 1)]


def test_each_problem_stays_on_one_line(make_site):
    root = make_site(
        {
            "content/topics/t.yaml": 'title: T\nsummary: S\nstatus: "act\\nive"\nstarted: "2025\\t11"\n',
            "content/topics/a\nb.yaml": TOPIC,
        }
    )
    assert site_problems(root) == [
        "content/topics/a\\nb.yaml:1:1: error: the file name gives an invalid id: 'a\\nb' is not a valid "
        "id; use lowercase letters, digits and single hyphens (like 'rare-earth-talks'); rename the file "
        "or set id:",
        "content/topics/t.yaml:3:9: error: 'status' takes one of active, dormant, closed, not 'act\\nive'",
        "content/topics/t.yaml:4:10: error: started: '2025\\t11' is not a date; write YYYY, YYYY-MM, "
        "YYYY-MM-DD or YYYY-MM-DDTHH:MM+HH:MM (optionally ending in ~ or ?)",
    ]
