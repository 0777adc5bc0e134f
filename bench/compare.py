"""Compare two versions of site-gen on the same generated corpus, in interleaved rounds.

    python bench/compare.py OLD NEW [--stories 10000] [--rounds 3] [--seed 1] [--work DIR]

OLD and NEW are git revisions of this repository (HEAD~2, a branch, a commit) or
folders holding a `site_gen` package. On a shared machine one build's time
swings by a third from run to run, so a single before/after pair says little:
each round builds with both versions, in turns (OLD first in odd rounds, NEW
first in even ones), and the lowest and median of each figure are printed with
NEW's lowest over OLD's. Each version works on a copy of the corpus of its own
(its own cache, its own output folder). Per round and version:

  cold build        empty cache, empty output (wall time, processor time of the
                    build and its workers, peak resident memory of any of them)
  one-story edit    the same story's summary changed in both copies, built by
                    a fresh process on the cold build's cache

Each cold build writes into a folder of its own, and all are removed at the
end: on ext4 without a journal a build right after an output's deletion
spends seconds looking past the inodes freed (see bench/run.py's
remove_outputs), and that cost fell on whichever version built second.

Last, every output file of the two versions is compared byte for byte: a
change meant only to be faster should report them identical.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import gen_corpus  # noqa: E402
from run import AS_OF, edit_story, pick_stories, timed_process  # noqa: E402

STEPS = ("cold build", "one-story edit")


@dataclass
class Figures:
    """One version's measurements, a list per step and measure."""

    label: str
    code: Path
    corpus: Path
    outs: Path  # where its output folders go: OUTS-1, OUTS-2... one per round
    out: Path = Path()  # the latest round's (see one_round)
    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    rss: dict[str, list[float]] = field(default_factory=dict)

    def add(self, step: str, wall: float, cpu: float, rss_mb: float) -> None:
        self.wall.setdefault(step, []).append(wall)
        self.cpu.setdefault(step, []).append(cpu)
        self.rss.setdefault(step, []).append(rss_mb)


def checkout(version: str, into: Path) -> tuple[Path, str]:
    """A folder holding `version`'s site_gen package, and a label for it."""
    folder = Path(version)
    if (folder / "site_gen" / "__init__.py").is_file():
        return folder.resolve(), str(folder)
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{version}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not commit:
        sys.exit(f"compare: {version!r} is neither a folder holding site_gen/ nor a git revision of {REPO}")
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    archive = into.parent / f"{into.name}.tar"
    with open(archive, "wb") as handle:
        subprocess.run(["git", "-C", str(REPO), "archive", commit], stdout=handle, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    archive.unlink()
    return into, f"{version} ({commit[:10]})"


def timed_build(code: Path, site: Path, out: Path) -> tuple[float, float, float]:
    """One `site-gen build` by the package in `code`: wall seconds, processor seconds
    (the build and the workers it waited for), peak resident MiB of any of them."""
    env = dict(os.environ, PYTHONPATH=str(code), SITE_GEN_SEARCH="0")
    env.pop("SOURCE_DATE_EPOCH", None)
    command = [sys.executable, "-m", "site_gen", "build", "--site", str(site), "--out", str(out)]
    # Run from the version's own folder: `python -m` puts the working folder first on
    # sys.path, before PYTHONPATH, so run from a checkout every version was that one.
    run = timed_process([*command, "--as-of", AS_OF], cwd=code, env=env)
    if run.code != 0:
        sys.exit(f"compare: the build by {code} failed:\n{run.stderr[-3000:]}")
    return run.seconds, run.cpu, run.rss_mb


def digests(folder: Path) -> dict[str, str]:
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def compare_outputs(old: Path, new: Path) -> str:
    a, b = digests(old), digests(new)
    differ = sorted(rel for rel in a.keys() | b.keys() if a.get(rel) != b.get(rel))
    if not differ:
        return f"identical ({len(a):,} files)"
    return f"{len(differ):,} of {len(a.keys() | b.keys()):,} files differ, first: {', '.join(differ[:5])}"


def one_round(number: int, versions: list[Figures]) -> None:
    order = versions if number % 2 else versions[::-1]
    for version in order:
        shutil.rmtree(version.corpus / ".site-gen-cache", ignore_errors=True)
        version.out = version.outs.with_name(f"{version.outs.name}-{number}")
        version.add("cold build", *timed_build(version.code, version.corpus, version.out))
    story = pick_stories(versions[0].corpus, 1)[0].relative_to(versions[0].corpus)
    edit_story(versions[0].corpus / story, number)
    for version in versions[1:]:  # the same new text in every copy
        shutil.copyfile(versions[0].corpus / story, version.corpus / story)
    for version in order:
        version.add("one-story edit", *timed_build(version.code, version.corpus, version.out))


def _row(values: list[float], unit: str, digits: int) -> str:
    low, mid = min(values), statistics.median(values)
    return f"min {low:.{digits}f}{unit}, median {mid:.{digits}f}{unit}"


def report(old: Figures, new: Figures, rounds: int) -> list[str]:
    lines = [f"{'':34} {'OLD: ' + old.label:<40} {'NEW: ' + new.label:<40} NEW/OLD (min)"]
    for step in STEPS:
        for name, unit, digits in (("wall", " s", 2), ("cpu", " s", 2), ("rss", " MiB", 0)):
            a, b = getattr(old, name)[step], getattr(new, name)[step]
            label = {"wall": "time", "cpu": "processor time", "rss": "peak memory"}[name]
            ratio = min(b) / min(a) if min(a) else float("nan")
            shown = f"{_row(a, unit, digits):<40} {_row(b, unit, digits):<40}"
            lines.append(f"{step + ', ' + label:<34} {shown} {ratio:.2f}")
    lines.append(f"{'outputs':<34} {compare_outputs(old.out, new.out)}")
    lines.append(f"({rounds} rounds; the lowest of each is the least disturbed by the machine's other work)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare two versions of site-gen on one corpus.")
    parser.add_argument("old", help="a git revision (HEAD~1) or a folder holding site_gen/")
    parser.add_argument("new", help="the same, for the version to compare with OLD")
    parser.add_argument("--stories", type=int, default=10000, help="corpus size (default 10000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of builds by both (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default="/tmp/site-gen-bench", help="where corpora and outputs go")
    args = parser.parse_args(argv)
    work = Path(args.work).resolve() / f"compare-{os.getpid()}"
    work.mkdir(parents=True)
    try:
        codes = [
            checkout(version, work / f"code-{name}")
            for name, version in (("old", args.old), ("new", args.new))
        ]
        corpus = work / "corpus"
        gen_corpus.generate(args.stories, corpus, args.seed)
        versions = []
        for name, (code, label) in zip(("old", "new"), codes):
            copy = work / f"corpus-{name}"
            shutil.copytree(corpus, copy)
            versions.append(Figures(label, code, copy, work / f"out-{name}"))
        cores = os.cpu_count()
        print(f"site-gen compare: {args.stories} stories, seed {args.seed}, {cores} cores, as of {AS_OF}")
        for number in range(1, args.rounds + 1):
            one_round(number, versions)
            print(f"round {number} of {args.rounds} done", flush=True)
        for line in report(*versions, args.rounds):
            print(line)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
