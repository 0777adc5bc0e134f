"""The record kinds and their fields: the one declarative definition.

Validation, error messages, `site-gen schema`, `site-gen new` and the docs
all read these tables; nothing else in site-gen lists fields.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .dates import DATE_FORMS, DateError, PartialDate, parse_date
from .yamlread import YNode

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
ID_MAX = 80
_ID_RE = re.compile(ID_PATTERN)


class FieldError(ValueError):
    """A value that does not fit its field; `node` locates it."""

    def __init__(self, node: YNode, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def id_problem(text: str) -> str | None:
    """Why `text` is not a valid id, or None when it is one."""
    if len(text) > ID_MAX:
        return f"'{text[:20]}…' is {len(text)} characters; an id has at most {ID_MAX}"
    if not _ID_RE.fullmatch(text):
        return (
            f"'{text}' is not a valid id; use lowercase letters, digits and single hyphens "
            "(like 'rare-earth-talks')"
        )
    return None


def _kind_name(node: YNode) -> str:
    if node.kind == "seq":
        return "a list"
    if node.kind == "map":
        return "a mapping"
    return f"'{node.value}'"


class FieldType:
    """How one field's YAML value is checked and converted."""

    describe = "a value"

    def convert(self, node: YNode) -> Any:
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def scalar(self, node: YNode) -> str:
        if node.kind != "scalar":
            raise FieldError(node, f"takes {self.describe}, not {_kind_name(node)}")
        return str(node.value)


class Text(FieldType):
    describe = "text"

    def convert(self, node: YNode) -> str:
        text = self.scalar(node).strip()
        if not text:
            raise FieldError(node, f"is empty; write {self.describe} or remove the field")
        return text

    def json_schema(self) -> dict[str, Any]:
        # Editors' YAML 1.2 tooling reads `2025`, `1.10` or `true` as numbers and
        # booleans; site-gen keeps them as the text written, so they are allowed.
        return {"type": ["string", "number", "boolean"], "minLength": 1}


class Markdown(Text):
    describe = "Markdown text"

    def json_schema(self) -> dict[str, Any]:
        return {**super().json_schema(), "contentMediaType": "text/markdown"}


class Date(FieldType):
    describe = f"a date ({DATE_FORMS})"

    def convert(self, node: YNode) -> PartialDate:
        try:
            return parse_date(self.scalar(node))
        except DateError as exc:
            raise FieldError(node, str(exc)) from None

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": ["string", "integer"],  # a year-only date is a number to YAML 1.2 tools
            "minimum": 1,
            "maximum": 9999,
            "pattern": r"^\d{4}(-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
            r"(Z|[+-]\d{2}:?\d{2}))?)?)?[~?]?$",
            "description": f"{DATE_FORMS}; may end in ~ (approximate) or ? (uncertain)",
        }


class Boolean(FieldType):
    describe = "true or false"

    def convert(self, node: YNode) -> bool:
        text = self.scalar(node)
        if text not in ("true", "false"):
            raise FieldError(node, f"takes true or false, not '{text}'")
        return text == "true"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


class Integer(FieldType):
    describe = "a whole number (0 or more)"

    def convert(self, node: YNode) -> int:
        text = self.scalar(node)
        if not re.fullmatch(r"[0-9]{1,6}", text):
            raise FieldError(node, f"takes {self.describe}, not '{text}'")
        return int(text)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": 0, "maximum": 999_999}


class Url(FieldType):
    describe = "an http or https URL"
    example = "https://example.org/page"

    def convert(self, node: YNode) -> str:
        text = self.scalar(node).strip()
        if not re.match(r"^https?://[^\s/]+\S*$", text, re.IGNORECASE):
            raise FieldError(node, f"takes {self.describe} (like {self.example}), not '{text}'")
        return text

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "uri", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"}


class Choice(FieldType):
    def __init__(self, *choices: str) -> None:
        self.choices = choices
        self.describe = " | ".join(choices)

    def convert(self, node: YNode) -> str:
        text = self.scalar(node)
        if text not in self.choices:
            raise FieldError(node, f"takes one of {', '.join(self.choices)}, not '{text}'")
        return text

    def json_schema(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}


class Ref(FieldType):
    """The id of a record of another kind; resolved by the index."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.describe = f"a {KIND_SINGULAR.get(kind, kind)} id"

    def convert(self, node: YNode) -> str:
        text = self.scalar(node)
        problem = id_problem(text)
        if problem:
            raise FieldError(node, problem)
        return text

    def json_schema(self) -> dict[str, Any]:
        # An all-digit id such as 2025 is a number to YAML 1.2 tools.
        return {
            "type": ["string", "integer"],
            "minimum": 0,
            "pattern": ID_PATTERN,
            "maxLength": ID_MAX,
            "description": self.describe,
        }


class Identifier(Ref):
    def __init__(self) -> None:
        self.kind = ""
        self.describe = "an id: lowercase letters, digits and single hyphens"


class ListOf(FieldType):
    def __init__(self, item: FieldType, min_items: int = 0) -> None:
        self.item = item
        self.min_items = min_items
        self.describe = f"a list of {_plural(item.describe)}"

    def convert(self, node: YNode) -> list[Any]:
        if node.kind != "seq":
            raise FieldError(
                node,
                f"takes {self.describe}, not {_kind_name(node)}; "
                f"write [{node.value if node.kind == 'scalar' else '…'}] or one '- item' per line",
            )
        if len(node.value) < self.min_items:
            raise FieldError(node, f"needs at least {self.min_items} item; add one")
        return [self.item.convert(item) for item in node.value]  # type: ignore[union-attr]

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": self.item.json_schema()}
        if self.min_items:
            schema["minItems"] = self.min_items
        return schema


class Mapping(FieldType):
    """A nested mapping with its own fields, such as a story's `source`."""

    def __init__(self, describe: str, *fields: Field) -> None:
        self.fields = {f.name: f for f in fields}
        self.describe = describe

    def convert(self, node: YNode) -> dict[str, Any]:
        if node.kind != "map":
            raise FieldError(
                node,
                f"takes {self.describe} (a mapping with {', '.join(self.fields)}), not {_kind_name(node)}",
            )
        # Nested mappings are validated field by field by the validator,
        # which needs the per-field positions; see validate.convert_fields.
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        return object_schema(self.fields.values(), self.describe)


class FreeMapping(FieldType):
    """`extra:` — any mapping, for custom templates."""

    describe = "a mapping"

    def convert(self, node: YNode) -> dict[str, Any]:
        if node.kind != "map":
            raise FieldError(node, f"takes a mapping of your own fields, not {_kind_name(node)}")
        return plain_value(node)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "description": "free-form data for custom templates"}


def plain_value(node: YNode) -> Any:
    """The node as plain Python data: text, lists and dicts (values as written)."""
    if node.kind == "scalar":
        return None if node.null else node.value
    if node.kind == "seq":
        return [plain_value(item) for item in node.value]  # type: ignore[union-attr]
    return {key: plain_value(value) for key, (_, value) in node.value.items()}  # type: ignore[union-attr]


def _plural(describe: str) -> str:
    if describe.startswith("a "):
        return describe[2:] + "s"
    if describe.startswith("an "):
        return describe[3:] + "s"
    return describe


@dataclass(frozen=True)
class Field:
    """One field of a record kind."""

    name: str
    type: FieldType
    doc: str
    required: bool = False
    default: Any = None
    required_if: Callable[[dict[str, Any]], bool] | None = None
    required_note: str = ""
    example: str = ""


@dataclass(frozen=True)
class Kind:
    """A record kind: its folder name, singular name and fields."""

    name: str
    singular: str
    label_field: str
    doc: str
    fields: tuple[Field, ...]
    by_name: dict[str, Field] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_name.update({f.name: f for f in self.fields})


def _property_schema(spec: Field) -> dict[str, Any]:
    """A field's schema; an optional field may also be left empty (null)."""
    schema = {**spec.type.json_schema(), "description": spec.doc}
    if spec.required:
        return schema
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    elif "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        schema["type"] = [*types, "null"]
    return schema


def object_schema(fields: Any, description: str) -> dict[str, Any]:
    fields = list(fields)
    schema: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": {f.name: _property_schema(f) for f in fields},
        "additionalProperties": False,
    }
    required = [f.name for f in fields if f.required]
    if required:
        schema["required"] = required
    return schema


KIND_SINGULAR = {
    "topics": "topic",
    "stories": "story",
    "quotes": "quote",
    "questions": "question",
    "people": "person",
    "events": "event",
}

TEXT, MARKDOWN, DATE, BOOL = Text(), Markdown(), Date(), Boolean()
TAGS = ListOf(Text())

COMMON = (
    Field(
        "id",
        Identifier(),
        "the record's id and URL slug; defaults to the file name "
        "(required in a file that holds a list of records)",
    ),
    Field("draft", BOOL, "true keeps the record out of build and publish (serve shows it)", default=False),
    Field("extra", FreeMapping(), "free-form data for custom templates"),
)


def _answered(values: dict[str, Any]) -> bool:
    return values.get("status") == "answered"


def _no_story(values: dict[str, Any]) -> bool:
    return "story" not in values


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "topics",
            "topic",
            "title",
            "A storyline the briefing follows.",
            COMMON
            + (
                Field("title", TEXT, "the topic's name", required=True),
                Field("summary", MARKDOWN, "where the story stands, in a few sentences", required=True),
                Field(
                    "status",
                    Choice("active", "dormant", "closed"),
                    "whether the topic is moving",
                    default="active",
                ),
                Field("started", DATE, "when the storyline began"),
                Field("tags", TAGS, "keywords"),
                Field("related", ListOf(Ref("topics")), "ids of related topics"),
            ),
        ),
        Kind(
            "stories",
            "story",
            "title",
            "A dated, sourced development.",
            COMMON
            + (
                Field("title", TEXT, "the headline", required=True),
                Field("date", DATE, "when it happened", required=True),
                Field("date_text", TEXT, "free text shown instead of the date (sorting still uses date)"),
                Field("topics", ListOf(Ref("topics"), 1), "ids of the topics it belongs to", required=True),
                Field("summary", MARKDOWN, "what happened, in a few sentences", required=True),
                Field(
                    "source",
                    Mapping(
                        "the source",
                        Field("name", TEXT, "publication or body", required=True),
                        Field("url", Url(), "link to the source"),
                        Field("author", TEXT, "who wrote it"),
                        Field("via", TEXT, "who reported it further"),
                    ),
                    "where it was reported",
                ),
                Field("body", MARKDOWN, "the full account"),
                Field("people", ListOf(Ref("people")), "ids of the people involved"),
                Field("tags", TAGS, "keywords"),
                Field("updated", DATE, "when the story was last updated"),
                Field(
                    "corrections",
                    ListOf(
                        Mapping(
                            "a correction",
                            Field("date", DATE, "when it was corrected", required=True),
                            Field("text", MARKDOWN, "what was corrected", required=True),
                        )
                    ),
                    "corrections made after publication",
                ),
            ),
        ),
        Kind(
            "quotes",
            "quote",
            "text",
            "Who said what, where and when.",
            COMMON
            + (
                Field("text", TEXT, "the words as said", required=True),
                Field("speaker", Ref("people"), "id of the person who said it", required=True),
                Field("date", DATE, "when it was said", required=True),
                Field("date_text", TEXT, "free text shown instead of the date (sorting still uses date)"),
                Field(
                    "topics",
                    ListOf(Ref("topics"), 1),
                    "ids of its topics (default: the story's)",
                    required_if=_no_story,
                    required_note="required unless story is set",
                ),
                Field("story", Ref("stories"), "id of the story it comes from"),
                Field(
                    "source",
                    Mapping(
                        "the source",
                        Field("name", TEXT, "publication or event", required=True),
                        Field("url", Url(), "link to the source"),
                    ),
                    "where it was said or reported",
                ),
                Field("context", TEXT, "the circumstances"),
            ),
        ),
        Kind(
            "questions",
            "question",
            "question",
            "What the briefing does not know yet.",
            COMMON
            + (
                Field("question", TEXT, "the open question", required=True),
                Field("topics", ListOf(Ref("topics"), 1), "ids of its topics", required=True),
                Field("raised", DATE, "when it was raised", required=True),
                Field("deadline", DATE, "when it should be answered by"),
                Field("status", Choice("open", "answered", "dropped"), "where it stands", default="open"),
                Field(
                    "answer",
                    MARKDOWN,
                    "the answer",
                    required_if=_answered,
                    required_note="required when status is answered",
                ),
                Field(
                    "answered",
                    DATE,
                    "when it was answered",
                    required_if=_answered,
                    required_note="required when status is answered",
                ),
                Field("why_it_matters", MARKDOWN, "why readers should care"),
                Field("resolution_criteria", MARKDOWN, "what would count as an answer"),
                Field("stories", ListOf(Ref("stories")), "ids of stories that bear on it"),
            ),
        ),
        Kind(
            "people",
            "person",
            "name",
            "Someone quoted or involved.",
            COMMON
            + (
                Field("name", TEXT, "full name", required=True),
                Field("role", TEXT, "their role or title"),
                Field("org", TEXT, "their organisation"),
                Field("url", Url(), "a page about them"),
            ),
        ),
        Kind(
            "events",
            "event",
            "title",
            "A timeline entry that is not a story.",
            COMMON
            + (
                Field("title", TEXT, "what happens or happened", required=True),
                Field("date", DATE, "when", required=True),
                Field("date_text", TEXT, "free text shown instead of the date (sorting still uses date)"),
                Field("topics", ListOf(Ref("topics"), 1), "ids of its topics", required=True),
                Field("summary", MARKDOWN, "details"),
                Field("stories", ListOf(Ref("stories")), "ids of related stories"),
            ),
        ),
    )
}

SINGULAR_TO_KIND = {kind.singular: name for name, kind in KINDS.items()}


def markdown_values(kind: str, values: dict[str, Any]) -> Iterator[str]:
    """The Markdown texts among a record's `values`: its kind's Markdown fields, and the
    `text` of each item of its lists of items (the texts site-gen renders)."""
    prose, nested = _markdown_fields(kind)
    for name in prose:
        if values.get(name):
            yield values[name]
    for name in nested:
        for item in values.get(name, ()):
            if item.get("text"):
                yield item["text"]


@functools.cache
def _markdown_fields(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A kind's Markdown fields, and its lists of items with a Markdown `text`."""
    fields = KINDS[kind].fields
    prose = tuple(f.name for f in fields if isinstance(f.type, Markdown))
    nested = tuple(f.name for f in fields if isinstance(f.type, ListOf) and isinstance(f.type.item, Mapping))
    return prose, nested


class BaseUrl(Url):
    describe = "an absolute http or https URL, which may have a path"
    example = "https://example.org/briefing/"

    def convert(self, node: YNode) -> str:
        url = super().convert(node)
        return url if url.endswith("/") else url + "/"


class LanguageTag(FieldType):
    describe = "a BCP 47 language tag, such as en or en-GB"

    def convert(self, node: YNode) -> str:
        text = self.scalar(node)
        if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", text):
            raise FieldError(node, f"takes {self.describe}, not '{text}'")
        return text

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"}


class TimeZoneName(FieldType):
    describe = "an IANA timezone name, such as Europe/London or Asia/Tokyo"

    def convert(self, node: YNode) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        text = self.scalar(node)
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise FieldError(node, f"takes {self.describe}; '{text}' is not one") from None
        return text

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "description": self.describe}


class Domain(FieldType):
    describe = "a domain name, such as briefing.example.org"

    def convert(self, node: YNode) -> str:
        text = self.scalar(node).strip().lower()
        if not re.fullmatch(r"([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}", text):
            raise FieldError(node, f"takes {self.describe}, not '{text}'")
        return text

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "hostname"}


SITE_FIELDS: tuple[Field, ...] = (
    Field("title", TEXT, "the briefing's name", required=True),
    Field("base_url", BaseUrl(), "where the site will live, with its path", required=True),
    Field("description", TEXT, "one sentence on what the briefing follows"),
    Field("language", LanguageTag(), "the language of the content", default="en"),
    Field("timezone", TimeZoneName(), "the timezone dates are read and shown in", default="UTC"),
    Field("allow_html", BOOL, "let raw HTML through Markdown (still sanitized)", default=False),
    Field("cname", Domain(), "custom domain written to CNAME by publish --branch"),
    Field("recent_days", Integer(), "the home page's 'what changed' window, in days", default=7),
    Field("stale_after_days", Integer(), "check warns about an active topic quiet for longer", default=30),
    Field("extra", FreeMapping(), "free-form data for custom templates"),
)
