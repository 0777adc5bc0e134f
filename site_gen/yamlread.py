"""Read one YAML file into a tree of located nodes, values kept as written.

PyYAML composes the file (with LibYAML when present); we never construct
Python objects from it. Plain scalars stay the text the editor typed, so the
field's type alone decides what `No`, `1.10` or `010` mean. Every failure of
the YAML library becomes a located `Problem`, never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

import yaml

try:  # LibYAML is ten times faster; fall back to the pure loader when absent.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

from .errors import ERROR, Problem

MAX_VALUES = 10_000
MAX_DEPTH = 64
MAX_BYTES = 2 * 1024 * 1024

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_YAML}{t}" for t in ("str", "null", "bool", "int", "float", "timestamp")}
_SEQ, _MAP, _NULL = f"{_YAML}seq", f"{_YAML}map", f"{_YAML}null"
# Characters YAML cannot hold (C0/C1 controls, DEL, non-characters) or reads
# as line breaks inside a line (NEL, LINE and PARAGRAPH SEPARATOR); a file or
# a value containing one is refused at the character's position.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
# Nesting needs one of these characters per level; below this many, the
# composer's recursion is safe and the depth check can wait for conversion.
_NESTING_CHARS = "[{-:?"
_NESTING_SAFE = 2_000
_HINTS = {
    "mapping values are not allowed": "quote values that contain ': '",
    "expected a single document in the stream": (
        "remove the extra '---'; one file holds one record or a list of records"
    ),
    "found undefined alias": "define the anchor (&name) before using *name",
}


@dataclass(slots=True)
class YNode:
    """A YAML value with its 1-based position.

    `value` is the text for a scalar, a list of nodes for a sequence, and a
    dict of key text to (key node, value node) for a mapping.
    """

    kind: str
    value: Union[str, list[YNode], dict[str, tuple[YNode, YNode]]]
    line: int
    col: int
    plain: bool = False
    null: bool = False
    comment_follows: bool = False


class _Abort(Exception):
    def __init__(self, line: int, col: int, message: str) -> None:
        self.line, self.col, self.message = line, col, message


def read_yaml(display_path: str, data: bytes) -> tuple[YNode | None, list[Problem]]:
    """Parse `data` (the bytes of `display_path`) into a located node tree."""

    def fail(line: int, col: int, message: str) -> tuple[None, list[Problem]]:
        return None, [Problem(display_path, line, col, ERROR, message)]

    if len(data) > MAX_BYTES:
        return fail(1, 1, f"file is larger than {MAX_BYTES // 1024 // 1024} MB; split it")
    text, where = _decode(data)
    if text is None:
        return fail(*where)
    invisible = _INVISIBLE.search(text)
    if invisible:
        return fail(*_position(text, invisible.start()), _invisible(invisible.group()))
    try:
        too_deep = _too_deep(text)
        if too_deep:
            return fail(*too_deep, f"values nested too deeply; at most {MAX_DEPTH} levels")
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem):
            where = _too_deep(text, always=True) or (1, 1)
            return fail(*where, f"values nested too deeply; at most {MAX_DEPTH} levels")
        return fail(*_marked(exc, text))
    except yaml.reader.ReaderError as exc:
        line, col = _position(text, exc.position)  # LibYAML counts bytes: close enough
        return fail(line, col, _invisible(chr(exc.character)))
    except yaml.YAMLError as exc:
        return fail(1, 1, f"not valid YAML: {exc}")
    except RecursionError:  # the pure-Python composer, before the converter's check
        return fail(
            *(_too_deep(text, always=True) or (1, 1)), f"values nested too deeply; at most {MAX_DEPTH} levels"
        )
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == f"{_YAML}null"):
        return fail(1, 1, "file is empty; write a record (a mapping of fields) or delete the file")
    try:
        return _Converter(text).convert(node), []
    except _Abort as abort:
        return fail(abort.line, abort.col, abort.message)


def _invisible(char: str, how: str = "") -> str:
    return f"invisible control character U+{ord(char):04X}{how}; delete it"


def _too_deep(text: str, always: bool = False) -> tuple[int, int] | None:
    """Where nesting first passes MAX_DEPTH, checked on the event stream.

    The composer recurses once per level (LibYAML's without any limit, which
    crashes the process on a few hundred thousand '['), so a file that could
    nest deeply is checked first by a pass that does not recurse.
    """
    if not always and sum(text.count(c) for c in _NESTING_CHARS) < _NESTING_SAFE:
        return None
    try:
        return _first_too_deep(text, _Loader)
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" not in str(exc.problem):
            raise
        # Newer LibYAML stops at its own limit, scanning ahead of the events;
        # the pure parser (a state machine, no recursion) finds our level.
        return _first_too_deep(text, yaml.SafeLoader)


def _first_too_deep(text: str, loader: type) -> tuple[int, int] | None:
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH + 1:  # the top-level value is not nested
                return event.start_mark.line + 1, event.start_mark.column + 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def _decode(data: bytes) -> tuple[str | None, tuple[int, int, str]]:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None, (1, 1, "file is UTF-16; re-save it as UTF-8")
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM is allowed and dropped
        data = data[3:]
    try:
        return data.decode("utf-8"), (0, 0, "")
    except UnicodeDecodeError as exc:
        head = data[: exc.start]
        line = head.count(b"\n") + 1
        col = len(head[head.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        byte = data[exc.start]
        return None, (line, col, f"not valid UTF-8 (byte 0x{byte:02X}); re-save the file as UTF-8")


# Mistakes reported where what they leave open was opened (the quote, the bracket, the
# line without ': '), not where the parser gave up (often the end of the file): the
# words LibYAML's and PyYAML's messages share, and what to do.
_OPENED_HINTS = {
    "while scanning a quoted scalar": (
        "end of stream",
        "a quoted value opened here is never closed; end it with the same quote",
    ),
    "while scanning an alias": ("", "a value cannot start with '*'; put the whole value in quotes"),
    "while parsing a flow sequence": ("", "a list opened here with '[' is not closed; end it with ']'"),
    "while parsing a flow mapping": ("", "a mapping opened here with '{' is not closed; end it with '}'"),
    "while scanning a simple key": (
        "could not find expected ':'",
        "this line is not 'field: value'; add ': ' after the field's name, or indent the line "
        "under the field it continues (a '|' or '>' block's text, a '- ' item)",
    ),
}


def _marked(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str]:
    mark = exc.problem_mark or exc.context_mark
    problem = (exc.problem or exc.context or "not valid YAML").strip()
    if exc.context and exc.problem:
        problem = f"{exc.context.strip()}, {exc.problem.strip()}"
    said = problem
    hint = next((h for key, h in _HINTS.items() if key in said), None)
    for context, (needs, opened) in _OPENED_HINTS.items():
        if said.startswith(context) and needs in said and exc.context_mark is not None:
            mark, hint = exc.context_mark, opened
    if mark is not None and hint is None:
        hint = _hint_at(said, text, mark.index)
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        hint = "YAML forbids tabs; indent with spaces"
    if "escape" in problem:
        hint = "write the character itself, or a valid \\uXXXX escape"
    if "Unicode character escape" in problem:  # LibYAML's words for a lone surrogate
        problem = "invalid \\u escape (a lone surrogate or no such character)"
    message = f"not valid YAML: {problem}" + (f"; {hint}" if hint else "")
    if mark is None:
        return 1, 1, message
    return mark.line + 1, mark.column + 1, message


def _hint_at(said: str, text: str, index: int) -> str | None:
    """What to do about a character YAML refused at `index`, or a line it did not expect."""
    char = text[index : index + 1]
    if "cannot start any token" in said:
        return f"a value cannot start with '{char}'; put the whole value in quotes"
    if "while parsing a block" in said:
        before = text[text.rfind("\n", 0, index) + 1 : index].rstrip()
        if before.endswith(('"', "'")) and ": " in before:
            return "a value that starts with a quote ends with it; quote the whole value with the other quote"
        return "check the indentation: a record's fields start in one column, and a list's items line up"
    return None


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of `text[index]`, counting breaks as YAML does."""
    head = text[:index].replace("\r\n", "\n").replace("\r", "\n")
    return head.count("\n") + 1, len(head) - head.rfind("\n")


class _Converter:
    """Turns PyYAML nodes into YNodes, enforcing tags, keys and size limits."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.count = 0
        self.active: set[int] = set()
        self.seen: set[int] = set()
        self.aliased = False
        # What most files lack, and the checks that need it (a third of a cold load's
        # conversion): an alias needs a '*', and a comment after a value a '#'.
        self.may_alias = "*" in text
        self.may_comment = "#" in text

    def convert(self, node: yaml.Node, depth: int = 0) -> YNode:
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        self.count += 1
        if self.count > MAX_VALUES:
            raise _Abort(line, col, self._too_many())
        if depth > MAX_DEPTH:
            raise _Abort(line, col, f"values nested too deeply; at most {MAX_DEPTH} levels")
        if self.may_alias:
            if id(node) in self.seen:
                self.aliased = True
            self.seen.add(id(node))
            if id(node) in self.active:
                raise _Abort(line, col, "an alias refers to a value that contains it; remove the loop")
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, line, col)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                self._check_tag(node, _SEQ, line, col)
                items = [self.convert(item, depth + 1) for item in node.value]
                return YNode("seq", items, line, col)
            self._check_tag(node, _MAP, line, col)
            return YNode("map", self._mapping(node, depth), line, col)
        finally:
            self.active.discard(id(node))

    def _too_many(self) -> str:
        if self.aliased:
            return (
                f"more than {MAX_VALUES:,} values once aliases are expanded; "
                "remove the aliases that repeat large parts"
            )
        return f"more than {MAX_VALUES:,} values in one file; split it into several files"

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, tuple[YNode, YNode]]:
        fields: dict[str, tuple[YNode, YNode]] = {}
        for key_node, value_node in node.value:
            kline, kcol = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if key_node.tag == f"{_YAML}merge":
                raise _Abort(kline, kcol, "merge keys (<<) are not supported; write the fields out")
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Abort(kline, kcol, "a key must be a plain name, not a list or mapping")
            key = self._scalar(key_node, kline, kcol)
            if key.value in fields:
                first = fields[key.value][0].line
                raise _Abort(
                    kline, kcol, f"duplicate key '{key.value}' (first at line {first}); keep one of them"
                )
            fields[str(key.value)] = (key, self.convert(value_node, depth + 1))
        return fields

    def _scalar(self, node: yaml.ScalarNode, line: int, col: int) -> YNode:
        self._check_tag(node, None, line, col)
        value = node.value
        # Only a double-quoted value has escapes, the one way to a character the file's
        # text (checked whole in read_yaml) does not hold.
        if node.style == '"':
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _Abort(line, col, "invalid \\u escape (a lone surrogate); fix or remove it") from None
            invisible = _INVISIBLE.search(value)
            if invisible:  # written as an escape such as "\\0" or "\\e"
                raise _Abort(line, col, _invisible(invisible.group(), " (written as an escape)"))
        plain = not node.style  # None (pure loader) or '' (LibYAML)
        null = plain and node.tag == _NULL
        result = YNode("scalar", value, line, col, plain=plain, null=null)
        if plain and value and self.may_comment and self._comment_follows(node):
            result.comment_follows = True
        return result

    def _comment_follows(self, node: yaml.ScalarNode) -> bool:
        end = node.end_mark
        if end.line >= len(self.lines):
            return False
        rest = self.lines[end.line][end.column :]
        return rest[:1] in (" ", "\t") and rest.lstrip().startswith("#")

    @staticmethod
    def _check_tag(node: yaml.Node, expected: str | None, line: int, col: int) -> None:
        tag = node.tag
        if tag != expected and (expected is not None or tag not in _SCALAR_TAGS):
            shown = tag.replace(_YAML, "!!")
            raise _Abort(line, col, f"the tag {shown} is not allowed; remove it and write plain text")
