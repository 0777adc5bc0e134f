"""Check a file's located nodes against the field definitions.

Turns the YNode tree of one record file into `Record`s, collecting every
problem with the position of the offending value (or of the record, where a
field is missing). Cross-record rules (references, unique ids) live in index.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterable

from .errors import Problems
from .fields import KINDS, Field, FieldError, ListOf, Mapping, id_problem
from .model import Record, item_key, pack_mark, pack_marks
from .yamlread import YNode

_PROSE = ("Text", "Markdown")


class FieldReader:
    """Converts mappings field by field, recording positions and problems."""

    def __init__(self, path: str, problems: Problems, what: str) -> None:
        self.path = path
        self.problems = problems
        self.what = what
        self.marks: dict[str, int] = {}  # packed: see model.pack_mark

    def error(self, node: YNode, message: str) -> None:
        self.problems.error(self.path, node.line, node.col, message)

    def read(self, node: YNode, fields: Iterable[Field], prefix: str = "") -> dict[str, Any]:
        by_name = {f.name: f for f in fields}
        given = node.value  # type: ignore[assignment]
        self._unknown(given, by_name, prefix)
        values: dict[str, Any] = {}
        for name, spec in by_name.items():
            pair = given.get(name)  # type: ignore[union-attr]
            if pair is None or pair[1].null:
                if spec.default is not None:
                    values[name] = spec.default
                continue
            converted = self._convert(spec, pair[1], f"{prefix}{name}")
            if converted is not None:
                values[name] = converted
        self._missing(node, by_name, given, values, prefix)
        return values

    def _unknown(self, given: Any, by_name: dict[str, Field], prefix: str) -> None:
        for key, (key_node, _) in given.items():
            if key in by_name:
                continue
            near = difflib.get_close_matches(key, list(by_name), n=1, cutoff=0.6)
            hint = (
                f"did you mean '{near[0]}'?"
                if near
                else (f"{self.what} takes {', '.join(by_name)}; put your own data under extra:")
            )
            self.error(key_node, f"unknown field '{prefix}{key}'; {hint}")

    def _missing(
        self, node: YNode, by_name: dict[str, Field], given: Any, values: dict[str, Any], prefix: str
    ) -> None:
        raw = {k: v for k, v in values.items()}
        for name, spec in by_name.items():
            needed = spec.required or (spec.required_if is not None and spec.required_if(raw))
            present = name in given and not given[name][1].null
            if needed and not present:
                why = f" ({spec.required_note})" if spec.required_note else ""
                self.error(
                    node,
                    f"missing required field '{prefix}{name}'{why}: add {name}: with {spec.type.describe}",
                )

    def _convert(self, spec: Field, node: YNode, key: str) -> Any:
        self.marks[key] = pack_mark(node.line, node.col)
        try:
            if isinstance(spec.type, Mapping):
                return self._mapping(spec.type, node, key)
            if isinstance(spec.type, ListOf) and isinstance(spec.type.item, Mapping):
                return self._mapping_list(spec.type, node, key)
            value = spec.type.convert(node)
        except FieldError as exc:
            self.error(
                exc.node,
                f"'{key}' {exc.message}" if not exc.message.startswith("'") else f"{key}: {exc.message}",
            )
            return None
        self._item_marks(node, key)
        self._truncation(spec, node, key)
        return value

    def _mapping(self, kind: Mapping, node: YNode, key: str) -> dict[str, Any] | None:
        if node.kind != "map":
            kind.convert(node)  # raises the FieldError that says what it takes
        return self.read(node, kind.fields.values(), prefix=f"{key}.")

    def _mapping_list(self, kind: ListOf, node: YNode, key: str) -> list[dict[str, Any]]:
        if node.kind != "seq":
            kind.convert(node)
        items = []
        for index, item in enumerate(node.value):  # type: ignore[arg-type]
            self.marks[item_key(key, index)] = pack_mark(item.line, item.col)
            converted = self._mapping(kind.item, item, f"{key}.{index}")  # type: ignore[arg-type]
            if converted is not None:
                items.append(converted)
        return items

    def _item_marks(self, node: YNode, key: str) -> None:
        if node.kind == "seq":
            for index, item in enumerate(node.value):  # type: ignore[arg-type]
                self.marks[item_key(key, index)] = pack_mark(item.line, item.col)

    def _truncation(self, spec: Field, node: YNode, key: str) -> None:
        kind = spec.type.item if isinstance(spec.type, ListOf) else spec.type
        if type(kind).__name__ not in _PROSE:
            return
        items = node.value if node.kind == "seq" else [node]
        for index, item in enumerate(items):  # type: ignore[arg-type]
            if item.comment_follows:
                where = f"{key}.{index}" if node.kind == "seq" else key
                self.problems.warning(
                    self.path,
                    item.line,
                    item.col,
                    f"'{where}' stops before ' #': YAML reads the rest of the line as a comment; "
                    "quote the value if the '#' belongs to it",
                )


def read_records(kind: str, path: str, stem: str, root: YNode, problems: Problems) -> list[Record]:
    """The records of one file of `kind`: one mapping, or a list of mappings."""
    if root.kind == "map":
        record = _record(kind, path, root, problems, default_id=stem)
        return [record] if record else []
    if root.kind == "seq":
        records = []
        for item in root.value:  # type: ignore[union-attr]
            if item.kind != "map":
                problems.error(
                    path, item.line, item.col, "each item of a record list must be a mapping of fields"
                )
                continue
            record = _record(kind, path, item, problems, default_id=None)
            if record:
                records.append(record)
        return records
    problems.error(
        path, root.line, root.col, "a record file holds a mapping of fields, or a list of such mappings"
    )
    return []


def _record(kind: str, path: str, node: YNode, problems: Problems, default_id: str | None) -> Record | None:
    spec = KINDS[kind]
    reader = FieldReader(path, problems, _article(spec.singular))
    values = reader.read(node, spec.fields)
    record_id = _record_id(path, node, values, default_id, problems)
    if record_id is None:
        return None
    values.pop("id", None)
    return Record(kind, record_id, values, path, node.line, node.col, *pack_marks(reader.marks))


def _article(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _record_id(
    path: str, node: YNode, values: dict[str, Any], default_id: str | None, problems: Problems
) -> str | None:
    if "id" in values:
        return values["id"]
    given = node.value.get("id")  # type: ignore[union-attr]
    if given is not None and not given[1].null:  # given, but invalid: already reported
        return None
    if default_id is None:
        problems.error(
            path, node.line, node.col, "a record in a list file needs an id: add id: with its slug"
        )
        return None
    problem = id_problem(default_id)
    if problem:
        problems.error(
            path,
            node.line,
            node.col,
            f"the file name gives an invalid id: {problem}; rename the file or set id:",
        )
        return None
    return default_id
