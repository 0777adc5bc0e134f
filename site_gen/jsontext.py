"""Indented JSON text, the same bytes as json.dumps(value, ensure_ascii=False, indent=1).

The standard library's C encoder is used only without an indent; with one,
json.dumps falls back to a chain of Python generators, which made the
briefing's JSON files (every record, indented) about a tenth of a cold
build's time. One recursive function writing into a list does the same
work in well under half the time. Only JSON's own types are written here;
anything else is handed to json.dumps, which raises as it always has.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

_FLOAT = json.JSONEncoder(allow_nan=True).iterencode  # NaN and Infinity as json.dumps writes them


def dumps_indented(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, indent=1)`, faster."""
    out: list[str] = []
    _write(value, out, "\n")
    return "".join(out)


def _write(value: Any, out: list[str], newline: str) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))
    elif kind is dict:
        _write_dict(value, out, newline)
    elif kind is list or kind is tuple:
        _write_list(value, out, newline)
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is float:
        out.append("".join(_FLOAT(value)))
    elif isinstance(value, str):  # Markup and other subclasses: written as plain strings
        out.append(encode_basestring(value))
    else:  # subclasses and foreign types: exactly as json.dumps treats them
        text = json.dumps(value, ensure_ascii=False, indent=1)
        out.append(text.replace("\n", newline))


def _write_dict(value: dict[Any, Any], out: list[str], newline: str) -> None:
    if not value:
        out.append("{}")
        return
    inner = newline + " "
    between = "," + inner
    lead = "{" + inner
    append = out.append
    for key, item in value.items():
        append(lead)
        lead = between
        # Most values are strings: written here, without a call each.
        name = encode_basestring(key if type(key) is str else _key(key))
        if type(item) is str:
            append(name + ": " + encode_basestring(item))
        else:
            append(name + ": ")
            _write(item, out, inner)
    append(newline + "}")


def _write_list(value: list[Any] | tuple[Any, ...], out: list[str], newline: str) -> None:
    if not value:
        out.append("[]")
        return
    inner = newline + " "
    between = "," + inner
    lead = "[" + inner
    append = out.append
    for item in value:
        append(lead)
        lead = between
        if type(item) is str:
            append(encode_basestring(item))
        else:
            _write(item, out, inner)
    append(newline + "]")


def _key(key: Any) -> str:
    """A non-string key as json.dumps turns it into one (or its TypeError)."""
    if isinstance(key, str):
        return key
    text = json.dumps({key: 0})  # '{"<key>": 0}'
    return json.loads(text).popitem()[0]
