"""The cycle collector while serving: off during builds and reloads, run while the
editor pauses (site_gen.collector), with the real interpreter's collector."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Iterator

import pytest
from buildkit import fixture_site

from site_gen.collector import IdleCollector, collector_paused
from site_gen.rebuild import SAVE_AFTER_SECONDS, pause_step
from site_gen.serve import Preview, preview_builder


class Node:
    """An object in a reference cycle: only the cycle collector frees it."""

    def __init__(self) -> None:
        self.me = self


def cycle() -> weakref.ref[Node]:
    """A cycle that is garbage at once; the weak reference says when it is freed."""
    return weakref.ref(Node())


def old_cycle() -> tuple[Node, weakref.ref[Node]]:
    """A live cycle moved to the oldest generation: a young collection never frees it."""
    node = Node()
    gc.collect(1)  # survives into the oldest generation
    return node, weakref.ref(node)


@pytest.fixture
def collector() -> Iterator[IdleCollector]:
    was_on = gc.isenabled()
    taken = IdleCollector()
    taken.start()
    yield taken
    taken.stop()
    assert gc.isenabled() == was_on


def test_a_build_leaves_its_garbage_to_the_pause(collector: IdleCollector) -> None:
    assert not gc.isenabled()
    garbage = [cycle() for _ in range(2000)]  # more than the youngest generation's threshold
    assert all(ref() is not None for ref in garbage), "collected during the 'build'"
    collector.built()
    assert collector.young()
    assert all(ref() is None for ref in garbage)
    assert not collector.young(), "nothing new to collect"


def test_a_young_pass_leaves_the_old_generation_to_the_longer_one(collector: IdleCollector) -> None:
    node, ref = old_cycle()
    del node  # garbage now, but old
    for _ in range(IdleCollector.FULL_EVERY - 1):
        collector.built()
        collector.young()
        assert not collector.settle()
    assert ref() is not None
    collector.built()
    collector.young()
    assert ref() is not None
    assert collector.settle()  # the FULL_EVERY-th build
    assert ref() is None


def test_a_whole_build_is_collected_then_set_aside(collector: IdleCollector) -> None:
    kept, kept_ref = old_cycle()
    garbage = cycle()
    collector.built(whole=True)
    assert collector.settle()
    assert garbage() is None
    assert gc.get_freeze_count() > 0
    del kept  # garbage among what was set aside: left to the next whole build
    for _ in range(IdleCollector.FULL_EVERY):
        collector.built()
    assert collector.settle()
    assert kept_ref() is not None
    collector.built(whole=True)
    assert collector.settle()
    assert kept_ref() is None


def test_stop_gives_the_collector_back_with_nothing_set_aside() -> None:
    with collector_paused():  # stop() restores the state start() found
        taken = IdleCollector()
        taken.start()
        taken.built(whole=True)
        taken.settle()
        taken.stop()
        assert not gc.isenabled()
    assert gc.get_freeze_count() == 0
    taken = IdleCollector()
    taken.start()
    assert not gc.isenabled() and taken.running
    taken.stop()
    assert gc.isenabled() and not taken.running


def test_serve_keeps_the_collector_off_from_its_first_build_to_its_close(tmp_path: Path) -> None:
    assert gc.isenabled()
    preview = Preview(fixture_site(tmp_path / "site"), tmp_path / "preview")
    try:
        assert preview.first_build().ok
        assert not gc.isenabled()
        garbage = cycle()
        assert preview._idle() is not None  # the first pause: what the first build left
        assert garbage() is None
        while preview._idle() is not None:
            pass
        assert gc.get_freeze_count() > 0, "the whole build was not set aside"
    finally:
        preview.close()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_pause_collects_warms_settles_then_saves_once_long_enough(
    tmp_path: Path, collector: IdleCollector
) -> None:
    """serve's work while the editor pauses (pause_step, which bench/run.py also runs):
    what the build left first, then the pages prepared, then the collector's longer
    pass, then the cache saved, but only once the sources were left alone for
    SAVE_AFTER_SECONDS (the save cannot be cut, and a save while editing would wait
    for it); then nothing until the next build."""
    site = fixture_site(tmp_path / "site")
    builder = preview_builder(site, tmp_path / "preview")
    assert builder.build().ok
    collector.built(whole=True)
    assert not list((site / ".site-gen-cache").glob("*.pickle")), "serve's builder saves when idle"
    pieces = []
    while (piece := pause_step(builder, collector, quiet=SAVE_AFTER_SECONDS / 2)) != "wait":
        pieces.append(piece)
        assert piece is not None and len(pieces) < 10_000
    assert pieces[0] == "collect" and pieces[-1] == "settle"
    assert set(pieces[1:-1]) <= {"warm"}
    assert gc.get_freeze_count() > 0
    assert not list((site / ".site-gen-cache").glob("*.pickle")), (
        "saved before the sources were quiet long enough"
    )
    assert pause_step(builder, collector, quiet=SAVE_AFTER_SECONDS / 2) == "wait"
    assert pause_step(builder, collector, quiet=SAVE_AFTER_SECONDS) == "save"
    assert list((site / ".site-gen-cache").glob("*.pickle"))
    assert pause_step(builder, collector) is None
