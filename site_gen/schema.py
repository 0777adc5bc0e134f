"""JSON Schema of the record files and site.yaml, from the field definitions."""

from __future__ import annotations

from typing import Any

from . import __version__
from .fields import KINDS, SINGULAR_TO_KIND, SITE_FIELDS, Kind, object_schema

# Draft-07: the newest dialect that editors (VS Code's YAML extension) fully support;
# every keyword used here exists in it.
DIALECT = "http://json-schema.org/draft-07/schema#"


def kind_schema(kind: Kind) -> dict[str, Any]:
    """The schema of one file under content/<kind>/: a record or a list of records."""
    record = object_schema(kind.fields, f"A {kind.singular}: {kind.doc}")
    conditions = [f for f in kind.fields if f.required_if is not None]
    if kind.name == "questions":
        record["if"] = {"properties": {"status": {"const": "answered"}}, "required": ["status"]}
        record["then"] = {"required": [f.name for f in conditions]}
    elif kind.name == "quotes":
        record["anyOf"] = [{"required": ["topics"]}, {"required": ["story"]}]
    listed = {**record, "required": sorted({*record.get("required", []), "id"})}
    return {
        "$schema": DIALECT,
        "$id": f"site-gen/{__version__}/{kind.name}.schema.json",
        "title": f"site-gen {kind.singular} file",
        "description": f"One {kind.singular} (a mapping) or a list of {kind.name}, each with an id.",
        "oneOf": [record, {"type": "array", "items": listed}],
    }


def site_schema() -> dict[str, Any]:
    return {
        "$schema": DIALECT,
        "$id": f"site-gen/{__version__}/site.schema.json",
        "title": "site-gen site.yaml",
        **object_schema(SITE_FIELDS, "The site's settings."),
    }


def json_schema(kind: str | None = None) -> dict[str, Any]:
    """The schema of `kind` (plural or singular, or 'site'), or of everything."""
    if kind == "site":
        return site_schema()
    if kind:
        return kind_schema(KINDS[SINGULAR_TO_KIND.get(kind, kind)])
    return {
        "$schema": DIALECT,
        "title": "site-gen schemas",
        "$defs": {"site": site_schema(), **{name: kind_schema(k) for name, k in KINDS.items()}},
    }
