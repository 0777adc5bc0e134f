"""`site-gen new` and `site-gen init`: files an editor starts from.

`new` writes one draft record whose fields come from the field table in
fields.py (nothing here lists fields), with each field's meaning as a comment.
`init` copies the starter site shipped in site_gen/starter/, dating its
example records relative to today so that the new site passes
`check --strict` on the day it is made.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path

from .config import load_config
from .errors import Problems, SiteGenError, UsageError
from .fields import (
    KIND_SINGULAR,
    KINDS,
    SINGULAR_TO_KIND,
    Boolean,
    Choice,
    Date,
    Field,
    FieldType,
    FreeMapping,
    Integer,
    ListOf,
    Mapping,
    Markdown,
    Ref,
    Url,
    id_problem,
)
from .loader import Loader
from .model import Record
from .site import default_as_of

INDENT = "  "
# What a required reference of each kind needs to exist before `new` can write a valid record.
_MAKE_FIRST = "create one first with: site-gen new {singular} <id>"


# -- site-gen new -----------------------------------------------------------


def resolve_kind(text: str) -> str:
    """The kind's folder name for 'story' or 'stories'; UsageError otherwise."""
    name = text.strip().lower()
    if name in KINDS:
        return name
    if name in SINGULAR_TO_KIND:
        return SINGULAR_TO_KIND[name]
    raise UsageError(f"unknown kind '{text}'; use one of {', '.join(SINGULAR_TO_KIND)}")


@dataclass
class _Targets:
    """Ids the new record may refer to, by kind (published ones first)."""

    ids: dict[str, list[str]]

    def first(self, kind: str) -> str | None:
        return self.ids[kind][0] if self.ids[kind] else None


def new_record(root: Path, kind_text: str, record_id: str, today: date | None = None) -> Path:
    """Write content/<kind>/<id>.yaml as a draft to fill in; return its path.

    Raises UsageError (exit 2) for an unknown kind or an invalid id and
    SiteGenError (exit 1) when the id exists or a required reference has
    nothing to point at yet. Never overwrites a file.
    """
    kind = resolve_kind(kind_text)
    problem = id_problem(record_id)
    if problem:
        raise UsageError(problem)
    records, sources = _load_all(root)
    _refuse_existing(kind, record_id, records, sources)
    config = load_config(root, Problems())
    day = today or default_as_of(config)
    targets = _Targets(
        {k: [r.id for r in sorted(records, key=lambda r: (r.draft, r.id)) if r.kind == k] for k in KINDS}
    )
    text = record_text(kind, record_id, day, targets)
    path = root / "content" / kind / f"{record_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except FileExistsError:
        raise SiteGenError(f"{_rel(root, path)} already exists; choose another id") from None
    return path


def _load_all(root: Path) -> tuple[list[Record], list[tuple[str, str, str, bool]]]:
    """Every record, drafts included, and (kind, path, stem, yielded records) per file."""
    loader = Loader(root)
    records, _ = loader.load(Problems())
    sources = [
        (path.split("/")[1], path, _stem(path), bool(k.result.records)) for path, k in loader.known.items()
    ]
    return records, sources


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _refuse_existing(
    kind: str, record_id: str, records: list[Record], sources: list[tuple[str, str, str, bool]]
) -> None:
    what = KIND_SINGULAR[kind]
    for record in records:
        if record.kind == kind and record.id == record_id:
            raise SiteGenError(
                f"a {what} with id '{record_id}' already exists "
                f"({record.path}:{record.line}); choose another id"
            )
    for source_kind, path, stem, ok in sources:
        # A file that does not load yet may still be this id's record: never shadow it.
        if source_kind == kind and stem == record_id and not ok:
            raise SiteGenError(f"{path} already exists (and has errors); choose another id or fix it")


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def record_text(kind: str, record_id: str, today: date, targets: _Targets) -> str:
    """The YAML of a new draft record: every field, its meaning as a comment."""
    spec = KINDS[kind]
    singular = spec.singular
    lines = [
        f"# A new {singular}: {spec.doc[0].lower()}{spec.doc[1:]}",
        f"# Its id is the file name ({record_id}). Fill in the fields, uncomment the optional",
        "# ones you need, then delete `draft: true` to publish it. `site-gen check` says what is wrong.",
        "",
    ]
    for field in spec.fields:
        if field.name in ("id", "draft", "extra"):
            continue
        # A conditional field is filled in when the empty record needs it (a quote's topics).
        needed = field.required or (field.required_if is not None and field.required_if({}))
        lines += _field_block(kind, record_id, field, today, targets, commented=not needed)
    lines += [
        f"# {spec.by_name['extra'].doc} (optional)",
        "# extra:",
        "#   key: value",
        "",
        f"# {spec.by_name['draft'].doc}; delete this line when the {singular} is ready",
        "draft: true",
    ]
    return "\n".join(lines) + "\n"


def _field_block(
    kind: str, record_id: str, field: Field, today: date, targets: _Targets, *, commented: bool
) -> list[str]:
    note = _note(field, commented)
    if isinstance(field.type, (Ref, ListOf)) and not commented:
        target_kind = _target_kind(field.type)
        if target_kind and targets.first(target_kind) is None:
            singular = KIND_SINGULAR[target_kind]
            raise SiteGenError(
                f"a {KIND_SINGULAR[kind]} needs a {singular} ({field.name}:) and the site has none yet; "
                + _MAKE_FIRST.format(singular=singular)
            )
        if target_kind:
            known = targets.ids[target_kind]
            shown = ", ".join(known[:8]) + (", …" if len(known) > 8 else "")
            note += f"; the site's {KINDS[target_kind].name}: {shown}"
    value = _value_lines(kind, record_id, field, today, targets, commented)
    block = [f"{field.name}:{value[0]}", *value[1:]]
    if commented:
        block = [f"# {line}" for line in block]
    return [f"# {note}", *block, ""]


def _note(field: Field, commented: bool) -> str:
    if field.required:
        return f"{field.doc} (required)"
    if field.required_note:
        return f"{field.doc} ({field.required_note})"
    if field.default is not None:
        return f"{field.doc} (optional; default {field.default})"
    return f"{field.doc} (optional)"


def _target_kind(field_type: FieldType) -> str | None:
    if isinstance(field_type, ListOf):
        field_type = field_type.item
    return field_type.kind if isinstance(field_type, Ref) and field_type.kind else None


def _value_lines(
    kind: str, record_id: str, field: Field, today: date, targets: _Targets, commented: bool
) -> list[str]:
    """The value after `name:` (first line) and any following indented lines."""
    field_type = field.type
    if isinstance(field_type, ListOf):
        items = _item_lines(field_type.item, field, today, targets, commented)
        return ["", *items]
    if isinstance(field_type, Mapping):
        return ["", *_mapping_lines(field_type, today, INDENT)]
    if isinstance(field_type, Markdown):
        return [" |", f"{INDENT}{_placeholder_text(kind, record_id, field)}"]
    return [" " + _scalar(field_type, kind, record_id, field, today, targets, commented)]


def _item_lines(item: FieldType, field: Field, today: date, targets: _Targets, commented: bool) -> list[str]:
    if isinstance(item, Mapping):
        inner = _mapping_lines(item, today, INDENT + "  ")
        return [f"{INDENT}- {inner[0].strip()}", *inner[1:]]
    if isinstance(item, Ref):
        example = (None if commented else targets.first(item.kind)) or f"{KIND_SINGULAR[item.kind]}-id"
        return [f"{INDENT}- {example}"]
    return [f"{INDENT}- {json.dumps(field.name.rstrip('s'))}"]


def _mapping_lines(mapping: Mapping, today: date, indent: str) -> list[str]:
    lines = []
    for sub in mapping.fields.values():
        value = _scalar(sub.type, "", "", sub, today, None, True)
        if isinstance(sub.type, Markdown):
            value = json.dumps(f"TODO: {sub.doc}")
        notes = [] if value.startswith('"TODO') else [sub.doc]
        notes += ["required"] if sub.required else []
        comment = f"  # {', '.join(notes)}" if notes else ""
        lines.append(f"{indent}{sub.name}: {value}{comment}")
    return lines


def _scalar(
    field_type: FieldType,
    kind: str,
    record_id: str,
    field: Field,
    today: date,
    targets: _Targets | None,
    commented: bool,
) -> str:
    if isinstance(field_type, Date):
        return today.isoformat()
    if isinstance(field_type, Boolean):
        return "false"
    if isinstance(field_type, Integer):
        return str(field.default or 0)
    if isinstance(field_type, Url):
        return "https://example.org/page"
    if isinstance(field_type, Choice):
        return str(field.default or field_type.choices[0])
    if isinstance(field_type, Ref):
        found = None if commented or targets is None else targets.first(field_type.kind)
        return found or f"{KIND_SINGULAR[field_type.kind]}-id"
    if isinstance(field_type, FreeMapping):
        return "{}"
    return json.dumps(_placeholder_text(kind, record_id, field), ensure_ascii=False)


def _placeholder_text(kind: str, record_id: str, field: Field) -> str:
    if kind and field.name == KINDS[kind].label_field and field.name in ("title", "name"):
        words = record_id.replace("-", " ")
        return words[0].upper() + words[1:]
    return f"TODO: {field.doc}"


# -- site-gen init ----------------------------------------------------------

# Starter files whose name inside the package differs from the one they get
# (dotfiles are awkward as package data).
_RENAMED = {"gitignore": ".gitignore", "publish.yml": ".github/workflows/publish.yml"}
_TOKEN = re.compile(r"@(title-yaml|title|date([+-]\d+)?)@")


def starter_dir() -> Path:
    """The starter site shipped with site-gen."""
    return Path(str(files("site_gen") / "starter"))


def starter_files(title: str, today: date) -> dict[str, str]:
    """{path in the new site: text} with the title and dates filled in."""
    base = starter_dir()
    result: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            path = Path(dirpath, name)
            rel = path.relative_to(base).as_posix()
            text = path.read_text(encoding="utf-8")
            result[_RENAMED.get(rel, rel)] = _fill(text, title, today)
    return result


def _fill(text: str, title: str, today: date) -> str:
    def token(match: re.Match[str]) -> str:
        if match.group(1) == "title":
            return title
        if match.group(1) == "title-yaml":
            return json.dumps(title, ensure_ascii=False)
        offset = int(match.group(2) or 0)
        return (today + timedelta(days=offset)).isoformat()

    return _TOKEN.sub(token, text)


def title_from(folder: Path) -> str:
    words = re.sub(r"[-_.\s]+", " ", folder.name).strip()
    return words[0].upper() + words[1:] if words else "My briefing"


def init_site(target: Path, today: date | None = None) -> list[str]:
    """Create a new site in `target` (absent or empty); return the files written.

    The files are written into a sibling folder first and then moved into
    place (one rename for a new folder), so a failure leaves nothing behind.
    """
    target = Path(os.path.abspath(target))
    if target.is_symlink():
        target = target.resolve()
    if target.exists() and not target.is_dir():
        raise SiteGenError(f"{target} exists and is not a folder; choose a new folder name")
    if target.is_dir() and any(target.iterdir()):
        raise SiteGenError(f"{target} is not empty; nothing was written (choose a new or empty folder)")
    texts = starter_files(title_from(target), today or default_as_of(None))
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = target.parent / f".{target.name}.init-{os.getpid()}"
    try:
        _write_tree(stage, texts)
        _move_into_place(stage, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return sorted(texts)


def _write_tree(folder: Path, texts: dict[str, str]) -> None:
    folder.mkdir()
    for rel, text in texts.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")


def _move_into_place(stage: Path, target: Path) -> None:
    if not target.exists():
        os.rename(stage, target)
        return
    # An existing empty folder keeps its identity (it may be someone's current
    # folder, a mount point, or carry its own permissions): move the entries in.
    moved = []
    try:
        for entry in sorted(os.listdir(stage)):
            os.rename(stage / entry, target / entry)
            moved.append(entry)
    except OSError:
        for entry in moved:
            shutil.rmtree(target / entry, ignore_errors=True)
        raise
