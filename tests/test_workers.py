"""How many worker processes a build uses: SITE_GEN_JOBS, the cores, and memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from buildkit import BEFORE_DEADLINE, fixture_site, tree

from site_gen import produce, structured, workers
from site_gen.builder import Builder
from site_gen.rebuild import Rebuilder, watch_builder

GIB = 1 << 30


def test_workers_are_as_many_as_the_memory_left_holds_copies_of_the_build() -> None:
    assert workers.affordable(2, available=10 * GIB, resident=GIB) == 2
    # Room for the build's own process to grow by as much again, and two workers.
    assert workers.affordable(4, available=3 * GIB, resident=GIB) == 2
    # A 10,000-story build (146 MiB at the fork) under a 450 MiB limit: 312 MiB left.
    assert workers.affordable(2, available=312 << 20, resident=146 << 20) == 1
    # A 100,000-story build (1.5 GB) on a machine with 2 GB left makes its pages itself.
    assert workers.affordable(2, available=2 * GIB, resident=3 * GIB // 2) == 1
    assert workers.affordable(2, available=0, resident=GIB) == 1
    assert workers.affordable(2, available=None, resident=GIB) == 2  # not Linux: as asked
    assert workers.affordable(2, available=GIB, resident=None) == 2


def test_views_kept_grow_with_the_memory_left_and_never_below_the_floor() -> None:
    floor = 150_000
    # 100,000 stories (1.8 GB at the fork), two workers, 20 GB left: each keeps every view.
    kept = workers.views_kept(2, floor, available=20 * GIB, resident=18 * GIB // 10)
    assert kept == (20 * GIB - 2 * (18 * GIB // 10)) // (4 * workers.VIEW_BYTES)
    assert kept > 1_000_000
    # The same build in one process (no copies) on a 2 GB machine: 200 MB left.
    assert workers.views_kept(1, floor, available=200 << 20, resident=18 * GIB // 10) == floor
    # One process, 4 GB left: half of it for views.
    half = 4 * GIB // (2 * workers.VIEW_BYTES)
    assert workers.views_kept(1, floor, available=4 * GIB, resident=GIB) == half
    # Room kept for the results of the pages to make: 100,000 stories' 118,000 pages in
    # one process with 1.5 GB left leave about a gigabyte, half of it for views.
    pages = 118_000
    left = 3 * GIB // 2
    with_pages = workers.views_kept(1, floor, left, GIB, pages)
    assert with_pages == (left - pages * workers.PAGE_BYTES) // (2 * workers.VIEW_BYTES)
    assert floor < with_pages < workers.views_kept(1, floor, left, GIB)
    assert workers.views_kept(1, floor, 400 << 20, GIB, pages) == floor  # less than the results need
    # Workers whose copies would not fit: the floor, never less.
    assert workers.views_kept(2, floor, available=GIB, resident=GIB) == floor
    assert workers.views_kept(2, floor, available=None, resident=GIB) == floor  # not Linux
    assert workers.views_kept(2, floor, available=GIB, resident=None) == floor


GIVE_BACK = """
from site_gen.workers import give_back_free_memory, resident_memory
start = resident_memory()
pairs = [(bytes(65_000) + bytes([i % 256]), bytes(600) + bytes([i % 256])) for i in range(3_000)]
big = [a for a, _ in pairs]
small = [b for _, b in pairs]  # kept: the heap cannot shrink past them
del pairs, big
kept = resident_memory()
give_back_free_memory()
print(start >> 20, kept >> 20, resident_memory() >> 20)
"""


def test_free_memory_is_given_back_to_the_system() -> None:
    """What a big page's text leaves: freed blocks between live ones, which glibc keeps
    in the process (its resident size stays up) until it is told to hand them back."""
    done = subprocess.run([sys.executable, "-c", GIVE_BACK], capture_output=True, text=True, check=True)
    start, kept, after = map(int, done.stdout.split())
    assert kept - start > 150, done.stdout  # 190 MiB freed, still resident
    assert kept - after > 150, done.stdout  # handed back


def test_site_gen_jobs_sets_the_workers_and_a_bad_value_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE_GEN_JOBS", "3")
    assert workers.wanted() == 3
    cores = min(len(os.sched_getaffinity(0)), workers.MAX_WORKERS)
    for bad in ("0", "-2", "two", ""):
        monkeypatch.setenv("SITE_GEN_JOBS", bad)
        assert workers.wanted() == cores
    monkeypatch.delenv("SITE_GEN_JOBS")
    assert workers.wanted() == cores


def _group(root: Path, membership: str, folder: str, files: dict[str, str]) -> Path:
    where = root / folder
    where.mkdir(parents=True)
    for name, text in files.items():
        (where / name).write_text(text)
    (root / "cgroup").write_text(membership)
    return root / "cgroup"


def test_a_cgroup_v2_limit_leaves_its_headroom_counting_inactive_file_cache(tmp_path: Path) -> None:
    membership = _group(
        tmp_path,
        "0::/ci/job-1\n",
        "ci/job-1",
        {
            "memory.max": str(2 * GIB) + "\n",
            "memory.current": str(GIB + 300) + "\n",
            "memory.stat": "anon 900\nfile 500\ninactive_file 200\nactive_file 300\n",
        },
    )
    assert workers._cgroup_headroom(tmp_path, membership) == GIB - 300 + 200
    (tmp_path / "ci/job-1/memory.max").write_text("max\n")
    assert workers._cgroup_headroom(tmp_path, membership) is None


def test_a_cgroup_v1_memory_limit_is_read_too_and_its_no_limit_ignored(tmp_path: Path) -> None:
    membership = _group(
        tmp_path,
        "9:cpu,cpuacct:/docker/x\n\nnot a hierarchy\n4:memory:/docker/x\n0::/\n",
        "memory/docker/x",
        {
            "memory.limit_in_bytes": str(4 * GIB),
            "memory.usage_in_bytes": str(5 * GIB),
            "memory.stat": "cache 10\ntotal_inactive_file 1073741824\n",
        },
    )
    assert workers._cgroup_headroom(tmp_path, membership) == 0  # over its limit, even less the cache
    (tmp_path / "memory/docker/x/memory.usage_in_bytes").write_text(str(GIB))
    assert workers._cgroup_headroom(tmp_path, membership) == 4 * GIB
    (tmp_path / "memory/docker/x/memory.limit_in_bytes").write_text("9223372036854771712")
    assert workers._cgroup_headroom(tmp_path, membership) is None
    assert workers._cgroup_headroom(tmp_path, tmp_path / "no-such-file") is None


def test_this_machine_says_how_much_memory_is_left_and_used() -> None:
    available, resident = workers.available_memory(), workers.resident_memory()
    assert available is not None and available > 0
    assert resident is not None and 10 * 1024 * 1024 < resident < available
    assert 1 <= workers.page_workers() <= workers.wanted()


_BATCHES_NOTED: list[Path] = []  # the file each batch notes its process in


def _noting_make_chunk(chunk: list) -> list:
    with _BATCHES_NOTED[0].open("a") as noted:
        noted.write(f"{os.getpid()}\n")
    return _MAKE_CHUNK(chunk)


_MAKE_CHUNK = produce._make_chunk


def test_one_job_makes_every_batch_of_pages_in_the_build_s_own_process_and_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = fixture_site(tmp_path / "site")
    monkeypatch.setattr(produce, "PARALLEL_ROUTES", 1)  # a big site's build: workers, unless told
    monkeypatch.setattr(produce, "_make_chunk", _noting_make_chunk)
    monkeypatch.setattr(sys.modules[__name__], "_BATCHES_NOTED", [tmp_path / "batches"])
    monkeypatch.setenv("SITE_GEN_JOBS", "1")
    assert Builder(site, tmp_path / "one", cache=False).build(BEFORE_DEADLINE).ok
    # Batch by batch, as a worker makes them, but here: no batch went to a worker.
    assert set((tmp_path / "batches").read_text().split()) == {str(os.getpid())}
    (tmp_path / "batches").unlink()
    monkeypatch.setenv("SITE_GEN_JOBS", "2")
    assert Builder(site, tmp_path / "two", cache=False).build(BEFORE_DEADLINE).ok
    # Two jobs: one worker, and this process making batches beside it.
    makers = set((tmp_path / "batches").read_text().split())
    assert len(makers) == 2 and str(os.getpid()) in makers
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_a_build_s_batches_let_go_of_the_structured_data_kept_for_their_views(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = fixture_site(tmp_path / "site")
    monkeypatch.setattr(produce, "PARALLEL_ROUTES", 1)
    monkeypatch.setenv("SITE_GEN_JOBS", "1")  # the batches in this process, as a 2 GB machine makes them
    monkeypatch.setattr(produce, "views_kept", lambda *args: 0)  # every batch starts its views afresh
    kept_after_batches = []

    def make_chunk(chunk: list) -> list:
        made = _MAKE_CHUNK(chunk)
        kept_after_batches.append(len(structured._kept_nodes))
        return made

    monkeypatch.setattr(produce, "_make_chunk", make_chunk)
    structured.forget_kept_nodes()
    with_nodes = []
    make = structured._kept

    def noting_kept(*args: object) -> object:
        with_nodes.append(args[0])
        return make(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(structured, "_kept", noting_kept)
    assert Builder(site, tmp_path / "out", cache=False).build(BEFORE_DEADLINE).ok
    # Nodes were kept (the quotes' and events' pages), each batch let them go with its
    # views, and none is left once the pages are made.
    assert with_nodes and set(kept_after_batches) == {0}
    assert structured._kept_nodes == {}
    # With a worker, the build's process makes batches beside it: it lets go of its nodes
    # at the end just the same (a serving builder's too, made again for the views it
    # keeps when next needed).
    monkeypatch.setenv("SITE_GEN_JOBS", "2")
    structured._kept_nodes[("event", 0, "")] = (None, structured.KeptNode({}))
    assert Builder(site, tmp_path / "workers", cache=False).build(BEFORE_DEADLINE).ok
    assert structured._kept_nodes == {}


def test_build_watch_and_serve_say_when_a_page_worker_was_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As `build` says it: the builds of `build --watch` and `serve` (one Rebuilder)."""
    site = fixture_site(tmp_path / "site").resolve()
    _a_worker_killed_in_each_build(monkeypatch)
    rebuilder = Rebuilder(site, watch_builder(site, tmp_path / "out"), BEFORE_DEADLINE)
    try:
        assert rebuilder.first_build().ok
    finally:
        rebuilder.close()
    said = capsys.readouterr().err
    assert "built " in said and workers.WORKERS_LOST in said, said


def test_site_gen_jobs_in_the_environment_of_the_command(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    outputs = {}
    for jobs in ("1", "2"):
        env = {**os.environ, "SITE_GEN_JOBS": jobs, "SITE_GEN_SEARCH": "0"}
        command = [sys.executable, "-m", "site_gen", "build", "--out", str(tmp_path / jobs)]
        done = subprocess.run(
            command + ["--as-of", BEFORE_DEADLINE], cwd=site, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        outputs[jobs] = tree(tmp_path / jobs)
    assert outputs["1"] == outputs["2"] and "index.html" in outputs["1"]


_PARENT: list[int] = []


def _a_worker_killed_in_each_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds of many pages in batches of two with a page worker beside the build's
    process, the worker killed by SIGKILL (as the out-of-memory killer ends it) when
    it starts its second batch."""
    monkeypatch.setattr(produce, "PARALLEL_ROUTES", 1)
    monkeypatch.setattr(produce, "CHUNK", 2)
    monkeypatch.setattr(produce, "_make_chunk", _killed_in_a_worker_make_chunk)
    monkeypatch.setattr(sys.modules[__name__], "_PARENT", [os.getpid()])
    monkeypatch.setenv("SITE_GEN_JOBS", "2")


_BATCHES_STARTED: list[int] = []  # in a worker: its own copy, empty at the fork


def _killed_in_a_worker_make_chunk(chunk: list) -> list:
    if os.getpid() not in _PARENT:
        _BATCHES_STARTED.append(len(chunk))
        if len(_BATCHES_STARTED) == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer ends it
    return _MAKE_CHUNK(chunk)


def test_a_page_worker_killed_mid_build_leaves_its_pages_to_the_build_not_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed by the out-of-memory killer left the pool waiting forever for
    its batch; now the batches not back are made in the build's own process."""
    site = fixture_site(tmp_path / "site")
    _a_worker_killed_in_each_build(monkeypatch)
    report = Builder(site, tmp_path / "killed", cache=False).build(BEFORE_DEADLINE)
    assert report.ok and report.workers_lost
    monkeypatch.setattr(produce, "PARALLEL_ROUTES", 10**9)
    alone = Builder(site, tmp_path / "alone", cache=False).build(BEFORE_DEADLINE)
    assert alone.ok and not alone.workers_lost
    assert tree(tmp_path / "killed") == tree(tmp_path / "alone")


def test_page_workers_send_inputs_as_numbers_and_the_build_gets_its_own_keys_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers number the inputs they send (each worker its own numbers, a key sent
    once): the build's process gets, for each page, the same inputs as one process
    notes, each the one key object the whole build shares."""
    site = fixture_site(tmp_path / "site")
    monkeypatch.setattr(produce, "PARALLEL_ROUTES", 1)
    monkeypatch.setattr(produce, "CHUNK", 2)  # many batches: keys numbered by one batch, used by later ones
    monkeypatch.setenv("SITE_GEN_JOBS", "2")
    numbered: list[tuple[int, int]] = []
    take = produce.Producer._take_numbered

    def noting(self: produce.Producer, batch: tuple[int, list, list]) -> list:
        numbered.append((batch[0], len(batch[1])))
        return take(self, batch)

    monkeypatch.setattr(produce.Producer, "_take_numbered", noting)
    two = Builder(site, tmp_path / "two", cache=False)
    assert two.build(BEFORE_DEADLINE).ok
    assert {pid for pid, _ in numbered} - {os.getpid()}, "the batches came from workers"
    assert any(count == 0 for _, count in numbered[2:]), "a later batch used only keys sent before"
    keys = {id(key) for key in two._keys.values()}
    assert two.deps.deps and keys
    assert all(id(key) in keys for inputs in two.deps.deps.values() for key in inputs)
    monkeypatch.setenv("SITE_GEN_JOBS", "1")
    one = Builder(site, tmp_path / "one", cache=False)
    assert one.build(BEFORE_DEADLINE).ok
    assert {path: set(keys) for path, keys in two.deps.deps.items()} == {
        path: set(keys) for path, keys in one.deps.deps.items()
    }
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
