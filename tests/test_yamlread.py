"""yamlread: YAML bytes -> located nodes, values as written, every failure located."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from site_gen import yamlread
from site_gen.errors import Problem
from site_gen.yamlread import MAX_BYTES, MAX_DEPTH, MAX_VALUES, YNode, read_yaml

PATH = "content/stories/x.yaml"


def read(data: bytes | str) -> tuple[YNode | None, list[Problem]]:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return read_yaml(PATH, data)


def only_problem(data: bytes | str) -> Problem:
    node, problems = read(data)
    assert node is None, "a refused file yields no node"
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.path == PATH and problem.is_error
    return problem


def assert_problem(data: bytes | str, line: int, col: int, *words: str) -> Problem:
    problem = only_problem(data)
    assert (problem.line, problem.col) == (line, col), str(problem)
    for word in words:
        assert word in problem.message, f"{word!r} not in {problem.message!r}"
    return problem


def mapping(data: bytes | str) -> dict[str, YNode]:
    node, problems = read(data)
    assert problems == []
    assert node is not None and node.kind == "map"
    return {key: value for key, (_, value) in node.value.items()}  # type: ignore[union-attr]


@pytest.fixture(params=["libyaml", "pure"])
def any_loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with LibYAML's loader (when built in) and with the pure-Python one."""
    if request.param == "libyaml":
        if not getattr(yaml, "__with_libyaml__", False):
            pytest.skip("PyYAML was built without LibYAML")
        monkeypatch.setattr(yamlread, "_Loader", yaml.CSafeLoader)
    else:
        monkeypatch.setattr(yamlread, "_Loader", yaml.SafeLoader)
    return request.param


# --- tags: nothing is ever constructed ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "col", "shown"),
    [
        ("title: !!python/object/apply:os.system ['touch {marker}']\n", 8, "!!python/object/apply:os.system"),
        ("title: !!python/name:os.system\n", 8, "!!python/name:os.system"),
        ("title: !!binary aGVsbG8=\n", 8, "!!binary"),
        ("tags: !!set {a, b}\n", 7, "!!set"),
        ("tags: !!omap [a: 1, b: 2]\n", 7, "!!omap"),
        ("title: !secret db_password\n", 8, "!secret"),
        ("title: !<tag:example.org,2025:x> hi\n", 8, "tag:example.org,2025:x"),
    ],
)
def test_exotic_and_unsafe_tags_are_refused_at_the_value(any_loader, tmp_path, text, col, shown):
    marker = tmp_path / "pwned"
    problem = assert_problem(text.replace("{marker}", str(marker)), 1, col, f"tag {shown} is not allowed")
    assert "remove it" in problem.message
    assert not marker.exists(), "the tag must never run anything"


def test_tag_on_a_nested_value_is_located(any_loader):
    assert_problem("title: T\nsource:\n  name: !!binary aGk=\n", 3, 9, "!!binary")


def test_core_tags_keep_the_text_as_written(any_loader):
    values = mapping("a: !!str 010\nb: !!int 010\nc: !!float 1.10\n")
    assert [values[k].value for k in "abc"] == ["010", "010", "1.10"]


# --- aliases --------------------------------------------------------------------------------


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly(any_loader):
    problem = only_problem(billion_laughs())
    assert (problem.line, problem.col) == (1, 5), "at the anchored value that repeats"
    assert "more than 10,000 values once aliases are expanded" in problem.message
    assert "remove the aliases" in problem.message


def test_self_referential_alias_is_refused(any_loader):
    assert_problem("t: &t {related: [*t]}\n", 1, 4, "alias refers to a value that contains it")


def test_small_aliases_are_expanded():
    values = mapping("a: &x hello\nb: *x\nc: &l [one, two]\nd: *l\n")
    assert values["b"].value == "hello"
    assert [item.value for item in values["d"].value] == ["one", "two"]  # type: ignore[union-attr]


def test_undefined_alias_says_define_the_anchor():
    assert_problem("a: *nope\n", 1, 4, "undefined alias", "define the anchor")


def test_value_count_limit_without_aliases_says_split_the_file():
    # the root mapping and the list count as values too
    ok = "items:\n" + "- x\n" * (MAX_VALUES - 2)
    assert read(ok)[1] == []
    problem = only_problem(ok + "- x\n")
    assert "more than 10,000 values in one file" in problem.message
    assert "split it" in problem.message
    assert "alias" not in problem.message
    assert (problem.line, problem.col) == (MAX_VALUES, 3)


# --- values as written ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "No",
        "NO",
        "no",
        "yes",
        "Yes",
        "on",
        "off",
        "y",
        "n",
        "1.10",
        "010",
        "09",
        "0x10",
        "0o10",
        "1_000",
        "+1",
        "1e3",
        ".inf",
        "-.inf",
        ".nan",
        "12:30",
        "1:30:00",
        "2024-03-01",
        "2024-03-01 10:00:00+02:00",
        "2024-03-01T10:00:00",
        "true",
        "false",
        "True",
    ],
)
def test_plain_scalars_stay_the_text_the_editor_typed(any_loader, written):
    value = mapping(f"a: {written}\n")["a"]
    assert value.value == written
    assert value.plain and not value.null


@pytest.mark.parametrize("written", ["", "~", "null", "Null", "NULL"])
def test_empty_and_null_values_are_null(written):
    value = mapping(f"a: {written}\n")["a"]
    assert value.null


def test_quoted_null_is_text():
    value = mapping("a: \"~\"\nb: 'null'\n")
    assert not value["a"].null and value["a"].value == "~"
    assert not value["b"].null and not value["b"].plain


def test_positions_are_one_based_line_and_column():
    node, problems = read("title: T\nsource:\n  name: Reuters\ntopics:\n  - a\n  - b\n")
    assert problems == [] and node is not None
    fields = node.value  # type: ignore[union-attr]
    key, source = fields["source"]
    assert (key.line, key.col) == (2, 1)
    assert (source.line, source.col) == (3, 3)
    name = source.value["name"][1]  # type: ignore[index]
    assert (name.line, name.col, name.value) == (3, 9, "Reuters")
    items = fields["topics"][1].value
    assert [(i.line, i.col, i.value) for i in items] == [(5, 5, "a"), (6, 5, "b")]


# --- keys -----------------------------------------------------------------------------------


def test_duplicate_key_is_an_error_naming_the_first():
    assert_problem("title: First\ntitle: Second\n", 2, 1, "duplicate key 'title'", "first at line 1")


def test_duplicate_key_in_a_nested_mapping():
    assert_problem(
        "title: T\nsource:\n  name: a\n  url: x\n  name: b\n", 5, 3, "duplicate key 'name'", "first at line 3"
    )


def test_duplicate_key_in_a_list_item():
    assert_problem(
        "- id: a\n  title: A\n- id: b\n  title: B\n  id: c\n", 5, 3, "duplicate key 'id'", "first at line 3"
    )


def test_merge_keys_are_refused(any_loader):
    assert_problem("base: &b {title: T}\nstory:\n  <<: *b\n", 3, 3, "merge keys (<<) are not supported")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("yes: 1\n", "yes"),
        ("1: a\n", "1"),
        ("~: a\n", "~"),
        ("null: b\n", "null"),
        ("1.10: a\n", "1.10"),
        ("2025-11-01: x\n", "2025-11-01"),
    ],
)
def test_keys_stay_text(text, key):
    assert list(mapping(text)) == [key]


def test_yes_and_true_keys_do_not_merge():
    assert sorted(mapping("yes: 1\ntrue: 2\n~: 3\nnull: 4\n")) == ["null", "true", "yes", "~"]


@pytest.mark.parametrize("text", ["[a, b]: 1\n", "? {a: 1}\n: 2\n"])
def test_a_key_must_be_a_scalar(text):
    assert_problem(text, 1, 1 if text.startswith("[") else 3, "key must be a plain name")


# --- comments, colons, tabs -------------------------------------------------------------------


def test_comment_after_a_plain_value_is_flagged():
    value = mapping("title: Item #1 is here\n")["title"]
    assert value.value == "Item"
    assert value.comment_follows


@pytest.mark.parametrize(
    "text", ["title: C# in depth\n", 'title: "Item" # note\n', "title: Item\n", "title: |\n  Item #1\n"]
)
def test_no_truncation_flag_when_nothing_was_cut(text):
    assert not mapping(text)["title"].comment_follows


def test_colon_space_in_plain_text_gives_the_position_and_the_hint(any_loader):
    assert_problem(
        "title: x\nsummary: Breaking: news\n",
        2,
        18,
        "mapping values are not allowed",
        "quote values that contain ': '",
    )


@pytest.mark.parametrize(
    ("text", "line", "col", "hint"),
    [
        # Located where what is left open was opened, not at the end of the file.
        ('title: "Broken\nsummary: fine\n', 1, 8, "a quoted value opened here is never closed"),
        ("title: 'Broken\nsummary: fine\n", 1, 8, "end it with the same quote"),
        ("title: x\ntopics: [a, b\nsummary: fine\n", 2, 9, "a list opened here with '[' is not closed"),
        ("title: x\nsource: {name: a\nsummary: x\n", 2, 9, "opened here with '{' is not closed"),
        ("title: x\nsummary fine\ndate: 2025-01-01\n", 2, 1, "this line is not 'field: value'"),
        ("summary: |\ntext\n", 2, 1, "indent the line under the field it continues"),
        # Located at the character refused.
        ("title: @handle\n", 1, 8, "a value cannot start with '@'; put the whole value in quotes"),
        ("title: é€漢字\nname: @x\n", 2, 7, "a value cannot start with '@'"),  # found by character, not byte
        ("title: `code`\n", 1, 8, "a value cannot start with '`'"),
        ("title: %x\n", 1, 8, "a value cannot start with '%'"),
        ("title: *bold*\n", 1, 8, "a value cannot start with '*'"),
        ('title: "Quoted" and more\n', 1, 17, "quote the whole value with the other quote"),
        ("title: x\n- a\n", 2, 1, "check the indentation"),
        ("topics:\n  - a\n - b\n", 3, 2, "check the indentation"),
    ],
)
def test_common_yaml_mistakes_say_where_and_what_to_do(any_loader, text, line, col, hint):
    assert_problem(text, line, col, "not valid YAML", hint)


def test_tab_indentation_is_refused_with_a_hint(any_loader):
    assert_problem("source:\n\tname: a\n", 2, 1, "YAML forbids tabs", "indent with spaces")


def test_tab_after_the_colon_is_fine():
    assert mapping("title:\tWords\n")["title"].value == "Words"


# --- encodings and characters -----------------------------------------------------------------


def test_utf8_bom_is_accepted():
    values = mapping(b"\xef\xbb\xbftitle: Caf\xc3\xa9\n")
    assert list(values) == ["title"]
    assert values["title"].value == "Café"
    assert (values["title"].line, values["title"].col) == (1, 8)


def test_latin1_bytes_are_located_on_their_line():
    assert_problem(
        b"title: ok\nname: Jos\xe9 Garc\xeda\n",
        2,
        10,
        "not valid UTF-8",
        "byte 0xE9",
        "re-save the file as UTF-8",
    )


def test_latin1_column_counts_characters_not_bytes():
    assert_problem("title: Zoë ".encode() + b"\xe9\n", 1, 12, "byte 0xE9")


def test_latin1_after_a_bom_is_located_correctly():
    assert_problem(b"\xef\xbb\xbft: \xe9\n", 1, 4, "byte 0xE9")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_refused(encoding):
    data = "title: x\n".encode(encoding)
    if encoding != "utf-16":
        data = ("\ufeff" + "title: x\n").encode(encoding)
    assert_problem(data, 1, 1, "UTF-16", "re-save it as UTF-8")


@pytest.mark.parametrize(
    ("text", "line", "col", "code"),
    [
        ("title: a\x00b\n", 1, 9, "U+0000"),
        ("title: ok\nname: é\x00\n", 2, 8, "U+0000"),
        ("title: a\x07b\n", 1, 9, "U+0007"),
        ("title: a\x1bb\n", 1, 9, "U+001B"),
        ("title: a\x7fb\n", 1, 9, "U+007F"),
        ("title: a\u2028b\n", 1, 9, "U+2028"),
        ("title: a\u2029b\n", 1, 9, "U+2029"),
        ("title: a\x85b\n", 1, 9, "U+0085"),
        ('title: "a\u2028b"\n', 1, 10, "U+2028"),
        ("title: x\r\nname: a\x00\r\n", 2, 8, "U+0000"),
    ],
)
def test_invisible_control_characters_are_located(any_loader, text, line, col, code):
    assert_problem(text, line, col, f"invisible control character {code}", "delete it")


@pytest.mark.parametrize("escape", ["\\0", "\\a", "\\e", "\\x7f", "\\u2028", "\\N"])
def test_control_characters_written_as_escapes_are_refused(any_loader, escape):
    assert_problem(
        f'title: T\nname: "a{escape}b"\n', 2, 7, "invisible control character", "written as an escape"
    )


def test_lone_surrogate_escape_is_refused(any_loader):
    problem = only_problem('t: "\\ud800"\n')
    assert problem.line == 1
    assert problem.col == (7 if any_loader == "libyaml" else 4)
    assert "invalid \\u escape" in problem.message


def test_ordinary_escapes_are_fine():
    assert mapping('t: "tab\\there \\u00e9 \\U0001F600"\n')["t"].value == "tab\there é 😀"


# --- shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n\n",
        b"   \n",
        b"# just a comment\n",
        b"\xef\xbb\xbf",
        b"---\n",
        b"--- # nothing\n...\n",
        b"~\n",
    ],
)
def test_empty_or_comment_only_file(any_loader, data):
    assert_problem(data, 1, 1, "file is empty", "write a record")


def test_top_level_scalar_and_list_are_returned_for_the_validator():
    node, problems = read("hello\n")
    assert problems == [] and node is not None and node.kind == "scalar"
    node, problems = read("- a\n- b\n")
    assert problems == [] and node is not None and node.kind == "seq"


def test_several_documents_are_refused(any_loader):
    assert_problem("title: A\n---\ntitle: B\n", 2, 1, "expected a single document", "remove the extra '---'")


def test_explicit_document_markers_around_one_document_are_fine():
    assert mapping("---\ntitle: A\n...\n")["title"].value == "A"


# --- depth and size -------------------------------------------------------------------------


def flow(levels: int) -> str:
    return "a: " + "[" * levels + "]" * levels + "\n"


def block(levels: int) -> str:
    lines = [" " * (2 * i) + f"k{i}:" for i in range(levels)]
    return "\n".join(lines) + " v\n"


def test_nesting_at_the_limit_is_fine(any_loader):
    assert read(flow(MAX_DEPTH))[1] == []
    assert read(block(MAX_DEPTH))[1] == []


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 600, 5_000])
def test_deep_flow_nesting_is_refused(any_loader, levels):
    assert_problem(flow(levels), 1, 68, "nested too deeply", f"at most {MAX_DEPTH} levels")


@pytest.mark.parametrize(
    ("levels", "line", "col"),
    [
        (MAX_DEPTH + 1, 65, 134),  # the scalar under k64
        (MAX_DEPTH + 2, 66, 131),  # the mapping that starts with k65
        (900, 66, 131),
    ],
)
def test_deep_block_nesting_is_refused(any_loader, levels, line, col):
    assert_problem(block(levels), line, col, "nested too deeply")


@pytest.mark.parametrize("loader", ["CSafeLoader", "SafeLoader"])
def test_extreme_nesting_does_not_crash_the_process(loader):
    # LibYAML's composer recurses without a limit: 200,000 '[' used to kill
    # the interpreter with a segmentation fault. Run it in a child process.
    code = (
        "import yaml, site_gen.yamlread as r\n"
        f"r._Loader = getattr(yaml, {loader!r}, yaml.SafeLoader)\n"
        "node, problems = r.read_yaml('x.yaml', b'a: ' + b'[' * 200000 + b']' * 200000)\n"
        "print(problems[0])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "x.yaml:1:68: error: values nested too deeply" in proc.stdout


def test_file_over_the_size_cap_is_refused_before_parsing():
    data = b"title: " + b"x" * MAX_BYTES + b"\n"
    assert_problem(data, 1, 1, "larger than 2 MB", "split it")


def test_file_just_under_the_size_cap_is_read():
    data = b"title: " + b"x" * (MAX_BYTES - 20) + b"\n"
    assert len(data) <= MAX_BYTES
    assert len(mapping(data)["title"].value) == MAX_BYTES - 20
