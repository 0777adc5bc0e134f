"""Make output files from routes: views, fingerprints, templates; in parallel when many.

Every route's views are built over a tracked site (see incremental), so the
inputs it notes are exactly its own; per-record views shared between routes
carry their inputs with them (SharedViews). Many routes are made by forked
worker processes, which inherit the loaded site, the Markdown cache and the
templates instead of receiving them; each returns its files' bytes in route
order, so the output is the same bytes as a serial build's.
"""

from __future__ import annotations

import bisect
import gc
import multiprocessing
import os
import pickle
import re
from array import array
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterable

import jinja2

from .errors import Problem
from .exports import EXPORTS, record_json, sitemap
from .incremental import ROUTES, KeptList, Key, TrackedSite, TrackedUrls, Tracker, ViewMemo
from .index import Site
from .jsontext import dumps_indented
from .markup import MarkdownRenderer
from .model import Record
from .pages import PAGES
from .places import PlacesMemo, moved_places
from .render import TemplateProblem, render_page, render_page_bytes
from .routes import RECORD_PAGES, Route, Urls
from .structured import forget_kept_nodes
from .views import ViewBuilder, entry_order, same_view
from .workers import available_memory, give_back_free_memory, page_workers, resident_memory, views_kept
from .writer import Pieces, digest_of, span, span_parts

PARALLEL_ROUTES = 300
# Pages whose template outputs big kept pieces (a year's timeline, month by month):
# rendered to bytes piece by piece (see render.Reuse.page_bytes).
PIECEWISE_VIEWS = frozenset({"timeline"})
MONTH_GROUPS_KEPT = 20_000
CHUNK = 40
# The views a page worker keeps for its next batches at least (a view is about 1.6 kB):
# more, and it starts afresh, unless memory allows more (see workers.views_kept). At
# 10,000 stories a worker ends with about 95,000; at 100,000 stories they took a
# gigabyte in each worker.
WORKER_VIEWS_KEPT = 150_000
# A batch that grew its process by more than this hands the allocator's free memory back.
GROWTH_TO_GIVE_BACK = 32 << 20
RECORD_VIEWS = frozenset(view for _, view in RECORD_PAGES)  # one record's page each
# Pages that show many records, few of whose fields: an edit often leaves their view as
# it was, and a kept builder then keeps their bytes (see Producer._kept_page). A story's
# or a question's page shows its own record whole.
LIST_VIEWS = frozenset(PAGES) - {"story", "question"}
# Per record, the inputs its text in data/briefing.json was made from, and where that
# text is in the briefing.json the last build wrote (a writer.span).
Fragments = dict[tuple[str, str], tuple[tuple[Key, ...], int]]


class SharedViews(ViewBuilder):
    """A ViewBuilder whose per-record views are shared by all routes of a build.

    A record's entries, quote or question view, card and links are made once
    and reused by every page that shows them; each remembers the inputs noted
    while it was made and notes them again for every page that reuses it, so
    sharing never hides an input.
    """

    def __init__(
        self, site: Any, markdown: MarkdownRenderer, urls: Any, tracker: Tracker, memo: ViewMemo | None = None
    ) -> None:
        self._tracker = tracker
        self._kept = memo if memo is not None else ViewMemo(indexed=False)
        self._memo, self._dates = self._kept.views, self._kept.dates
        self._moved = PlacesMemo()  # a Producer, and so these views, serve one build
        super().__init__(site, markdown, urls)

    @property
    def kept_count(self) -> int:
        """How many views are kept."""
        return len(self._kept.views)

    def afresh(self) -> None:
        """Forget every view kept, also those the base class keeps for itself: a view
        made again must meet none of its parts already made, or it would not note
        their inputs. The JSON-LD nodes kept for views go with them (they hold them)."""
        self._kept.clear()
        self._quotes.clear()
        self._questions.clear()
        forget_kept_nodes()

    def _shared(self, name: str, record: Record, make: Callable[[Record], Any]) -> Any:
        key = (name, record.kind, record.id)
        found = self._memo.get(key)
        if found is None:
            outer = self._tracker.keys
            self._tracker.keys = set()
            try:
                value = make(record)
            finally:
                deps, self._tracker.keys = self._tracker.keys, outer
            found = self._kept.put(key, value, deps)
        self._tracker.keys.update(found[1])
        return found[0]

    def date(self, when: Any) -> Any:
        found = self._dates.get(when)
        if found is None:
            found = self._dates[when] = super().date(when)
        return found

    def link(self, record: Record) -> Any:
        return self._shared("link", record, super().link)

    def topic_links(self, record: Record) -> Any:
        return self._shared("topic_links", record, super().topic_links)

    def quote(self, record: Record) -> Any:
        return self._shared("quote", record, super().quote)

    def question(self, record: Record) -> Any:
        return self._shared("question", record, super().question)

    def story_card(self, record: Record) -> Any:
        return self._shared("story_card", record, super().story_card)

    def story_line(self, record: Record) -> Any:
        return self._shared("story_line", record, super().story_line)

    def entries(self, record: Record) -> Any:
        return list(self._shared("entries", record, super().entries))

    def cached(self, name: str, record: Record, make: Callable[[Record], Any]) -> Any:
        return self._shared(name, record, make)

    def each(self, name: str, records: list[Record], make: Callable[[Record], Any], user: str) -> list[Any]:
        """One view per record of a long list (every record, for the home page), kept
        whole between builds: after an edit only the records that are new objects, or
        whose view was forgotten, are looked at again, not the ten thousand others.

        The page notes the inputs of every record's view as before; those of views
        made again are added to the list's (a few more inputs than needed make a
        page more often, never less), and a list made whole starts afresh.
        """
        if not self._kept.keeps_lists:
            return [self._shared(name, record, make) for record in records]
        return list(self._kept_list(name, records, make, user).values)  # patched in place by the next build

    def each_then(
        self,
        name: str,
        records: list[Record],
        make: Callable[[Record], Any],
        user: str,
        then: Callable[[list[Any]], Any],
    ) -> Any:
        """`then(each(...))`, kept with the list: while no view in it is another object,
        what `then` made of it last time (the sorted or picked views: sorting what
        moved of 17,000 records' views and looking through them took about 3 ms of
        an edit). `then` reads nothing but the views, and makes a new object."""
        if not self._kept.keeps_lists:
            return super().each_then(name, records, make, user, then)
        kept = self._kept_list(name, records, make, user)
        key = (user, name, then.__code__)
        found = self._kept.derived.get(key)
        if found is not None and found[0] == kept.version:
            return found[1]
        made = then(kept.values)
        self._kept.derived[key] = (kept.version, made)
        return made

    def _kept_list(
        self, name: str, records: list[Record], make: Callable[[Record], Any], user: str
    ) -> KeptList:
        kept = self._kept.lists.get((user, name))
        places = None if kept is None else kept.changed(records, self._kept.PATCH_AT_MOST, self._moved)
        outer = self._tracker.keys
        try:
            if places is None:
                self._tracker.keys = set()
                values = [self._shared(name, record, make) for record in records]
                kept = KeptList(name, records, values, self._tracker.keys)
                self._kept.watch(kept, user)
            else:
                self._tracker.keys = kept.deps
                kept.patch(places, [self._shared(name, records[place], make) for place in places])
                kept.records = records
        finally:
            self._tracker.keys = outer
        outer |= kept.deps
        return kept

    def timeline(
        self, records: list[Record], years: Any = None, user: str | None = None, months: Any = None
    ) -> Any:
        """A page's timeline; a serving builder keeps its entries' order between builds and
        moves only the entries of records whose entries are new (a year page has thousands)."""
        if user is None or not self._kept.keeps_lists:
            return super().timeline(records, years, months=months)
        lists = self.each("entries", records, super().entries, user)
        kept = self._kept.orders.get(user)
        keyed = None if kept is None else _reordered(kept[0], kept[1], lists)
        if keyed is None:
            keyed = sorted(chain.from_iterable(lists), key=entry_order)
        self._kept.orders[user] = (lists, keyed)
        return self.grouped(keyed, years, months)

    def month_group(self, month: tuple[int, int], entries: tuple[Any, ...]) -> Any:
        """The same group object for the same entry objects, so that templates can
        keep its HTML (`reuse`): a year's timeline then renders only its changed months."""
        groups = self._kept.groups
        key = (month, tuple(map(id, entries)))  # the group holds its entries: their ids stay theirs
        found = groups.get(key)
        if found is None:
            if len(groups) >= MONTH_GROUPS_KEPT:
                groups.clear()
            found = groups[key] = super().month_group(month, entries)
        return found


def _reordered(old: list[Any], keyed: list[Any], lists: list[Any]) -> list[Any] | None:
    """`keyed` (the entries of `old`'s lists, in order) for `lists` instead: the entries of
    the lists that are new objects taken out and theirs put in at their places. None
    when the lists are too different to be worth it. Each entry's place in the order is
    unique (see entry_order), so this is the order a full sort gives."""
    places = moved_places(old, lists, ViewMemo.PATCH_AT_MOST)  # None too for another length
    if places is None:
        return None
    if not places:
        return keyed
    moved = list(keyed)
    for place in places:  # taken out where a search finds them (a year holds thousands)
        for pair in old[place]:
            at = bisect.bisect_left(moved, entry_order(pair), key=entry_order)
            if at == len(moved) or moved[at][1] is not pair[1]:
                return None  # not where its order says: sort anew
            del moved[at]
    for place in places:
        for pair in lists[place]:
            bisect.insort(moved, pair, key=entry_order)
    return moved


@dataclass(slots=True)
class Made:
    """One route's result: bytes None when the page's view is as last written."""

    path: str
    fingerprint: str
    data: bytes | Pieces | None
    deps: frozenset[Key] | tuple[Key, ...]  # a tuple from a batch (see _make_chunk)
    problem: Problem | None = None
    fragments: Fragments | None = None
    digest: str = ""
    # With a `stage` callback the bytes are written where they are made (in the worker)
    # and only where they went comes back: the staged file, or `current` when the
    # output file already holds exactly these bytes.
    staged: str | None = None
    current: bool = False
    rendered: bool = False
    # `deps` are the build's own key objects (see Producer._take_numbered): the build
    # need not look each up in its table of keys.
    canonical: bool = False


class Producer:
    """Makes routes of one build."""

    def __init__(
        self,
        root: Path,
        site: Site,
        urls: Urls,
        routes: list[Route],
        renderer: MarkdownRenderer,
        env: Any,
        base: str,
        unchanged: Callable[[str, str], bool],
        fragments: Fragments | None = None,
        changed: set[Key] | None = None,
        memo: ViewMemo | None = None,
        stage: Callable[[str, bytes | Pieces, str], tuple[str | None, bool]] | None = None,
        known: Callable[[str], bool] = lambda path: True,
        fragment_file: Path | None = None,
        canon: dict[Key, Key] | None = None,
    ) -> None:
        self.root, self.routes, self.renderer, self.env, self.base = root, routes, renderer, env, base
        self.unchanged = unchanged
        self.stage = stage
        self.known = known  # whether an output file was made for this path before
        # briefing.json's records as JSON text, reused while their inputs are unchanged
        # (`changed` None: all inputs may have changed).
        # `fragment_file`: the briefing.json the last build wrote, where their texts are.
        self.fragments = fragments if changed is not None and fragment_file is not None else None
        self.fragment_file = fragment_file
        self.changed = changed or set()
        self.made_fragments: Fragments | None = None
        self.workers_lost = False  # a page worker died; its batches were made here
        # The build's one object per input (see Builder._canonical_inputs), and per page
        # worker the inputs it numbered, by number (see _make_numbered_chunk).
        self.canon: dict[Key, Key] = {} if canon is None else canon
        self._numbered: dict[int, list[Key]] = {}
        self.views_kept = WORKER_VIEWS_KEPT  # a batch's process keeps this many views, at most
        self.tracker = Tracker()
        self.site = TrackedSite(site, self.tracker)
        self.urls = TrackedUrls(urls, self.site, self.tracker)
        self.memo = memo
        self.views = SharedViews(self.site, renderer, self.urls, self.tracker, memo)

    def make(self, route: Route) -> Made:
        self.tracker.take()
        views = self.views
        try:
            fingerprint, data = self._make(route, views)
        except TemplateProblem as exc:
            return Made(route.path, "", None, self.tracker.take(), exc.problem)
        fragments, self.made_fragments = self.made_fragments, None
        # An export's fingerprint is already the digest of its bytes (briefing.json is big);
        # so is a page's made with nothing to compare with.
        if data is None:
            digest = ""
        elif route.view not in PAGES:
            digest = fingerprint
        else:
            digest = fingerprint[len("bytes:") :] if fingerprint.startswith("bytes:") else _digest(data)
        made = Made(route.path, fingerprint, data, self.tracker.take(), fragments=fragments, digest=digest)
        if data is not None:
            made.rendered = True
            if self.stage is not None:
                made.staged, made.current = self.stage(route.path, data, digest)
                made.data = None
        return made

    def _make(self, route: Route, views: ViewBuilder) -> tuple[str, bytes | Pieces | None]:
        if route.view in PAGES:
            template, context = PAGES[route.view](views, route.arg)
            context["site"] = views.site_view
            if self.memo is not None and self.memo.keeps_lists and route.view in LIST_VIEWS:
                return self._kept_page(route, template, context)
            if self.memo is not None or not self.known(route.path):
                # Nothing to compare with (a first build), or views kept between builds
                # (serve: a page made again is mostly HTML kept by `reuse`): the view's own
                # fingerprint would cost a pickle of it for nothing, and more than the
                # rendering; the page's bytes stand in.
                data = self._render(route, template, context)
                return "bytes:" + _digest(data), data
            fingerprint = _digest(pickle.dumps((self.base, template, context), protocol=5))
            if self.unchanged(route.path, fingerprint):
                return fingerprint, None
            return fingerprint, self._render(route, template, context)
        if route.view == "sitemap":
            self.tracker.add(ROUTES)
            text = sitemap(views, [r for r in self.routes if r.is_page])
        elif route.view in ("feed", "timeline_json"):
            text = EXPORTS[route.view](views, route.arg)
        elif route.view == "briefing_json":
            pieces = self._briefing(views)
            return _digest(pieces), pieces
        else:
            text = EXPORTS[route.view](views)
        data = text.encode("utf-8")
        return _digest(data), data

    def _kept_page(self, route: Route, template: str, context: dict[str, Any]) -> tuple[str, bytes | None]:
        """A list page in a builder that keeps views (serve's, build --watch's): not
        rendered when its view is the same as the one its file was last rendered from.

        An edit of a story's summary reaches the home page, /topics/ and its people's
        pages through the story's record, though none of them shows the summary; their
        views are made again (mostly kept pieces), compared in well under a
        millisecond, and found the same. The file must still hold what was rendered
        (its fingerprint), with the same templates and settings.
        """
        assert self.memo is not None
        last = self.memo.pages.get(route.path)
        if (
            last is not None
            and last[0] is self.env
            and last[1] == (self.base, template)
            and same_view(last[2], context)
            and self.unchanged(route.path, last[3])
        ):
            return last[3], None
        data = self._render(route, template, context)
        fingerprint = "bytes:" + _digest(data)
        self.memo.pages[route.path] = (self.env, (self.base, template), context, fingerprint)
        return fingerprint, data

    def _render(self, route: Route, template: str, context: dict[str, Any]) -> bytes:
        if route.view in PIECEWISE_VIEWS:
            return render_page_bytes(self.env, self.root, template, context, route.url_path)
        return render_page(self.env, self.root, template, context, route.url_path).encode("utf-8")

    def _briefing(self, views: ViewBuilder) -> Pieces:
        """briefing.json from one JSON text per record, each made again only when
        one of its own inputs changed (else read from the file the last build
        wrote); the document is the same bytes as one json.dumps of it all, in
        pieces (see writer.Pieces)."""
        old = self.fragments or {}
        placed: list[tuple[tuple[str, str], tuple[Key, ...], str | int]] = []

        def fragment(vb: ViewBuilder, record: Record) -> str:
            key = (record.kind, record.id)
            found = old.get(key)
            if found is None or not self.changed.isdisjoint(found[0]):
                outer, self.tracker.keys = self.tracker.keys, set()
                try:
                    self.tracker.add(("rec", record.kind, record.id))
                    text = _indented(dumps_indented(record_json(vb, record)), _ITEM)
                finally:
                    # A tuple: read back from the cache much faster than a set.
                    deps, self.tracker.keys = tuple(self.tracker.keys), outer
                found = (deps, text)
            self.tracker.keys.update(found[0])
            placed.append((key, *found))
            return f"{_MARK}{len(placed) - 1}{_MARK}"

        skeleton = EXPORTS["briefing_json"](views, fragment)
        # Each placeholder line becomes its record's text. The skeleton is read match by
        # match, not split: at 100,000 stories the split made 700,000 small strings
        # (36 MB); and the text between two records (",\n" mostly) is one string.
        out: list[str | int] = []
        made: Fragments = {}
        common: dict[str, str] = {}
        at_byte, start, comma = 0, 0, ""
        for match in _PLACED.finditer(skeleton):
            between = comma + skeleton[start : match.start()]
            between = common.setdefault(between, between)
            indent, number, comma = match.groups()
            key, deps, piece = placed[int(number)]
            if indent != _ITEM:  # never with today's layout; kept right should it change
                whole = self._kept_text(piece)
                piece = _indented(whole[len(_ITEM) :].replace("\n" + _ITEM, "\n"), indent)
            at_byte += _size(between)
            size = _size(piece)
            made[key] = (deps, span(at_byte, size))  # where the next build finds it
            out += (between, piece)
            at_byte += size
            start = match.end()
        out.append(comma + skeleton[start:])
        self.made_fragments = made
        return Pieces(out, self.fragment_file)

    def _kept_text(self, piece: str | int) -> str:
        if isinstance(piece, str):
            return piece
        return b"".join(Pieces([piece], self.fragment_file).chunks()).decode("utf-8")

    def make_all(self, todo: list[Route], sink: Callable[[Made], None] | None = None) -> list[Made]:
        """Every route of `todo`: in order by this process; or, when there are many, in
        batches (see _chunks), by this process batch by batch as a worker would, and
        by forked workers beside it when memory allows (see workers.page_workers and
        _make_beside). Each page is the same bytes any way.

        `sink` sees each result as it arrives (the builder stages its bytes and
        drops them, so a big build never holds every page at once).
        """
        accept = sink or (lambda made: None)
        made: list[Made] = []
        if len(todo) < PARALLEL_ROUTES:
            for route in todo:
                made.append(self.make(route))
                accept(made[-1])
            return made
        forks = "fork" in multiprocessing.get_all_start_methods()
        workers = page_workers() if forks else 1
        global _ACTIVE
        if workers > 1:
            self._compile_templates()  # once, here, rather than once in each worker
        chunks = _chunks(todo)
        left, resident = available_memory(), resident_memory()
        self.views_kept = views_kept(workers, WORKER_VIEWS_KEPT, left, resident, len(todo))
        _ACTIVE = self
        # The site and everything else made so far out of the workers' collections (see
        # _make_chunk); the cycle collector is off while a build runs (see Builder.build).
        gc.freeze()
        try:
            if workers < 2:  # batches here, views and cycles let go as a worker lets them go
                self._take_parts(map(_make_chunk, chunks), made, accept)
                return made
            done: set[int] = set()
            try:
                context = multiprocessing.get_context("fork")
                self._numbered = {}
                # This process makes pages too: one worker fewer, so one copy fewer of
                # the build's memory (see workers.py), and its pages are neither
                # pickled nor numbered.
                pool = ProcessPoolExecutor(workers - 1, mp_context=context, initializer=_start_numbering)
                with pool:
                    self._make_beside(pool, chunks, made, accept, done)
            except BrokenProcessPool:
                # A worker was killed (out of memory, most often): the batches not yet
                # back are made here, where they cost no more memory than one batch.
                self.workers_lost = True
                self.views_kept = WORKER_VIEWS_KEPT  # the budget was the workers', made with room to spare
                remaining = [chunk for place, chunk in enumerate(chunks) if place not in done]
                self._take_parts(map(_make_chunk, remaining), made, accept)
            return made
        finally:
            gc.unfreeze()
            _ACTIVE = None
            forget_kept_nodes()  # the batches made here: their views end now
            give_back_free_memory()  # what those batches made and let go

    def _make_beside(
        self,
        pool: ProcessPoolExecutor,
        chunks: list[list[Route]],
        made: list[Made],
        accept: Callable[[Made], None],
        done: set[int],
    ) -> None:
        """Make `chunks` with the pool's workers and in this process, meeting in the
        middle (see _Claims): the workers take batches from the first, this process
        from the last and, between two, takes in what the workers sent back. So no
        worker waits for this process, and this process makes record pages while the
        workers begin with the pages that show many records. The places of the
        batches made are added to `done` as they are taken in."""
        claims = _Claims(len(chunks))
        global _SHARED
        _SHARED = (chunks, claims)  # the workers, forked at the first task, find them here
        try:
            tasks = [pool.submit(_make_claimed_chunk) for _ in chunks]
            first = 0
            while (place := claims.last()) is not None:
                self._take_parts([_make_chunk(chunks[place])], made, accept)
                done.add(place)
                first = self._take_in(tasks, first, made, accept, done, block=False)
            self._take_in(tasks, first, made, accept, done, block=True)
        except BaseException:  # the pool's end must not wait for every task still given out
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            _SHARED = None

    def _take_in(
        self,
        tasks: list[Future[tuple[int, tuple[int, list[Key], list[Made]]] | None]],
        first: int,
        made: list[Made],
        accept: Callable[[Made], None],
        done: set[int],
        block: bool,
    ) -> int:
        """The workers' batches back from `tasks[first:]`, in order, as far as they are
        done (all of them: `block`); the first task not yet taken in."""
        while first < len(tasks) and (block or tasks[first].done()):
            result = tasks[first].result()
            first += 1
            if result is not None:
                place, numbered = result
                self._take_parts([self._take_numbered(numbered)], made, accept)
                done.add(place)
        return first

    def _take_numbered(self, numbered: tuple[int, list[Key], list[Made]]) -> list[Made]:
        """A worker's batch with each page's inputs made the build's own key objects
        again, from their numbers."""
        worker, new_keys, made = numbered
        table = self._numbered.setdefault(worker, [])
        canon = self.canon
        table.extend(map(canon.setdefault, new_keys, new_keys))
        for one in made:
            one.deps = tuple(map(table.__getitem__, one.deps))
            one.canonical = True
        return made

    @staticmethod
    def _take_parts(parts: Iterable[list[Made]], made: list[Made], accept: Callable[[Made], None]) -> None:
        for part in parts:
            for one in part:
                made.append(one)
                accept(one)

    def _compile_templates(self) -> None:
        for name in self.env.list_templates(extensions=["html"]):
            if name.startswith("static/"):
                continue
            try:
                self.env.get_template(name)
            except (jinja2.TemplateError, UnicodeError, OSError):
                pass  # a template a page uses reports its problem when the page is made


_ACTIVE: Producer | None = None


class _Claims:
    """Which batches are taken, shared by the build's process and its page workers:
    the workers take the next from the first on, the build's process the next from
    the last down, until they meet. (Handing each batch to the pool and taking back
    those not started, by cancelling their futures, left cancelled work items that a
    broken pool fails on, in Python 3.11.)"""

    def __init__(self, count: int) -> None:
        self._ends = multiprocessing.get_context("fork").Array("q", [0, count])  # next first, past last

    def first(self) -> int | None:
        """The next batch from the first on, taken; None once they have met."""
        with self._ends.get_lock():
            ends = self._ends.get_obj()
            if ends[0] >= ends[1]:
                return None
            ends[0] += 1
            return int(ends[0] - 1)

    def last(self) -> int | None:
        """The next batch from the last down, taken; None once they have met."""
        with self._ends.get_lock():
            ends = self._ends.get_obj()
            if ends[0] >= ends[1]:
                return None
            ends[1] -= 1
            return int(ends[1])


# The batches of a build made with workers beside the build's process, and their claims.
_SHARED: tuple[list[list[Route]], _Claims] | None = None


def _make_claimed_chunk() -> tuple[int, tuple[int, list[Key], list[Made]]] | None:
    """A page worker's task: the next batch from the first on, if any is left, and its
    place."""
    assert _SHARED is not None  # set in the parent before the fork
    chunks, claims = _SHARED
    place = claims.first()
    if place is None:
        return None
    return place, _make_numbered_chunk(chunks[place])


def _chunks(todo: list[Route]) -> list[list[Route]]:
    """The workers' batches: the pages that show many records (the home page, the
    timelines, briefing.json...) one by one, so that the workers share them and
    the views they make; then the others (a record's own page), CHUNK at a time."""
    one_by_one = [[route] for route in todo if route.view not in RECORD_VIEWS]
    records = [route for route in todo if route.view in RECORD_VIEWS]
    return one_by_one + [records[i : i + CHUNK] for i in range(0, len(records), CHUNK)]


def _make_chunk(chunk: list[Route]) -> list[Made]:
    assert _ACTIVE is not None  # set in the parent before the fork
    before = resident_memory()
    made = [_ACTIVE.make(route) for route in chunk]
    for one in made:  # a set would be hashed again, member by member, when it arrives
        one.deps = tuple(one.deps)
    # Rendering a page leaves reference cycles (Jinja's contexts and macros) that only
    # the cycle collector frees: a tenth of a worker's memory by the end of a big
    # build. The youngest generation holds only what this chunk made (the site was
    # frozen before the fork), so this look is short.
    gc.collect(0)
    if _ACTIVE.views.kept_count > _ACTIVE.views_kept:
        _ACTIVE.views.afresh()
    after = resident_memory()
    if before is not None and after is not None and after - before > GROWTH_TO_GIVE_BACK:
        give_back_free_memory()  # a big page's text, written and freed (briefing.json)
    return made


# A page worker's numbers for the inputs it sent the build's process (see _start_numbering).
_NUMBERS: dict[Key, int] = {}


def _start_numbering() -> None:
    """A page worker's first step: no input sent yet (the build's process numbers none,
    but a worker must not trust what it was forked with)."""
    _NUMBERS.clear()


def _make_numbered_chunk(chunk: list[Route]) -> tuple[int, list[Key], list[Made]]:
    """`_make_chunk` in a page worker: each page's inputs as numbers (an array), with
    the inputs this worker numbers for the first time (this process's id, those
    inputs in number order, the pages). Sent as key tuples, the inputs of 100,000
    stories' pages (10 million references) kept the build's process busy
    unpickling them and looking each up in its table of keys, a third of its
    time while the workers made the pages; an array of numbers is one string
    of bytes to unpickle, and a number one list index to look up."""
    numbers = _NUMBERS
    new_keys: list[Key] = []
    made = _make_chunk(chunk)
    for one in made:
        keys = tuple(one.deps)
        found = list(map(numbers.get, keys))  # most were sent before: looked up in one go
        if None in found:
            for place, number in enumerate(found):
                if number is None:
                    key = keys[place]
                    number = numbers[key] = len(numbers)
                    new_keys.append(key)
                    found[place] = number
        one.deps = array("I", found)  # type: ignore[assignment]
    return os.getpid(), new_keys, made


# A record's place in the skeleton: a string holding NULs, which no record can
# contain (the YAML reader refuses control characters), so JSON shows them escaped.
_MARK = "\x00"
_PLACED = re.compile(r'^( *)"\\u0000(\d+)\\u0000"(,?)$', re.MULTILINE)
# A record's indent in the document: an item of a kind's list (json.dumps with indent=1).
_ITEM = "  "


def _indented(text: str, indent: str) -> str:
    """A JSON text dumped at the top level, as json.dumps writes it nested at `indent`."""
    return indent + text.replace("\n", "\n" + indent)


def _size(piece: str | int) -> int:
    """A piece's length in bytes, as written (UTF-8)."""
    if isinstance(piece, int):
        return span_parts(piece)[1]
    return len(piece) if piece.isascii() else len(piece.encode("utf-8"))


def _digest(data: bytes | Pieces) -> str:
    return digest_of(data)
