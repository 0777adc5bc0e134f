"""A big output written in pieces is the same file as its text joined and encoded whole."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from site_gen.writer import Pieces, Staging, digest_of, same_bytes

parts = st.lists(st.text(max_size=40), max_size=60)


@settings(max_examples=200, deadline=None)
@given(parts, st.integers(min_value=1, max_value=7))
def test_pieces_hash_compare_and_write_as_the_whole_text(texts: list[str], batch: int) -> None:
    pieces = Pieces(texts)
    pieces.BATCH = batch  # the chunks' borders fall between any two pieces
    whole = "".join(texts).encode("utf-8")
    assert digest_of(pieces) == digest_of(whole)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        staging = Staging(out)
        written = staging.write("data/briefing.json", pieces)
        assert written.read_bytes() == whole
        assert same_bytes(written, pieces)
        written.write_bytes(whole + b"x")  # longer
        assert not same_bytes(written, pieces)
        if whole:
            written.write_bytes(whole[:-1])  # shorter
            assert not same_bytes(written, pieces)
            written.write_bytes(bytes([whole[0] ^ 1]) + whole[1:])  # same size, one byte differs
            assert not same_bytes(written, pieces)
        assert not same_bytes(Path(folder) / "absent.json", pieces)
        staging.abort()
