"""`site-gen schema`: JSON Schemas from the field table, checked with `jsonschema`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from site_gen.errors import Problems
from site_gen.fields import KINDS, SINGULAR_TO_KIND, SITE_FIELDS
from site_gen.schema import json_schema
from site_gen.validate import read_records
from site_gen.yamlread import read_yaml

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "content"


class Yaml12Loader(yaml.SafeLoader):
    """Types plain scalars roughly as YAML 1.2 editors do (VS Code's YAML extension):
    no timestamps, and only true/false are booleans."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load12(text: str) -> Any:
    return yaml.load(text, Loader=Yaml12Loader)  # noqa: S506 - a SafeLoader subclass


def schema_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "site_gen", "schema", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


@pytest.fixture(scope="module")
def schemas() -> dict[str, Any]:
    proc = schema_cli()
    assert proc.returncode == 0, proc.stderr
    everything = json.loads(proc.stdout)
    Draft7Validator.check_schema(everything)
    return everything["$defs"]


def validator(schemas: dict[str, Any], kind: str) -> Draft7Validator:
    return Draft7Validator(schemas[kind])


def schema_errors(schemas: dict[str, Any], kind: str, text: str) -> list[str]:
    return [error.message for error in validator(schemas, kind).iter_errors(load12(text))]


def site_gen_errors(kind: str, text: str) -> list[str]:
    node, found = read_yaml("x.yaml", text.encode())
    problems = Problems(list(found))
    if node is not None:
        read_records(kind, "x.yaml", "x", node, problems)
    return [p.message for p in problems.errors]


# --- the command ----------------------------------------------------------------------------


def test_schema_of_everything_names_every_kind_and_site(schemas):
    assert sorted(schemas) == sorted([*KINDS, "site"])


@pytest.mark.parametrize("kind", [*KINDS, *SINGULAR_TO_KIND, "site"])
def test_schema_of_one_kind(kind):
    proc = schema_cli(kind)
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    Draft7Validator.check_schema(schema)
    assert schema == json_schema(SINGULAR_TO_KIND.get(kind, kind))
    # draft-07: what VS Code's YAML extension fully supports
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_unknown_kind_is_a_usage_error():
    proc = schema_cli("storys")
    assert proc.returncode == 2
    assert "invalid choice: 'storys'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_schema_needs_no_site(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "site_gen", "--site", str(tmp_path), "schema", "topic"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("kind", list(KINDS))
def test_schema_lists_exactly_the_fields_of_the_table(schemas, kind):
    record = schemas[kind]["oneOf"][0]
    fields = KINDS[kind].fields
    assert list(record["properties"]) == [f.name for f in fields]
    assert record["required"] == [f.name for f in fields if f.required]
    assert record["additionalProperties"] is False
    for field in fields:
        assert record["properties"][field.name]["description"] == field.doc
    listed = schemas[kind]["oneOf"][1]["items"]
    assert "id" in listed["required"]


def test_site_schema_lists_the_site_fields(schemas):
    assert list(schemas["site"]["properties"]) == [f.name for f in SITE_FIELDS]
    assert schemas["site"]["required"] == ["title", "base_url"]


# --- the example content --------------------------------------------------------------------


def content_files() -> list[Path]:
    if not CONTENT.is_dir():
        return []
    return sorted(p for p in CONTENT.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


@pytest.mark.skipif(not CONTENT.is_dir(), reason="the repository's example content is absent")
@pytest.mark.parametrize("path", content_files(), ids=lambda p: str(p.relative_to(CONTENT)))
def test_every_example_file_validates(schemas, path):
    kind = path.relative_to(CONTENT).parts[0]
    errors = [e.message for e in validator(schemas, kind).iter_errors(load12(path.read_text("utf-8")))]
    assert errors == []


@pytest.mark.skipif(not (REPO / "site.yaml").is_file(), reason="no example site.yaml")
def test_the_example_site_yaml_validates(schemas):
    assert schema_errors(schemas, "site", (REPO / "site.yaml").read_text("utf-8")) == []


# --- good and bad records: the schema agrees with site-gen --------------------------------------

GOOD = [
    ("topics", "title: T\nsummary: S\n"),
    ("topics", "title: T\nsummary: S\nstarted: 2023\n"),  # a number to YAML 1.2 tools
    ("topics", "title: 1.10\nsummary: 2025\nstatus: closed\ntags: [No, 010, true]\n"),
    ("topics", "title: T\nsummary: S\nstarted:\nrelated:\ntags:\nextra:\n"),  # left empty
    ("topics", "- id: a\n  title: T\n  summary: S\n- id: b\n  title: U\n  summary: S\n"),
    (
        "stories",
        "title: S\ndate: 2025-10-30T11:00:00+09:00\ntopics: [t]\nsummary: S\n"
        "source:\n  name: AFP\n  url: https://afp.com/\ncorrections:\n  - date: 2025-11\n    text: Fixed.\n",
    ),
    ("quotes", "text: Words.\nspeaker: p\ndate: 2023-05~\nstory: s\n"),
    ("quotes", "text: Words.\nspeaker: p\ndate: 2023?\ntopics: [t]\n"),
    (
        "questions",
        "question: Q?\ntopics: [t]\nraised: 2025-11-01\nstatus: answered\nanswer: Yes.\n"
        "answered: 2025-11-02\n",
    ),
    ("people", "name: P\nurl: https://example.org/p\ndraft: true\n"),
    ("events", "title: E\ndate: 2025-11\ntopics: [t]\nextra:\n  anything: [1, {a: b}]\n"),
    (
        "site",
        "title: B\nbase_url: https://example.org/briefing/\ntimezone: Asia/Tokyo\nrecent_days: 14\n"
        "allow_html: false\ncname: briefing.example.org\n",
    ),
]

BAD = [
    ("topics", "title: T\nsummary: S\nsumary: S\n", "Additional properties"),
    ("topics", "summary: S\n", "'title' is a required property"),
    ("topics", "title: T\nsummary: S\nstatus: Active\n", "is not one of"),
    ("topics", "title: T\nsummary: S\ndraft: perhaps\n", "is not of type"),
    ("topics", "title: T\nsummary: S\nrelated: [Not_An_Id]\n", "does not match"),
    ("topics", "title: T\nsummary: S\nrelated: t\n", "is not of type"),
    ("topics", "- title: T\n  summary: S\n", "'id' is a required property"),
    ("topics", "title: ''\nsummary: S\n", "should be non-empty"),
    ("stories", "title: S\ndate: 30 October 2025\ntopics: [t]\nsummary: S\n", "does not match"),
    ("stories", "title: S\ndate: 2025-11-01\ntopics: []\nsummary: S\n", "should be non-empty"),
    ("stories", "title: S\ndate: 2025-11-01\ntopics: 42\nsummary: S\n", "is not of type"),
    (
        "stories",
        "title: S\ndate: 2025-11-01\ntopics: [t]\nsummary: S\nsource:\n  url: https://x.org/\n",
        "'name' is a required property",
    ),
    ("quotes", "text: Words.\nspeaker: p\ndate: 2025-11-01\n", "is not valid under any of the given schemas"),
    (
        "questions",
        "question: Q?\ntopics: [t]\nraised: 2025-11-01\nstatus: answered\n",
        "'answer' is a required property",
    ),
    ("people", "name: P\nurl: javascript:alert(1)\n", "does not match"),
    ("site", "title: B\n", "'base_url' is a required property"),
    ("site", "title: B\nbase_url: https://e.org/\nrecent_days: -1\n", "less than the minimum"),
    ("site", "title: B\nbase_url: https://e.org/\nlanguage: english!\n", "does not match"),
]


@pytest.mark.parametrize(("kind", "text"), GOOD)
def test_good_records_pass_both(schemas, kind, text):
    assert schema_errors(schemas, kind, text) == []
    if kind != "site":
        assert site_gen_errors(kind, text) == []


def _messages(schemas: dict[str, Any], kind: str, text: str) -> str:
    """Every message, including those under oneOf/anyOf branches."""
    found = []
    for error in validator(schemas, kind).iter_errors(load12(text)):
        found.append(error.message)
        found.extend(sub.message for sub in error.context or [])
        for sub in error.context or []:
            found.extend(deeper.message for deeper in sub.context or [])
    return "\n".join(found)


@pytest.mark.parametrize(("kind", "text", "words"), BAD)
def test_bad_records_fail_both(schemas, kind, text, words):
    messages = _messages(schemas, kind, text)
    assert messages, "the schema accepted a bad record"
    assert words in messages
    if kind != "site":
        assert site_gen_errors(kind, text), "site-gen accepted a bad record"
