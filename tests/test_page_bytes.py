"""Pages rendered to bytes piece by piece (render.Reuse.page_bytes): the same bytes as
the page joined and encoded whole; while serving, a big piece kept between builds is
not encoded again."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from site_gen.render import Reuse


def _pieces() -> list[str]:
    month = Markup("<section>" + "entry – é · 🙂 " * 400 + "</section>\n")  # past Latin-1
    ascii_month = Markup("<section>" + "plain entry " * 600 + "</section>\n")
    return ["<!DOCTYPE html>\n", "<main>", month, "\n", ascii_month, "", "</main>\n", "·"]


def test_the_bytes_are_the_page_joined_and_encoded() -> None:
    pieces = _pieces()
    for enabled in (False, True):
        reuse = Reuse()
        reuse.enabled = enabled
        assert reuse.page_bytes(iter(pieces)) == "".join(pieces).encode("utf-8")
        assert reuse.page_bytes(iter(pieces)) == "".join(pieces).encode("utf-8")
    assert Reuse().page_bytes(iter([])) == b""


def test_a_kept_piece_is_encoded_once_and_a_new_one_again() -> None:
    reuse = Reuse()
    reuse.enabled = True
    pieces = _pieces()
    reuse.page_bytes(iter(pieces))
    month = pieces[2]
    kept = reuse.encoded[id(month)][1]
    reuse.page_bytes(iter(pieces))
    assert reuse.encoded[id(month)][1] is kept  # the same bytes object: not encoded again
    edited = Markup(str(month).replace("entry", "Entry", 1))
    again = pieces[:2] + [edited] + pieces[3:]
    assert reuse.page_bytes(iter(again)) == "".join(again).encode("utf-8")
    assert len(reuse.encoded) == 3
    reuse.clear()
    assert reuse.encoded == {}


def test_without_keeping_nothing_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    reuse = Reuse()
    reuse.page_bytes(iter(_pieces()))
    assert reuse.encoded == {}
    # and what is kept stays under its bound
    reuse.enabled = True
    monkeypatch.setattr(Reuse, "BYTES_KEPT", 10_000)
    for _ in range(5):
        pieces = _pieces()
        assert reuse.page_bytes(iter(pieces)) == "".join(pieces).encode("utf-8")
        assert sum(len(data) for _, data in reuse.encoded.values()) <= 10_000
