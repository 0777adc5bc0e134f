"""The build: load → validate → index → plan routes → render views → write.

A `Builder` is kept alive by `serve` and used once by `build`/`publish`. It
remembers, per output file, the fingerprint of everything the page showed
(its view, template set and settings); a page whose fingerprint is unchanged
is neither rendered nor written. The state persists in .site-gen-cache/
(see cachestate).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Collection, Iterable
from collections.abc import Mapping as Mapping_
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from .cache import (
    CACHE_DIR,
    CACHE_VERSION,
    compiled_templates_folder,
    exclusive,
    output_lock,
    read_marker,
    sign_marker,
    written_marker,
)
from .cachestate import CacheState, markdown_texts, shard_of
from .collector import collector_paused
from .errors import Problem, ProblemsReport, UsageError
from .incremental import DepState, Inputs, Key, ViewMemo
from .index import Site
from .loader import Loader
from .routes import BRIEFING_PATH, Route, Urls, plan
from .site import LoadResult, as_of_date, load_site
from .snapshot import Snapshot, surroundings, take, unchanged
from .statics import StaticFiles
from .workers import give_back_free_memory
from .writer import (
    FileState,
    Pieces,
    Staging,
    check_output_dir,
    digest_of,
    existing_files,
    same_bytes,
    stamp_of,
)

if TYPE_CHECKING:  # produce is imported when a build has pages to make
    from .inputsfile import WrittenInputs
    from .produce import Fragments

# A page's inputs: a tuple for a page made for the first time (see _canonical_inputs).
PageInputs = frozenset[Key] | tuple[Key, ...]

# The pages an edit most often remakes and that are slow to make from nothing.
WARM_VIEWS = ("home", "topics", "timeline", "quotes", "topic", "topic_year", "questions", "people", "person")

MAX_TEMPLATE_PROBLEMS = 20


@dataclass
class BuildReport(ProblemsReport):
    """What a build did: pages and files written and removed, problems, time."""

    ok: bool
    problems: list[Problem]
    files: int = 0
    pages: int = 0
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rendered: int = 0
    seconds: float = 0.0
    changed_sources: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    workers_lost: bool = False  # a page worker died (out of memory); the build made its pages
    # Every file of the output folder (made or kept), sorted only when asked for.
    output_paths: list[str] = field(default_factory=list, repr=False)
    _sorted: bool = field(default=False, repr=False)

    @property
    def outputs(self) -> list[str]:
        """Every file of the output folder this build made or kept, sorted."""
        if not self._sorted:
            self.output_paths.sort()
            self._sorted = True
        return self.output_paths


# The data files (not pages a browser reloads): serve makes them after the pages.
DATA_VIEWS = frozenset({"briefing_json", "feed", "timeline_json", "sitemap"})


class Stopwatch:
    """Seconds spent in each stage of a build, for `bench/run.py` and `--verbose` users."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = self.laps.get(stage, 0.0) + now - self._last
        self._last = now


class Builder(CacheState):
    """Builds one site into one output folder, as often as asked."""

    def __init__(
        self,
        root: Path,
        out: Path,
        *,
        drafts: bool = False,
        base_url: str | None = None,
        cache: bool = True,
        search: bool | None = None,
    ) -> None:
        self.root = root.resolve()
        self.out = out.resolve()
        self._prefix = str(self.out) + os.sep
        self.drafts = drafts
        self.base_url = base_url
        self.loader = Loader(self.root)
        # SITE_GEN_SEARCH=0 leaves the search index out (bench/run.py measures the pages without it);
        # serve leaves it out too, since Pagefind re-indexes every page on every change.
        self.search = search if search is not None else os.environ.get("SITE_GEN_SEARCH", "1") != "0"
        self.markdown: dict[bool, dict[str, str]] = {False: {}, True: {}}
        self._markdown_live = 0  # how many rendered texts the records had when last counted
        self.files: dict[str, FileState] = {}
        self.deps = DepState()
        self.views = ViewMemo()
        self._site: Site | None = None  # the last site loaded without errors, to patch
        self._urls_kept: dict[str, Any] = {}  # what Urls worked out that the next build may reuse
        # The parsed records are saved in shards; only those whose files changed are rewritten.
        self._shards: dict[int, str] = {}
        self._workers_lost = False
        self._route_paths: list[str] | None = None
        self._before: Any = None  # the settings, templates and static files a build started from
        self.statics = StaticFiles(self.root)
        self._stale_shards: set[int] | None = None  # None: all of them
        self._new_renders: set[str] = set()  # texts rendered since the last save (see _save_shards)
        self.reuse: Any = None  # the templates' Reuse, made with their environment
        self._warming: tuple[Any, ...] | None = None  # what the last build saw, for warm()
        self._warm_queue: tuple[Any, list[Route]] | None = None
        self.fragments: Fragments = {}
        self._next_fragments: Fragments | None = None
        self.base = ""
        self._next_deps: tuple[str, dict[str, PageInputs], Inputs, list[str]] | None = None
        self.cache_file = self._cache_file() if cache else None
        self._env: tuple[str, Any] | None = None
        self._snapshot: Snapshot | None = None
        # The last plan: its routes, the digest of its pages' paths, how many pages.
        self._planned: tuple[list[Route], str, int] | None = None
        self._same_plan = False
        self._plan_places: dict[str, int] | None = None  # each route's place in the last plan
        # Every route's (fingerprint, None) as the last build left it (None: not known).
        self._route_fps: dict[str, tuple[str, None]] | None = None
        self._with_data: list[str] = []  # what this build made that carries bytes to write
        self._static_pages = 0
        # The records whose fingerprint may have changed since deps last took them
        # (None: unknown, compare them all).
        self._moved: set[tuple[str, str]] | None = None
        self._snapshot_parts: tuple[Any, ...] | None = None
        self._staging = Staging(self.out)
        self._verified: set[str] = set()
        self._digests: dict[str, str] = {}
        self._rendered = 0
        self._keys: dict[Key, Key] = {}
        self._token = ""
        self._watch = Stopwatch()
        # serve saves the cache when the editor pauses, not between an edit and its reload.
        self.autosave = True
        # A builder that builds more than once keeps the views its pages share, indexed by
        # their inputs so that an edit forgets only those it reaches; one built once (the
        # `build` command) makes them for that build alone, without the index (at 10,000
        # stories a one-edit build's peak is 25 MB lower).
        self.keep_views = True
        # serve's folder is its own and nothing else writes there: once this builder has
        # built into it, an edit need not look at every output file for a hand edit
        # (a `build` into output/ does, and so does serve's first build).
        self.trust_output = False
        self._trusting = False
        self._marker_seen: str | None = None  # see _build_noticing
        self._others_wrote = False
        # serve makes the data files (feeds, JSON, sitemap) after the pages it reloads:
        # the views named here wait for `finish()` when their file exists already.
        self.defer: frozenset[str] = frozenset()
        self.pending: set[str] = set()  # files put off, with the inputs that changed since made
        self._pending_changed: set[Key] = set()
        self._next_pending: tuple[set[str], set[Key]] | None = None
        self._as_of: str | date | None = None
        # `build --watch` makes the search index when the editor pauses (see finish()):
        # until then an edit keeps the last index, stale, rather than wait seconds for Pagefind.
        self.search_later = False
        self._search_stale = False
        self._search_notes: list[Problem] = []  # what the last indexing said, repeated meanwhile
        self._index_kept: dict[str, tuple[str, None]] = {}  # the last index's files, as unchanged
        # Answered from the quick check with nothing loaded (serve started on a current
        # cache): `prime()` loads the site while the editor pauses, not at the first edit.
        self.unprimed = False
        self._priming = False
        self._unsaved = False
        self._bulk_loaded = cache is False
        # The page inputs saved by the last build, read only once this build needs them
        # (a template edit remakes every page without them).
        self._inputs_unread = False
        self._inputs_written: WrittenInputs | None = None  # see CacheState._save_inputs
        self._restore()

    # -- the pipeline -------------------------------------------------------

    def build(self, as_of: str | date | None = None, hint: Collection[str] | None = None) -> BuildReport:
        """Build the site; on any error the output folder is left as it was.

        Two builds into one folder (a `build` while another runs) take turns.
        A builder without a cache (publish's one-off build into a fresh folder
        of its own) writes nothing into the site, not even a lock. `hint`: the
        paths a watcher saw change since this builder last loaded the site
        (serve passes them), so that it need not walk content/ to find them.
        """
        # A build makes millions of small objects and keeps most of them to the end:
        # the cycle collector's passes over them cost more than the garbage it finds.
        self._as_of = as_of
        with collector_paused():
            if self.cache_file is None:
                return self._build(as_of, hint)
            with exclusive(output_lock(self.root / CACHE_DIR, self.out)):
                return self._build_noticing(as_of, hint)

    def _build_noticing(self, as_of: str | date | None, hint: Collection[str] | None) -> BuildReport:
        """`_build`, noticing whether another process wrote into the output folder since
        this builder's last build (a `build` beside `build --watch`): every build that
        writes there signs a marker in the cache. Then this build trusts nothing it
        knew of the folder: every output file is looked at, and any it did not make removed."""
        marker = written_marker(self.root / CACHE_DIR, self.out)
        seen = read_marker(marker)
        if seen != self._marker_seen:
            self._trusting = False
            if self._marker_seen is not None:
                self._others_wrote = True
                self.fragments = {}  # they point into a briefing.json the other process replaced
        report = self._build(as_of, hint)
        if report.written or report.removed:
            seen = sign_marker(marker)
        self._marker_seen = seen
        return report

    def _build(self, as_of: str | date | None, hint: Collection[str] | None) -> BuildReport:
        started = time.perf_counter()
        quick = None if hint or self._priming else self._quick(as_of, started)
        if quick is not None:
            self.loader.drop_offer()
            self.unprimed = self.keep_views and self._site is None
            return quick
        self.unprimed = False
        watch = self._watch = Stopwatch()
        self._load_bulk()
        watch.lap("cache")
        before = self._before = surroundings(self.root)
        result = load_site(
            self.root,
            as_of=as_of,
            drafts=self.drafts,
            base_url=self.base_url,
            loader=self.loader,
            hint=hint,
            previous=self._site,
        )
        self._site = result.site if result.ok else None
        if self._stale_shards is not None:
            self._stale_shards.update(shard_of(path) for path in self.loader.replaced)
        watch.lap("load")
        if not result.ok:
            return self._failed(result, started)
        site = result.site
        assert site is not None
        check_output_dir(self.out, self.root, owned=bool(self.files))
        self._staging, self._digests, self._rendered = Staging(self.out), {}, 0
        self._with_data = []
        self._verified = set()
        try:
            produced, problems = self._produce(site)
            if problems:
                self._staging.abort()
                self._forget_kept()
                return self._failed(result, started, problems)
            # The search index joins the build's files, so it is written (and published) with them.
            # Imported when needed: a build with nothing to do stays quick.
            from .search import NO_PAGEFIND

            index, notes = self._search_index(_StagedView(produced, self._staging))
            produced.update(index)
            self._with_data.extend(index)
            watch.lap("search")
            report = self._write(produced)
            watch.lap("write")
        except BaseException:
            self._staging.abort()
            self._forget_kept()
            raise
        rendered = self._rendered
        if self._next_deps is not None:
            everything = self._next_deps[0] != self.base
            self.base, made, inputs, paths = self._next_deps
            # The same routes as last time (most edits): no file's inputs to forget.
            same_routes = paths == self._route_paths
            self.deps.update(made, inputs, None if same_routes else paths, everything)
            if not same_routes:
                self.views.keep_pages(paths)
            self._moved = set()  # the records' fingerprints are now the ones deps holds
            self._route_paths = paths
            self._next_deps = None
            if self._next_fragments is not None:
                self.fragments, self._next_fragments = self._next_fragments, None
        if self._next_pending is not None:
            self.pending, self._pending_changed = self._next_pending
            self._next_pending = None
        watch.lap("remember")
        self._trusting = self.trust_output
        report.problems = result.problems + notes
        report.files = result.files
        report.rendered = rendered
        assert self._planned is not None
        searched = sum(1 for path in index if path.endswith(".html"))
        report.pages = self._planned[2] + self._static_pages + searched
        report.output_paths = list(produced)
        report.changed_sources = result.changed
        # Taken when first asked for (the next build's quick check, the cache's save):
        # a serving builder would otherwise go over every record file after each edit.
        known = self.loader.known  # replaced, never changed, by the next load
        self._snapshot_parts = (
            before,
            site.config,
            site.options.as_of,
            known,
            report.problems,
            report.files,
            report.pages,
            self.search and not self._search_stale,  # a stale index: the next build makes it
            self.search and any(NO_PAGEFIND in p.message for p in notes),
        )
        self._snapshot = None
        if not self.keep_views:
            self._let_go()
            give_back_free_memory()  # a big site's build peaks in the save (0.2 ms when little is free)
        if self.autosave:
            self._save()
        else:
            self._unsaved = True
        watch.lap("save")
        report.timings = watch.laps
        report.workers_lost = self._workers_lost
        report.seconds = time.perf_counter() - started
        return report

    @property
    def snapshot(self) -> Snapshot | None:
        """What the last successful build read, for the quick check (see snapshot.py)."""
        if self._snapshot is None and self._snapshot_parts is not None:
            before, config, as_of, known, *rest = self._snapshot_parts
            sources = {path: (entry.stamp, entry.key) for path, entry in known.items()}
            self._snapshot = take(before, config, as_of, sources, *rest)
            self._snapshot_parts = None
        return self._snapshot

    @snapshot.setter
    def snapshot(self, value: Snapshot | None) -> None:
        self._snapshot, self._snapshot_parts = value, None

    def _quick(self, as_of: str | date | None, started: float) -> BuildReport | None:
        """The last build's report when nothing it read or wrote has changed since."""
        snapshot = self.snapshot
        if snapshot is None or not self.files or snapshot.search != self.search or self.pending:
            return None
        if self._search_stale:
            return None
        try:
            day = as_of if isinstance(as_of, date) else as_of_date(as_of, snapshot.config)
        except UsageError:
            return None  # the full build reports it
        if not unchanged(snapshot, self.root, day, self.out, self.files, self.loader.offer):
            return None
        if snapshot.search_missing:
            from .search import pagefind_program

            if pagefind_program() is not None:  # installed since: the index is to be made
                return None
        return BuildReport(
            True,
            list(snapshot.problems),
            snapshot.files,
            pages=snapshot.pages,
            output_paths=list(self.files),
            seconds=time.perf_counter() - started,
        )

    def _failed(self, result: LoadResult, started: float, extra: list[Problem] | None = None) -> BuildReport:
        problems = sorted(set(result.problems + (extra or [])))
        return BuildReport(
            False,
            problems,
            result.files,
            seconds=time.perf_counter() - started,
            changed_sources=result.changed,
        )

    def _produce(self, site: Site) -> tuple[dict[str, tuple[str, bytes | None]], list[Problem]]:
        """Every output file's fingerprint; new bytes are staged as they come (see _take).

        Only routes with a changed input (or a missing or edited output file)
        are made again; the others keep what they last wrote.
        """
        from .markup import MarkdownRenderer
        from .produce import PARALLEL_ROUTES
        from .render import Reuse, make_environment

        kept_before = bool(self.views.views)  # a builder just started, primed or after a failure: none
        watch = self._watch
        urls = Urls(site, self._urls_kept)
        routes = plan(site, urls)
        watch.lap("plan")
        templates = self._before.templates  # taken at the start of the build (see snapshot)
        # Compiling the templates costs more than rendering a few pages: a
        # long-lived builder (serve) keeps them until a template file changes.
        if self._env is None or self._env[0] != templates:
            self.reuse = Reuse()
            compiled = None if self.cache_file is None else compiled_templates_folder(self.root / CACHE_DIR)
            self._env = (templates, make_environment(self.root, self.reuse, compiled))
        base = _hash(repr((CACHE_VERSION, templates, site.config, site.options)))
        if base == self.base:
            self._load_inputs()
        else:  # every page is made again: the last build's inputs are not needed
            self._inputs_unread = False
            self.deps, self.fragments, self._keys = DepState(index_users=self.keep_views), {}, {}
        pages = self._pages_digest(routes)
        fingerprints = self.loader.fingerprints()
        if self._moved is not None and self.loader.fingerprint_changes is not None:
            self._moved |= self.loader.fingerprint_changes
        else:
            self._moved = None
        inputs = Inputs(site, urls, fingerprints, pages, self._moved if self.deps.deps else None)
        watch.lap("inputs")
        todo, changed = self._todo(routes, base, inputs)
        if changed is None:
            self.views.clear()
            self.reuse.clear()
            # Every file is made again: what was known of the last files is not needed,
            # and the workers forked next would each carry a copy of it.
            self.deps, self.fragments, self._keys = DepState(index_users=self.keep_views), {}, {}
        else:
            self.views.forget(changed, self.deps.touched)
            if not self._keys and (self.keep_views or len(todo) >= PARALLEL_ROUTES):
                # Kept from build to build: new inputs join as pages note them. A build
                # making a few pages once does without (40 MB at 100,000 stories): only
                # the pages it makes keep key objects of their own.
                self._keys = {key: key for key in self.deps.values}
        todo, changed_since = self._put_off(todo, changed)
        watch.lap("forget")
        renderer = MarkdownRenderer(
            site.config.allow_html, self.markdown[site.config.allow_html], self._new_renders
        )
        if len(todo) >= PARALLEL_ROUTES:  # many pages: render every new text ahead, on all cores
            texts = markdown_texts(site)
            renderer.render_all(texts)
            self._prune_markdown(site, texts)
        watch.lap("markdown")
        # A few pages (an edit while serving) share views with the next builds; a big
        # batch is made by forked workers, whose views die with them.
        memo = self._memo() if len(todo) < PARALLEL_ROUTES else None
        # Kept HTML is found again only by the same page in a later build.
        self.reuse.enabled = memo is not None and self.keep_views
        if memo is None:
            self._staging.prepare()  # before the workers are forked: they write into it
        producer = self._producer(
            (site, urls, routes, renderer, base),
            unchanged=self._unchanged,
            fragments=self.fragments,
            changed=changed_since,
            memo=memo,
            stage=self._stage,
            known=self.files.__contains__,
            fragment_file=self._fragment_file(),
            canon=self._keys,
        )
        made = {m.path: m for m in producer.make_all(todo, self._accept)}
        self._workers_lost = producer.workers_lost
        self._urls_kept = urls.kept()
        watch.lap("pages")
        # Pages made by workers keep nothing here: warm() prepares them when serve is idle.
        # After a few pages made here, what was kept is still good, but a warm-up not
        # finished goes on from this build's site (never the last one's).
        left = {r.path for r in self._warm_queue[1]} if self._warm_queue else set()
        self._warm_queue = None
        # Nothing kept to build on: the pages were made by workers, or this builder
        # keeps views but had none and made only some pages (a prime, or an edit
        # right after serve started on its cache): every page is to be prepared.
        fresh = self.keep_views and not kept_before and len(todo) < len(routes)
        kept_nothing = memo is None or fresh
        if kept_nothing or left:
            self._warming = (site, urls, routes, renderer, base, None if kept_nothing else left)
        problems: list[Problem] = []
        same_plan = self._route_fps is not None and self._same_plan
        if same_plan:  # the routes of the last build: its fingerprints, with the made ones'
            produced = dict(self._route_fps)  # type: ignore[arg-type]
            paths = self._route_paths
            for one in made.values():
                produced[one.path] = self._made_entry(one, problems)  # type: ignore[assignment]
        else:
            produced, paths = {}, [r.path for r in routes]
            for route in routes:
                one = made.get(route.path)
                entry = (
                    (self.files[route.path].fingerprint, None)
                    if one is None
                    else self._made_entry(one, problems)
                )
                if entry is not None:
                    produced[route.path] = entry
        if problems:
            produced = {path: entry for path, entry in produced.items() if entry is not None}
        else:
            if same_plan:
                for one in made.values():
                    self._route_fps[one.path] = (one.fingerprint, None)  # type: ignore[index]
            else:
                self._route_fps = {path: (entry[0], None) for path, entry in produced.items()}
            for one in made.values():
                if one.fragments is not None:
                    self._next_fragments = self._canonical_fragments(one.fragments)
            deps = {m.path: m.deps for m in made.values()}
            self._next_deps = (base, deps, inputs, paths)
        self._static_pages = 0
        for rel, (digest, data) in self.statics.current(self._before.static, problems).items():
            produced[rel] = (digest, data)
            self._with_data.append(rel)
            self._static_pages += rel.endswith(".html")
        return produced, problems

    def _fragment_file(self) -> Path | None:
        """The briefing.json the kept records' texts are in (see produce.Fragments),
        when it is still the file the last build wrote; else None, and every
        record's text is made again."""
        if not self.fragments or not self._intact(BRIEFING_PATH):
            return None
        return self.out / BRIEFING_PATH

    def _made_entry(self, one: Any, problems: list[Problem]) -> tuple[str, bytes | None] | None:
        """A made route's (fingerprint, bytes), or None (its problem noted) when it failed."""
        if one.problem is None:
            if one.data is not None:
                self._with_data.append(one.path)
            return (one.fingerprint, one.data)
        if len(problems) < MAX_TEMPLATE_PROBLEMS and all(
            (p.path, p.line) != (one.problem.path, one.problem.line) for p in problems
        ):
            problems.append(one.problem)
        return None

    def _pages_digest(self, routes: list[Route]) -> str:
        """One digest of every page's path (the sitemap's input): the last one while the
        plan is the same routes (mostly the very same objects, compared in C)."""
        self._same_plan = self._planned is not None and self._planned[0] == routes
        if not self._same_plan:
            pages = [r.path for r in routes if r.is_page]
            self._planned = (routes, _hash("\n".join(pages)), len(pages))
            self._plan_places = None
        else:
            self._planned = (routes, *self._planned[1:])  # type: ignore[index]
        return self._planned[1]  # type: ignore[index]

    def prime(self) -> BuildReport:
        """Load the site a quick check answered for (see `unprimed`), with a build
        that skips that check: the first edit then reads no cache and links no
        records (it took 2.4 s at 10,000 stories, and the next ones 0.5 s each until
        every year's timeline was made once), and `warm()` prepares the pages as
        after a first build. Nothing changed, nothing is written; a change that
        slipped in since is built as any other."""
        self.unprimed = False
        self._priming = True
        unsaved = self._unsaved
        try:
            with collector_paused():
                report = self.build(self._as_of)
                self.deps.index_users()  # which pages each input reaches: the first edit's to work out else
        finally:
            self._priming = False
        if report.ok and not (report.written or report.removed or report.changed_sources or self.pending):
            self._unsaved = unsaved  # the cache read back holds all of it: no save (5 s at 100,000 stories)
        return report

    def warm(self, seconds: float) -> bool:
        """Make, for about `seconds`, views and timeline entries of the pages an edit
        is likely to remake (lists, timelines, topics) without writing anything,
        so that the next edit finds them kept. True while there is more to do.

        serve calls it while the editor pauses: after its first build, made by
        worker processes, nothing is kept yet and the first edit of each year's
        timeline would render it whole.
        """
        if self._warming is not None:
            self._warm_queue = self._warm_start(*self._warming)
            self._warming = None
        producer, queue = self._warm_queue or (None, [])
        deadline = time.perf_counter() + seconds
        while queue and time.perf_counter() < deadline:
            route = queue.pop()
            try:
                producer.make(route)  # type: ignore[union-attr]
            except Exception:  # a page that fails fails in the next build, where it is reported
                pass
            # The inputs the cache read back (or workers sent) are a tuple: made a set now,
            # the edit that remakes the page compares its inputs with them at once (a year's
            # timeline, 10,000 inputs: 1 ms).
            self.deps.inputs_of(route.path)
        if not queue and self.keep_views:
            # What the next edit looks its pages up through, made now rather than by that
            # edit (see DepState.prepare_lookups).
            return self.deps.prepare_lookups()
        return bool(queue)

    def _warm_start(
        self, site: Site, urls: Urls, routes: list[Route], renderer: Any, base: str, only: set[str] | None
    ) -> Any:
        self.reuse.enabled = True
        # Never "unchanged" and no earlier file: the point is to render, and so keep, every
        # entry; fingerprinting each page's view (a pickle of it) would be work thrown away.
        producer = self._producer(
            (site, urls, routes, renderer, base),
            unchanged=lambda *_: False,
            memo=self.views,
            known=lambda _: False,
        )
        queue = [r for r in routes if r.view in WARM_VIEWS and (only is None or r.path in only)]
        queue.reverse()  # popped from the end: the plan's order
        return producer, queue

    def _producer(self, build: tuple[Site, Urls, list[Route], Any, str], **options: Any) -> Any:
        """A Producer for this builder's site, templates and one build's
        (site, urls, routes, renderer, base)."""
        from .produce import Producer

        assert self._env is not None
        site, urls, routes, renderer, base = build
        return Producer(self.root, site, urls, routes, renderer, self._env[1], base, **options)

    def _let_go(self) -> None:
        """What only a next build by this builder would use, dropped by a builder that
        builds once before its cache is saved: a cold build's memory peaks in the save
        (at 100,000 stories the keys' table alone held 835,000 keys). Another build by
        it works them out again, as after a failed build."""
        self._forget_kept()
        self._keys, self._planned, self._plan_places = {}, None, None

    def _forget_kept(self) -> None:
        """After a failed build: views made from inputs the page records never took in
        could outlive a change that is undone before the next build."""
        self._warming, self._warm_queue = None, None
        self._route_fps = None
        self.views.clear()
        if self.reuse is not None:
            self.reuse.clear()

    def _accept(self, made: Any) -> None:
        """A made route's bytes were staged where it was made (see _stage); note where."""
        made.deps = self._canonical_inputs(made.path, made.deps, made.canonical)
        if not made.rendered or made.problem is not None:
            return
        self._rendered += 1
        self._digests[made.path] = made.digest
        if made.current:
            self._verified.add(made.path)
        elif made.staged is not None:
            self._staging.adopt(made.path, made.staged)
            made.staged = None  # the staging knows: one string fewer per page held to the end

    def _memo(self) -> ViewMemo:
        """The views this build's pages share: kept and indexed for the next builds, or
        for this build alone (see `keep_views`)."""
        memo = self.views if self.keep_views else ViewMemo(indexed=False)
        memo.canon = self._keys
        return memo

    def _canonical_inputs(self, path: str, deps: Collection[Key], canonical: bool = False) -> PageInputs:
        # Pages share most inputs (a topic's address, a year...): one tuple per input, not per page.
        canon = self._keys
        if path not in self.deps.deps:  # each of a cold build's: a tuple, a quarter of a set
            return deps if canonical else tuple(map(canon.setdefault, deps, deps))  # type: ignore[return-value]
        same = self.deps.same_inputs(path, deps, thaw=self.keep_views)
        if same is not None:  # mostly, after an edit: the same inputs
            return same
        return frozenset(map(canon.setdefault, deps, deps))

    def _canonical_fragments(self, made: Fragments) -> Fragments:
        # A record's JSON text depends on the same inputs as its pages: share their keys
        # (at 10,000 stories 135,000 tuples, and as many again in the saved cache).
        canon, old = self._keys, self.fragments
        for key, (deps, text) in made.items():
            kept = old.get(key)
            if kept is None or kept[0] is not deps:
                made[key] = (tuple(map(canon.setdefault, deps, deps)), text)
        return made

    def _stage(self, rel: str, data: bytes | Pieces, digest: str) -> tuple[str | None, bool]:
        """Write `data` for `rel` to the staging folder unless the output file already
        holds it; in whichever process made it. (staged path, output file current)."""
        known = self.files.get(rel)
        if known and known.digest == digest and self._stamp(rel) == known.stamp:
            return None, True
        if not known and same_bytes(self.out / rel, data):
            return None, False
        return self._staging.write(rel, data), False

    def _take(self, rel: str, data: bytes, digest: str) -> None:
        """Stage `data` for `rel` (a static file, the search index) unless the output holds it."""
        self._digests[rel] = digest
        staged, current = self._stage(rel, data, digest)
        if current:
            self._verified.add(rel)
        elif staged is not None:
            self._staging.adopt(rel, staged)

    def _todo(self, routes: list[Route], base: str, inputs: Inputs) -> tuple[list[Route], set[Key] | None]:
        """The routes to make and the inputs that changed: all routes (and None) after a
        change of templates or settings, else the dirty ones."""
        if base != self.base or not self.deps.deps:
            return routes, None
        changed = self.deps.changed(inputs, index=self.keep_views)
        self._watch.lap("changes")
        dirty = self.deps.dirty(changed, index=self.keep_views)
        known = self.deps.deps
        dirty |= self.pending
        if self._trusting:
            todo = self._dirty_routes(routes, dirty)
        else:
            todo = [r for r in routes if r.path in dirty or r.path not in known or not self._intact(r.path)]
        self._watch.lap("dirty")
        return todo, changed

    def _dirty_routes(self, routes: list[Route], dirty: set[str]) -> list[Route]:
        """The routes in `dirty` or not made and written by the last build, in plan order
        (an output folder trusted: serve's). Worked out with set operations over the
        plan's paths rather than three look-ups per route (11,700 at 10,000 stories)."""
        if self._plan_places is None:  # made again with every new plan (see _pages_digest)
            self._plan_places = {route.path: place for place, route in enumerate(routes)}
        places = self._plan_places
        wanted = dirty.union(places.keys() - self.deps.deps.keys(), places.keys() - self.files.keys())
        return [routes[place] for place in sorted(places[path] for path in wanted if path in places)]

    def _put_off(self, todo: list[Route], changed: set[Key] | None) -> tuple[list[Route], set[Key] | None]:
        """The routes to make now, leaving those of `defer` whose file exists for
        `finish()`; and the inputs changed since each route to make was last made."""
        if changed is None:  # everything is made again
            self._next_pending = (set(), set())
            return todo, None
        since = changed | self._pending_changed
        if self._others_wrote:  # each file is made now, not left as another process wrote it
            self._next_pending = (set(), set())
            return todo, since
        # A file gone from the output (the folder deleted before serve started again
        # on its cache) is made now: it must not be missing until the editor pauses.
        later = {
            r.path
            for r in todo
            if r.view in self.defer and r.path in self.files and (self._trusting or self._stamp(r.path))
        }
        self._next_pending = (later, since if later else set())
        return [r for r in todo if r.path not in later], since

    @property
    def put_off(self) -> bool:
        """Whether the last builds put off files for `finish()` to make."""
        return bool(self.pending) or self._search_stale

    def finish(self) -> BuildReport | None:
        """Make the files the last builds put off (see `defer` and `search_later`), if any."""
        if not self.put_off:
            return None
        defer, self.defer = self.defer, frozenset()
        later, self.search_later = self.search_later, False
        try:
            return self.build(self._as_of, hint=())
        finally:
            self.defer, self.search_later = defer, later

    def _search_index(
        self, pages: Mapping_[str, tuple[str, bytes | None]]
    ) -> tuple[dict[str, tuple[str, bytes | None]], list[Problem]]:
        """The search index's files, made again when a page changed; or, put off
        (`search_later`), the last index as it is."""
        if not self.search:
            return {}, []
        from .search import INDEX_DIR, search_index

        if self.search_later and not self._others_wrote:
            if not self._index_kept:  # a builder started on its cache: found once
                prefix = INDEX_DIR + "/"
                self._index_kept = {
                    rel: (s.fingerprint, None) for rel, s in self.files.items() if rel.startswith(prefix)
                }
            if self._index_kept:
                self._search_stale = True
                return dict(self._index_kept), list(self._search_notes)
        index, notes = search_index(pages, self.out, self.files)
        self._search_stale, self._search_notes = False, notes
        self._index_kept = {rel: (fingerprint, None) for rel, (fingerprint, _) in index.items()}
        return index, notes

    def _stamp(self, rel: str) -> tuple[int, int] | None:
        # A string path: on a big site pathlib's joins cost more than the stat itself.
        return stamp_of(self._prefix + rel)

    def _intact(self, rel: str) -> bool:
        """Whether the output file is still the one we last wrote there."""
        known = self.files.get(rel)
        if known is not None and self._stamp(rel) == known.stamp:
            self._verified.add(rel)
            return True
        return False

    def _unchanged(self, rel: str, fingerprint: str) -> bool:
        known = self.files.get(rel)
        if known is not None and known.fingerprint == fingerprint and self._stamp(rel) == known.stamp:
            self._verified.add(rel)
            return True
        return False

    def _write(self, produced: dict[str, tuple[str, bytes | None]]) -> BuildReport:
        for rel in self._with_data:  # the entries with bytes (most made pages are staged already)
            data = produced[rel][1]
            if data is not None:
                self._take(rel, data, digest_of(data))
        before = self.files.keys() if self.files else existing_files(self.out) if self.out.is_dir() else set()
        if self._others_wrote and self.out.is_dir():  # what another process left is not known here
            before = before | existing_files(self.out)
        remove = before - produced.keys()
        result = self._staging.commit(remove)
        self._others_wrote = False
        self._remember(produced, set(result.written))
        return BuildReport(True, [], written=result.written, removed=result.removed)

    def _remember(self, produced: dict[str, tuple[str, bytes | None]], written: set[str]) -> None:
        if self._trusting:  # only what this build made or wrote can have changed
            files = self.files
            for rel in files.keys() - produced.keys():
                del files[rel]
            self._note_files(files, produced, self._digests.keys() | written, written)
        else:
            self.files = self._note_files({}, produced, produced, written)

    def _note_files(
        self,
        files: dict[str, FileState],
        produced: dict[str, tuple[str, bytes | None]],
        paths: Iterable[str],
        written: set[str],
    ) -> dict[str, FileState]:
        """Each of `paths` as it is now in `files`: fingerprint, digest and stamp."""
        verified, old = self._verified, self.files  # a path's old state is read before it is noted
        for rel in paths:
            fingerprint = produced[rel][0]
            known = old.get(rel)
            if known is not None and (rel in verified or self._trusting) and rel not in written:
                stamp: tuple[int, int] | None = known.stamp  # seen untouched during this build
            else:
                stamp = self._stamp(rel)
            if stamp is None:
                files.pop(rel, None)
                continue
            digest = self._digests.get(rel) or (known.digest if known is not None else None)
            if digest is not None:
                files[rel] = FileState(fingerprint, digest, stamp)
        return files

    # -- the persistent cache -----------------------------------------------


class _StagedView(Mapping_):
    """The build's files for the search indexer: staged bytes are read back when asked."""

    def __init__(self, produced: dict[str, tuple[str, bytes | None]], staging: Staging) -> None:
        self.produced, self.staging = produced, staging

    def __getitem__(self, rel: str) -> tuple[str, bytes | None]:
        fingerprint, data = self.produced[rel]
        if data is None and rel in self.staging.staged:
            return fingerprint, self.staging.read(rel)
        return fingerprint, data

    def __iter__(self) -> Iterator[str]:
        return iter(self.produced)

    def __len__(self) -> int:
        return len(self.produced)


def _hash(text: str) -> str:
    return _hash_bytes(text.encode())


def _hash_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def build_site(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    as_of: str | date | None = None,
    drafts: bool = False,
    base_url: str | None = None,
) -> BuildReport:
    """Build the site at `root` into `out` (default: root/output)."""
    from .site import site_root

    site_dir = site_root(root)
    target = Path(out) if out else site_dir / "output"
    builder = Builder(site_dir, target, drafts=drafts, base_url=base_url)
    builder.keep_views = False  # it builds once, as `site-gen build` does
    return builder.build(as_of)
