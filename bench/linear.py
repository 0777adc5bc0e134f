"""Does a cold build grow in proportion to the site? Issue 6's target: 100,000
stories in no more than 11 times the 10,000-story time, and in 2 GB.

    python bench/linear.py [--small 10000] [--big 100000] [--seed 1] [--settle 65]

Three cold `site-gen build` processes, as bench/run.py times them (empty cache,
no search index, output on disk): the small corpus, the big one, the small one
again. The small one is built before and after the big one because this
kind of machine drifts by more than the target's margin within minutes; the
ratio is given against each. After the big build, one of its stories is
edited and built again by a new `site-gen build` process with the cache: its
peak memory is held to 2 GB too (it reads back what the cold build saved, and
peaked above the cold build's: 1,927 MiB against 1,855 MiB at one time).
Memory is judged on all the build's processes together (see run.TreeMemory):
the page workers each come to copy much of the build's memory, and one
process's peak (ru_maxrss, also printed) leaves them out. With `--limit BYTES`
(root, cgroups) the big corpus is built cold once more, then edited and built
with its cache, each in a new memory group of BYTES that charges the kernel's
memory for the build's files too, as a machine of that size would; the memory
target is then judged on those two: a build chooses its workers by the memory
it has, so on a bigger machine it may use more to be quicker.

Each build writes into a folder never used before, and the three folders
are removed only after the last build: on ext4 without a journal (this
machine's disk) the kernel does not hand out an inode freed in the last
minute, and a build that creates files right after as many were deleted
spends seconds of system time looking past them (the 10,000-story build
after the 100,000-story output was deleted and 30 s waited took 19.7-20.5 s,
against 15.3-16.8 s). Folders left by a run that was stopped are removed
first, then `--settle` seconds waited (65). Each corpus is read through
first (see run.read_through), so that no build reads its records from the
disk while another finds them in memory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import (  # noqa: E402
    Run,
    corpus_path,
    edit_story,
    figures,
    limited_build,
    pick_stories,
    read_through,
    ready_corpus,
    remove_outputs,
    site_gen_build,
)

# 11 times the time for 10 times the stories: a tenth over linear.
TARGET_OVER_LINEAR = 1.1
MEMORY_LIMIT_BYTES = 2_000_000_000  # "2 GB"; peak RSS is reported in MiB


def corpus_for(work: Path, stories: int, seed: int) -> Path:
    """The generated corpus of `stories` stories, made if missing (see run.ready_corpus)."""
    corpus = corpus_path(work, stories, seed)
    said = ready_corpus(corpus, stories, seed)
    if said is not None:
        print(f"corpus of {stories} stories generated in {said}", flush=True)
    return corpus


def cold_build(corpus: Path, out: Path) -> Run:
    """One cold build of `corpus` into the new folder `out`."""
    shutil.rmtree(corpus / ".site-gen-cache", ignore_errors=True)
    print(f"read {corpus.name} into the page cache: {read_through(corpus)}", flush=True)
    return site_gen_build(corpus, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cold builds of a small and a big corpus, paired.")
    parser.add_argument("--small", type=int, default=10000, help="stories in the small corpus (10000)")
    parser.add_argument("--big", type=int, default=100000, help="stories in the big corpus (100000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default="/tmp/site-gen-bench", help="where corpora and outputs go")
    parser.add_argument(
        "--settle",
        type=float,
        default=65.0,
        help="seconds to wait after removing a stopped run's outputs (65)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="BYTES",
        help="also build the big corpus cold, then one edit with its cache, each inside a new "
        "memory group of BYTES (2000000000); the memory target is then judged on them",
    )
    args = parser.parse_args(argv)
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    small, big = corpus_for(work, args.small, args.seed), corpus_for(work, args.big, args.seed)
    sizes = f"{args.small} then {args.big} then {args.small} stories"
    print(f"site-gen linearity: {sizes}, {os.cpu_count()} cores", flush=True)
    leftovers = list(work.glob("linear-out-*"))
    if leftovers:
        remove_outputs(leftovers)
        print(
            f"removed {len(leftovers)} folders left by an earlier run; waiting {args.settle:g} s", flush=True
        )
        time.sleep(args.settle)
    runs, outs = [], []
    edited: Run | None = None  # the big corpus's one-story edit, built with its cache
    limited: bool | None = None  # whether the big build fit the --limit (None: not tried)
    limited_edit: bool | None = None  # and the one-story edit after it
    try:
        for label, corpus in (("small-1", small), ("big", big), ("small-2", small)):
            outs.append(work / f"linear-out-{label}-{time.time_ns()}")
            run = cold_build(corpus, outs[-1])
            runs.append(run)
            print(f"{label:<8} {corpus.name:<22} {figures(run)}", flush=True)
            if label == "big":
                edit_story(pick_stories(big, 1)[0], 1)
                edited = site_gen_build(big, outs[-1])
                print(f"{'big-edit':<8} {'one story, cache kept':<22} {figures(edited)}", flush=True)
        if args.limit:
            outs.append(work / f"linear-out-limited-{time.time_ns()}")
            limited = _built(limited_build(big, outs[-1], args.limit, cold=True, name="big-limit"))
            if limited:  # and an edit after it, with the cache, as a 2 GB machine builds the next day
                edit_story(pick_stories(big, 1)[0], 2)
                edit = limited_build(big, outs[-1], args.limit, cold=False, name="big-limit-edit")
                limited_edit = _built(edit)
    finally:
        remove_outputs(outs)
    first, middle, last = runs
    assert edited is not None
    ratios = sorted((middle.seconds / first.seconds, middle.seconds / last.seconds))
    cpu_ratios = sorted((middle.cpu / first.cpu, middle.cpu / last.cpu))
    scale = args.big / args.small
    target = TARGET_OVER_LINEAR * scale
    limit_mib = MEMORY_LIMIT_BYTES / 1024 / 1024
    goal = f"target <= {target:.1f}x for {scale:g}x the stories"
    print(f"time ratio          {ratios[0]:.2f}-{ratios[1]:.2f}x ({goal})")
    print(f"processor ratio     {cpu_ratios[0]:.2f}-{cpu_ratios[1]:.2f}x")
    goal = f"target < {limit_mib:.0f} MiB, 2 GB as 2,000,000,000 bytes"
    print(f"peak RSS (big)      {middle.rss_mb:.0f} MiB (one process)")
    print(f"peak RSS (big-edit) {edited.rss_mb:.0f} MiB")
    # What the build needs is all its processes together; ru_maxrss is one process's.
    needs = [_needs(run) for run in (middle, edited)]
    print(f"peak, all processes (big)      {needs[0]:.0f} MiB ({goal})")
    print(f"peak, all processes (big-edit) {needs[1]:.0f} MiB")
    if limited is not None:
        print(f"big build in {args.limit:,} bytes  {'built' if limited else 'killed: did not fit'}")
    if limited_edit is not None:
        print(f"big edit in {args.limit:,} bytes   {'built' if limited_edit else 'killed: did not fit'}")
    # Built in a group of the limit, the build fits a machine of that size (it chose its
    # workers for it); on this machine it may use more, to be quicker.
    fits = limited and limited_edit if limited is not None else max(needs) < limit_mib
    met = ratios[1] <= target and bool(fits)
    print("targets            ", "met" if met else "NOT met")
    return 0


def _built(limited: tuple[Run, bool] | None) -> bool | None:
    return None if limited is None else limited[1]


def _needs(run: Run) -> float:
    """The build's memory: all its processes together, or one's peak where not known."""
    return run.tree_mb if run.tree_mb is not None else run.rss_mb


if __name__ == "__main__":
    sys.exit(main())
