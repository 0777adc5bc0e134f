"""Generate the field tables of docs/content-format.md from the field table.

The doc holds hand-written prose and, between `<!-- fields:KIND -->` and
`<!-- /fields:KIND -->` markers, one generated table per record kind (and
`site` for site.yaml). `python -m site_gen.docgen` rewrites those tables;
`--check` only reports whether the doc is out of date (exit 1 if it is).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

from .fields import (
    KIND_SINGULAR,
    KINDS,
    SITE_FIELDS,
    Boolean,
    Date,
    Domain,
    Field,
    FieldType,
    FreeMapping,
    Identifier,
    Integer,
    LanguageTag,
    ListOf,
    Mapping,
    Markdown,
    Ref,
    Text,
    TimeZoneName,
    Url,
)

DOC = Path("docs") / "content-format.md"
SITE = "site"
_MARKED = re.compile(r"(<!-- fields:(?P<kind>[a-z]+) -->\n)(?P<body>.*?)(<!-- /fields:(?P=kind) -->)", re.S)
_OPENING = re.compile(r"<!-- fields:([a-z]+) -->")


class DocError(ValueError):
    """The doc's markers are wrong: unknown kind, unclosed or missing."""


def type_text(kind: FieldType) -> str:
    """What a field takes, in a few words, for a Markdown table cell."""
    if isinstance(kind, ListOf):
        return _list_text(kind)
    if isinstance(kind, Mapping):
        return "mapping: " + _subfields(kind.fields.values())
    if isinstance(kind, Identifier):
        return "id"
    if isinstance(kind, Ref):
        return f"{_a(KIND_SINGULAR[kind.kind])} id"
    if isinstance(kind, Markdown):
        return "Markdown"
    return _simple_text(kind)


def _simple_text(kind: FieldType) -> str:
    choices = getattr(kind, "choices", None)
    if choices:
        return " | ".join(f"`{choice}`" for choice in choices)
    names: list[tuple[type, str]] = [
        (Text, "text"),
        (Date, "date"),
        (Boolean, "`true` or `false`"),
        (Integer, "whole number (0 or more)"),
        (FreeMapping, "any mapping"),
        (LanguageTag, "BCP 47 language tag (`en`, `en-GB`)"),
        (TimeZoneName, "IANA timezone name (`Europe/London`)"),
        (Domain, "domain name"),
    ]
    for cls, name in names:
        if isinstance(kind, cls):
            return name
    if isinstance(kind, Url):
        return f"{kind.describe.replace('an ', '', 1)} (`{kind.example}`)"
    return kind.describe


def _list_text(kind: ListOf) -> str:
    item = kind.item
    if isinstance(item, Mapping):
        text = "list of mappings: " + _subfields(item.fields.values())
    elif isinstance(item, Ref):
        text = f"list of {KIND_SINGULAR[item.kind]} ids"
    else:
        text = f"list of {type_text(item)}"
    if kind.min_items == 1:
        text += ", at least one"
    elif kind.min_items:
        text += f", at least {kind.min_items}"
    return text


def _subfields(fields: Iterable[Field]) -> str:
    return ", ".join(f"`{f.name}`" + (" (R)" if f.required else "") for f in fields)


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def need_text(spec: Field) -> str:
    """The required/default cell: "required", the condition, or the default."""
    if spec.required:
        return "required"
    if spec.required_note:
        return spec.required_note
    if spec.default is not None:
        return f"default `{_yaml_value(spec.default)}`"
    return ""


def _yaml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("\n", " ").replace("|", "\\|")


def field_table(fields: Iterable[Field]) -> str:
    """A Markdown table of `fields`: name, type, required or default, meaning."""
    rows = ["| field | type | required / default | what it is |", "|---|---|---|---|"]
    for spec in fields:
        cells = [f"`{spec.name}`", type_text(spec.type), need_text(spec), spec.doc]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows) + "\n"


def tables() -> dict[str, str]:
    """Every generated table, by marker name: each kind, and `site`."""
    generated = {name: field_table(kind.fields) for name, kind in KINDS.items()}
    generated[SITE] = field_table(SITE_FIELDS)
    return generated


def update(text: str) -> str:
    """`text` with every marked table regenerated; DocError on bad markers."""
    generated = tables()
    opened = _OPENING.findall(text)
    unknown = sorted(set(opened) - set(generated))
    if unknown:
        raise DocError(f"unknown table marker fields:{unknown[0]}; the tables are {', '.join(generated)}")
    closed = [m.group("kind") for m in _MARKED.finditer(text)]
    if sorted(opened) != sorted(closed):
        missing = next(kind for kind in opened if opened.count(kind) != closed.count(kind))
        raise DocError(f"<!-- fields:{missing} --> has no matching <!-- /fields:{missing} -->")
    absent = [name for name in generated if name not in opened]
    if absent:
        raise DocError(
            f"no table marker for {', '.join(absent)}; add <!-- fields:{absent[0]} --> and "
            f"<!-- /fields:{absent[0]} -->"
        )
    return _MARKED.sub(lambda m: m.group(1) + generated[m.group("kind")] + m.group(4), text)


def default_doc() -> Path:
    """docs/content-format.md of the source checkout, else of the current folder."""
    checkout = Path(__file__).resolve().parent.parent / DOC
    return checkout if checkout.is_file() else DOC


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m site_gen.docgen", description="Regenerate the field tables of the content-format doc."
    )
    parser.add_argument("path", nargs="?", type=Path, help=f"the doc (default: {DOC})")
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 when the tables are out of date"
    )
    args = parser.parse_args(argv)
    path: Path = args.path or default_doc()
    try:
        text = path.read_text(encoding="utf-8")
        fresh = update(text)
    except (OSError, DocError) as exc:
        print(f"{path}: error: {exc}", file=sys.stderr)
        return 2
    if fresh == text:
        return 0
    if args.check:
        print(f"{path}: the field tables are out of date; run python -m site_gen.docgen", file=sys.stderr)
        return 1
    path.write_text(fresh, encoding="utf-8")
    print(f"{path}: field tables updated", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
