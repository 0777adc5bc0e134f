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
        written = Path(staging.write("data/briefing.json", pieces))
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


def test_staged_files_replace_output_files_byte_for_byte_whatever_their_size(tmp_path: Path) -> None:
    """A staged file that replaces one has its space reserved first (posix_fallocate);
    the file moved into place holds exactly the bytes given, no more, around the size
    from which space is reserved, and over a bigger or smaller file."""
    from site_gen.writer import RESERVE_AT_LEAST

    out = tmp_path / "out"
    out.mkdir()
    sizes = [0, 1, RESERVE_AT_LEAST - 1, RESERVE_AT_LEAST, RESERVE_AT_LEAST + 1, 3 * RESERVE_AT_LEAST + 7]
    for before in (0, RESERVE_AT_LEAST * 4):
        for size in sizes:
            (out / "page.html").write_bytes(b"o" * before)
            (out / "keep.txt").write_bytes(b"kept")  # an output that is not fresh: files are replaced
            staging = Staging(out)
            data = bytes(range(256)) * (size // 256) + b"e" * (size % 256)
            staging.put("page.html", data)
            report = staging.commit(set())
            assert report.written == ["page.html"]
            assert (out / "page.html").read_bytes() == data, (before, size)
