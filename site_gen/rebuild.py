"""Rebuild on every change: the loop behind `serve` and `build --watch`.

One long-lived `Builder` is kept for the life of the process. A worker
thread watches content/, templates/, static/ and site.yaml, rebuilds after
each settled change and prints what it rebuilt; while the editor pauses it
does the work that need not delay the next page (data files, the search
index, the cache's save, preparing the pages an edit is likely to remake).
A failed build keeps the last good output and prints every error; the next
good build recovers by itself. `serve` adds the HTTP side (serve.py);
`build --watch` writes into output/ and nothing more.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
import traceback
from datetime import date
from pathlib import Path
from types import FrameType

from .builder import DATA_VIEWS, Builder, BuildReport
from .collector import IdleCollector, collector_paused
from .config import CONFIG_NAME
from .errors import ERROR, Problem, SiteGenError
from .produce import PARALLEL_ROUTES
from .watch import Watcher, describe
from .workers import WORKERS_LOST
from .writer import check_output_dir

TRANSIENT_RETRIES = 3
WARM_SLICE_SECONDS = 0.05  # each piece of idle work, so a save is still noticed at once
SAVE_AFTER_SECONDS = 10.0  # the cache is saved once the sources were left alone this long


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def pause_step(builder: Builder, collector: IdleCollector, quiet: float = math.inf) -> str | None:
    """One piece of the work done while the editor pauses, once the data files are
    made: collect what the last build left ("collect"), prepare a slice of the pages
    an edit is likely to remake ("warm"), the collector's longer pass when due
    ("settle"), then save the cache ("save") once the sources have been left alone
    for SAVE_AFTER_SECONDS (`quiet`: for how long they have been; "wait" until then).
    None when nothing was left to do. (bench/run.py measures edits with the same steps.)

    The save is the one long piece (0.4-0.5 s at 10,000 stories) and cannot be
    cut: a save of a source file during it would wait for it, so it waits for a
    pause longer than one between two saves while editing."""
    if collector.young():
        return "collect"
    if builder.warm(WARM_SLICE_SECONDS):
        return "warm"
    if collector.settle():
        return "settle"
    if builder.unsaved:
        if quiet < SAVE_AFTER_SECONDS:
            return "wait"
        builder.save()
        return "save"
    return None


class Rebuilder:
    """A builder, the watcher, and the loop that joins them on a thread of its own."""

    kept_words = "the last good output was kept"  # said when a build fails
    # Whether stopping first makes what the builds put off (serve's folder is its own;
    # output/ is what gets published).
    finish_on_close = False

    def __init__(self, root: Path, builder: Builder, as_of: str | date | None = None) -> None:
        self.root = root
        self.builder = builder
        self.as_of = as_of
        self._finish = False
        self.watcher = Watcher(root)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="site-gen-rebuild", daemon=True)
        self._warnings: tuple[str, ...] = ()
        self._unloaded: dict[str, str] = {}  # changes the builder has not loaded yet
        self.collector = IdleCollector()  # runs while the editor pauses (see _idle)
        self.failing = False  # whether the last build reported failed
        self._built_at = time.monotonic()  # when the last build ended

    def first_build(self) -> BuildReport:
        self.collector.start()
        report = self._build()
        self.collector.built(whole=True)
        self._finish = report.ok
        if report.ok:
            say(f"built {plural(report.pages, 'page')} in {report.seconds:.2f} s")
        else:
            say(f"the build failed with {plural(len(report.errors), 'error')}:")
        self.failing = not report.ok
        self.settled(report)
        self._print_problems(report)
        return report

    def settled(self, report: BuildReport) -> None:
        """Called after each build that was reported; serve shows it to the pages."""

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        if self.thread.ident is not None:  # started
            self.thread.join(timeout=30)
        if not self.thread.is_alive():
            if self.finish_on_close and self.builder.put_off:
                say("making the feeds, JSON and search index put off, then stopping (Ctrl-C skips)")
                self._finish_put_off()
            self._save_cache()
            self.watcher.close()
            self.collector.stop()

    # -- the worker thread ---------------------------------------------------

    def _watch(self) -> None:
        pending: dict[str, str] = {}
        retries = 0
        while True:
            waited = self.watcher.wait(self.stop, on_idle=self._idle)
            if waited is None:
                return
            settled, changes = waited
            pending.update(changes)
            self._unloaded.update(changes)
            self.watcher.accept(settled)
            # The collector runs when the editor pauses (see _idle), not between the
            # build and the browser's fetch of the reloaded page.
            try:
                with collector_paused():
                    report = self._build(self._unloaded)
                    self.collector.built(whole=report.rendered >= PARALLEL_ROUTES)
                    if not report.ok and retries < TRANSIENT_RETRIES and self._still_moving():
                        # A half-written file during a burst of saves: build again
                        # from the settled files before showing any error.
                        retries += 1
                        continue
                    self._announce(pending, report)
                    self._finish = report.ok
            except Exception:  # the loop outlives any one bad moment
                traceback.print_exc()
            retries = 0
            pending = {}

    def _idle(self) -> float | None:
        """While the editor pauses: make the files put off (data files, the search
        index), collect what the build left, prepare the pages an edit is likely to
        remake, a little at a time, then the collector's longer pass when due, then
        save the cache. The seconds until the next piece is due (0: at once; the
        save waits for a longer pause), None when nothing is left (see Watcher.wait)."""
        try:
            if self._finish:
                self._finish = False
                self._finish_put_off()
            if self.builder.unprimed:
                self._prime()
                return 0.0
            quiet = time.monotonic() - self._built_at
            step = pause_step(self.builder, self.collector, quiet)
        except Exception:  # only the next edit's speed is at stake
            traceback.print_exc()
            return None
        if step is None:
            return None
        return SAVE_AFTER_SECONDS - quiet if step == "wait" else 0.0

    def _prime(self) -> None:
        """Started on a cache whose pages were current: load the site now, while the
        editor pauses, rather than at the first edit (see Builder.prime)."""
        report = self._build(self._unloaded, prime=True)
        self.collector.built(whole=True)  # the whole site, loaded
        if report.written or report.removed or not report.ok:  # something slipped in since
            self._finish = report.ok
            self._announce({}, report)

    def _finish_put_off(self) -> None:
        report = self.builder.finish()
        if report is not None and not report.ok:  # the next edit's build reports it in full
            say(f"the data files could not be made: {problem_lines(report)[:1]}")
        elif report is not None:
            self._print_problems(report)

    def _save_cache(self) -> None:
        try:
            self.builder.save()
        except Exception:  # a cache that cannot be saved only makes the next start slower
            traceback.print_exc()

    def _still_moving(self) -> bool:
        self.stop.wait(self.watcher.quiet)
        return self.watcher.moved()

    def _build(self, changes: dict[str, str] | None = None, prime: bool = False) -> BuildReport:
        """A build; `changes` (what the watcher saw since the last load) tells the
        builder where to look, and is emptied once a load has taken it in.
        `prime`: the builder's prime(), which looks at every file."""
        walks = self.builder.loader.walks
        try:
            if prime:
                return self.builder.prime()
            return self.builder.build(self.as_of, hint=set(changes) if changes is not None else None)
        except SiteGenError as exc:
            return failed_report(self._relative(str(exc)))
        except Exception as exc:  # never let one build stop the loop
            traceback.print_exc()
            return failed_report(f"internal error: {type(exc).__name__}: {self._relative(str(exc))}")
        finally:
            self._built_at = time.monotonic()
            if changes is not None and self.builder.loader.walks != walks:
                changes.clear()

    def _announce(self, changes: dict[str, str], report: BuildReport) -> None:
        if report.ok:
            # Pages only: the search index's many small files would drown them.
            pages = sum(1 for path in report.written if path.endswith(".html"))
            gone = sum(1 for path in report.removed if path.endswith(".html"))
            removed = f", {gone} removed" if gone else ""
            fixed = " (errors fixed)" if self.failing else ""
            ms = round(report.seconds * 1000)
            say(f"{describe(changes)}: {plural(pages, 'page')} rebuilt{removed} in {ms} ms{fixed}")
        else:
            say(
                f"{describe(changes)}: build failed with {plural(len(report.errors), 'error')}; "
                f"{self.kept_words}"
            )
        self.failing = not report.ok
        self.settled(report)
        self._print_problems(report)

    def _print_problems(self, report: BuildReport) -> None:
        for line in problem_lines(report):
            say(line)
        if report.workers_lost:
            say(WORKERS_LOST)
        warnings = tuple(str(p) for p in report.warnings)
        if report.ok and warnings != self._warnings:  # only when they change, to keep quiet
            for line in warnings:
                say(line)
        if report.ok:
            self._warnings = warnings

    def _relative(self, message: str) -> str:
        return message.replace(str(self.root) + os.sep, "").replace(str(self.root), ".")


def failed_report(message: str) -> BuildReport:
    """A build that could not even start, as one problem on site.yaml."""
    return BuildReport(False, [Problem(CONFIG_NAME, 1, 1, ERROR, message)])


def problem_lines(report: BuildReport) -> tuple[str, ...]:
    return tuple(str(p) for p in report.errors)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# -- build --watch ---------------------------------------------------------------


def watch_builder(root: Path, out: Path, *, drafts: bool = False, base_url: str | None = None) -> Builder:
    """The builder `build --watch` keeps (bench/run.py measures the same one)."""
    builder = Builder(root, out, drafts=drafts, base_url=base_url)
    builder.autosave = False  # saved after a longer pause (see pause_step) and when it stops
    # While it watches, the output folder is this builder's: after its first build
    # (which looks at every file) an edit need not stat every output file again.
    builder.trust_output = True
    # Feeds, JSON, the sitemap and the search index are made when the editor pauses,
    # after the pages the edit changed.
    builder.defer = DATA_VIEWS
    builder.search_later = True
    return builder


def watch_build(
    root: Path,
    out: Path,
    *,
    drafts: bool = False,
    base_url: str | None = None,
    as_of: str | date | None = None,
) -> int:
    """Build the site into `out`, then rebuild on every change until stopped
    (Ctrl-C or SIGTERM). 0 when stopped; the first build's errors do not stop it."""
    root, out = root.resolve(), out.resolve()
    builder = watch_builder(root, out, drafts=drafts, base_url=base_url)
    # A folder no build may write into stops it at once, as it stops `build` (its
    # sources among them: a build there would be a change to build again).
    check_output_dir(out, root, owned=bool(builder.files))
    rebuilder = Rebuilder(root, builder, as_of)
    rebuilder.finish_on_close = True
    stopping = threading.Event()
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    try:
        rebuilder.first_build()
        for signum in previous:
            signal.signal(signum, stop)
        say(f"watching content/, templates/, static/ and site.yaml; building into {out} (Ctrl-C to stop)")
        rebuilder.start()
        while not stopping.wait(0.5):  # a timeout keeps the main thread responsive to signals
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        rebuilder.close()
    say("stopped")
    return 0
