"""What a serving builder keeps between builds: views, rendered timeline entries,
the loader's listing of content/ (driven by the watcher's changes), and a cache
saved only when asked. Each is checked against a fresh full build."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import jinja2
import pytest
from buildkit import BEFORE_DEADLINE, fixture_site, tree, write_files
from markupsafe import Markup

from site_gen import index, produce
from site_gen.builder import Builder
from site_gen.cache import written_marker
from site_gen.errors import Problems
from site_gen.incremental import KeptList, ViewMemo
from site_gen.loader import Loader
from site_gen.render import Reuse
from site_gen.views import DateView, Link, same_view

AS_OF = BEFORE_DEADLINE


def fresh(site: Path, target: Path) -> dict[str, bytes]:
    if target.exists():
        shutil.rmtree(target)
    report = Builder(site, target, cache=False).build(AS_OF)
    assert report.ok, [str(p) for p in report.problems]
    return tree(target)


def retitle(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def edited_once(tmp_path: Path) -> tuple[Path, Builder]:
    """The fixture site and a builder that built it, then built one story's edit."""
    site = fixture_site(tmp_path / "site")
    builder = Builder(site, tmp_path / "out")
    assert builder.build(AS_OF).ok
    retitle(site / "content/stories/may-day.yaml", "title: ", "title: Kept ")
    assert builder.build(AS_OF).ok
    return site, builder


def test_kept_views_follow_a_topic_rename_into_every_timeline(tmp_path: Path) -> None:
    site, builder = edited_once(tmp_path)
    # After an edit the views and entries of the untouched records are kept...
    assert builder.views.views, "a small build keeps its per-record views"
    assert builder.reuse.kept, "and the timeline entries it rendered"
    # ...and a topic's new title still reaches every entry that names the topic.
    retitle(site / "content/topics/alpha.yaml", "title: Alpha affair", "title: Alpha scandal")
    report = builder.build(AS_OF)
    assert report.ok
    got = tree(tmp_path / "out")
    assert got == fresh(site, tmp_path / "fresh")
    timeline = got["timeline/index.html"].decode()
    assert "Alpha scandal" in timeline and "Alpha affair" not in timeline


def test_a_template_change_forgets_every_kept_entry(tmp_path: Path) -> None:
    site, builder = edited_once(tmp_path)
    theme = Path(__file__).resolve().parent.parent / "templates" / "macros.html"
    macros = theme.read_text(encoding="utf-8").replace('<li class="entry ', '<li class="entry changed ')
    write_files(site, {"templates/macros.html": macros})
    assert builder.build(AS_OF).ok
    got = tree(tmp_path / "out")
    assert 'class="entry changed entry-story"' in got["timeline/index.html"].decode()
    assert got == fresh(site, tmp_path / "fresh")


def render_with(reuse: Reuse, source: str, **context: object) -> str:
    env = jinja2.Environment(autoescape=True)
    env.globals["reuse"] = reuse.function()
    return env.from_string(source).render(**context)


class Page:
    def __init__(self, path: str) -> None:
        self.path = path


def test_reuse_keeps_a_macro_output_per_view_object_and_page() -> None:
    reuse = Reuse()
    reuse.enabled = True
    calls: list[str] = []

    def card(view: dict, suffix: object = "") -> str:
        calls.append(view["name"])
        return f"{view['name']}{suffix}"

    page = "{% for v in views %}{{ reuse(card, v, '!') }} {% endfor %}"
    views = [{"name": "a"}, {"name": "b"}]
    # Dicts are unhashable as arguments but the view is keyed by identity: kept.
    first = render_with(reuse, page, card=card, views=views, page=Page("x/"))
    again = render_with(reuse, page, card=card, views=views, page=Page("x/"))
    assert first == again == "a! b! "
    assert calls == ["a", "b"]
    render_with(reuse, page, card=card, views=views, page=Page("y/"))  # another page: its own
    assert calls == ["a", "b", "a", "b"]
    replaced = [{"name": "a"}, views[1]]  # a new view object is rendered again
    render_with(reuse, page, card=card, views=replaced, page=Page("x/"))
    assert calls[4:] == ["a"]
    reuse.enabled = False  # a full build renders everything
    render_with(reuse, page, card=card, views=views, page=Page("x/"))
    assert calls[5:] == ["a", "b"]
    # An unhashable extra argument is never an error, only not kept.
    reuse.enabled = True
    out = render_with(reuse, "{{ reuse(card, v, s) }}", card=card, v=views[0], s=["?"], page=Page("x/"))
    assert out == "a[&#39;?&#39;]"  # autoescaped, as any output


def load(loader: Loader, hint: set[str] | None) -> tuple[list[str], list[str]]:
    problems = Problems()
    records, _ = loader.load(problems, hint)
    shown = sorted(f"{r.kind}/{r.id}:{r.values.get('title', '')}" for r in records)
    return shown, [str(p) for p in problems.items]


def test_the_loader_trusts_a_hint_only_for_files_it_listed(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site", {"content/notes.txt": "not a record"})
    loader = Loader(site)
    load(loader, None)
    walks = loader.walks
    # An edited record file: re-stamped alone, and its new content is read.
    retitle(site / "content/stories/may-day.yaml", "title: ", "title: Edited ")
    records, _ = load(loader, {"content/stories/may-day.yaml"})
    assert any("Edited" in r for r in records) and loader.walks == walks + 1
    # A new file is not in the listing: the loader walks and finds it.
    write_files(site, {"content/stories/new-one.yaml": "title: New one\ndate: 2025-11-01\nsummary: s\n"})
    records, _ = load(loader, {"content/stories/new-one.yaml"})
    assert "stories/new-one:New one" in records
    # A deleted file: walk again, the record is gone.
    (site / "content/stories/new-one.yaml").unlink()
    records, _ = load(loader, {"content/stories/new-one.yaml"})
    assert "stories/new-one:New one" not in records
    # A record file replaced by a symlink is refused as a walk would refuse it.
    target = site / "content/stories/may-day.yaml"
    outside = tmp_path / "elsewhere.yaml"
    outside.write_bytes(target.read_bytes())
    target.unlink()
    os.symlink(outside, target)
    _, problems = load(loader, {"content/stories/may-day.yaml"})
    assert any("may not be symlinks" in p for p in problems)
    # Paths outside content/ (a template, site.yaml) need no look at the records at all.
    assert load(loader, {"templates/base.html", "site.yaml"}) == load(Loader(site), None)


def test_a_build_walks_content_once_and_never_loads_from_an_old_walk(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    builder = Builder(site, tmp_path / "out")
    assert builder.build(AS_OF).ok
    retitle(site / "content/stories/may-day.yaml", "title: ", "title: Edited ")
    walks = builder.loader.walks
    assert builder.build(AS_OF).ok  # the no-change check walked; the load used its walk
    assert builder.loader.walks == walks + 1
    assert "Edited" in (tmp_path / "out/stories/may-day/index.html").read_text()
    # A walk that found nothing changed is not used by a later load.
    assert builder.build(AS_OF).written == []
    write_files(site, {"content/stories/new-one.yaml": "title: New one\ndate: 2025-11-01\nsummary: s\n"})
    records, _ = load(builder.loader, None)
    assert "stories/new-one:New one" in records


def test_the_markdown_cache_forgets_texts_no_record_has_any_more(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    builder = Builder(site, tmp_path / "out")
    builder.MARKDOWN_SLACK = 2
    builder.autosave = False  # as serve's: saved when the editor pauses
    assert builder.build(AS_OF).ok
    cache = builder.markdown[False]
    live = len(cache)
    story = site / "content/stories/may-day.yaml"
    for n in range(6):  # an editor saving the same summary again and again
        retitle(story, "summary: ", f"summary: Edit {n}. ")
        assert builder.build(AS_OF).ok
    edits = [text for text in cache if text.startswith("Edit")]
    assert len(edits) == 6  # every version rendered is kept...
    builder.save()
    assert [text for text in cache if text.startswith("Edit")] == [max(edits, key=len)]
    assert len(cache) == live  # ...until a save counts the texts the records have
    again = Builder(site, tmp_path / "out")
    assert again.build(AS_OF).written == []  # what was saved still serves the next build


def test_a_hinted_load_still_reads_a_file_saved_too_recently_to_trust_its_stat(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    loader = Loader(site)
    load(loader, None)  # every file was just written: none has a stat to trust yet
    story = site / "content/stories/may-day.yaml"
    before = os.stat(story)
    # A second save in the same tick: same size, same modification time.
    retitle(story, "A day in May", "A day in Jun")
    os.utime(story, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(story).st_size == before.st_size
    records, _ = load(loader, {"content/topics/alpha.yaml"})  # the watcher saw nothing else
    assert "stories/may-day:A day in Jun 2023" in records


def test_the_loaders_patched_fingerprints_match_fresh_ones(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    loader = Loader(site)

    def same_as_fresh() -> None:
        load(loader, None)
        fresh = Loader(site)
        load(fresh, None)
        assert loader.fingerprints() == fresh.fingerprints()

    same_as_fresh()
    retitle(site / "content/stories/may-day.yaml", "title: ", "title: Edited ")
    same_as_fresh()
    # The same id in two files (an error the build reports), then one of them gone.
    story = (site / "content/stories/may-day.yaml").read_text()
    write_files(site, {"content/stories/twin.yaml": "id: may-day\n" + story})
    same_as_fresh()
    write_files(site, {"content/stories/twin.yaml": None})
    same_as_fresh()
    write_files(site, {"content/stories/may-day.yaml": None})
    load(loader, None)  # two loads before the fingerprints are asked for
    write_files(site, {"content/stories/later.yaml": story})
    same_as_fresh()


def test_serve_style_builds_save_the_cache_only_when_asked(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    builder = Builder(site, tmp_path / "out")
    builder.autosave = False
    assert builder.build(AS_OF).ok
    assert not any((site / ".site-gen-cache").glob("*.pickle"))
    builder.save()
    assert any((site / ".site-gen-cache").glob("*.pickle"))
    # A later builder starts from what was saved: nothing to write.
    again = Builder(site, tmp_path / "out").build(AS_OF)
    assert again.ok and not again.written


def test_views_made_by_a_failed_build_are_not_kept(tmp_path: Path) -> None:
    theme = Path(__file__).resolve().parent.parent / "templates" / "story.html"
    # A theme whose story page fails for one title: a content change can fail a build.
    story = theme.read_text(encoding="utf-8").replace(
        "{% block content %}",
        '{% block content %}{% if story.title == "Boom" %}{{ no_such_name }}{% endif %}',
        1,
    )
    site = fixture_site(tmp_path / "site", {"templates/story.html": story})
    builder = Builder(site, tmp_path / "out")
    assert builder.build(AS_OF).ok
    may_day = site / "content/stories/may-day.yaml"
    original = may_day.read_text(encoding="utf-8")
    before = site / "content/stories/before-vote.yaml"
    before_text = before.read_text(encoding="utf-8")
    # One story edited and another that breaks its page: the build fails...
    retitle(may_day, "title: ", "title: Passing ")
    before.write_text(re.sub(r"(?m)^title: .*$", "title: Boom", before_text), encoding="utf-8")
    assert not builder.build(AS_OF).ok
    # ...and both undone: the pages must not show the edit the failed build saw.
    may_day.write_text(original, encoding="utf-8")
    before.write_text(before_text, encoding="utf-8")
    assert builder.build(AS_OF).ok
    # Another edit remakes the timeline pages that show the first story.
    retitle(site / "content/stories/corrected.yaml", "title: ", "title: Later ")
    assert builder.build(AS_OF).ok
    got = tree(tmp_path / "out")
    assert not any(b"Passing" in data for data in got.values())
    assert got == fresh(site, tmp_path / "fresh")


def test_warming_up_keeps_views_and_changes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = fixture_site(tmp_path / "site")
    builder = Builder(site, tmp_path / "out")
    monkeypatch.setattr(produce, "PARALLEL_ROUTES", 1)  # made by workers, as a big site's first build
    assert builder.build(AS_OF).ok
    monkeypatch.undo()
    assert not builder.views.views
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*") if p.is_file()}
    rounds = 0
    while builder.warm(0.01):
        rounds += 1
        assert rounds < 10_000
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert after == before  # nothing written
    assert builder.views.views and builder.reuse.kept
    assert not builder.warm(0.01)  # nothing left until the next build
    # What was kept ahead of an edit is dropped where the edit reaches.
    retitle(site / "content/topics/alpha.yaml", "title: Alpha affair", "title: Alpha warmed")
    assert builder.build(AS_OF).ok
    assert tree(tmp_path / "out") == fresh(site, tmp_path / "fresh")


def restarted(tmp_path: Path) -> tuple[Path, Path, Builder]:
    """The fixture site built by a last session, and a builder as serve's started
    again on it: its first build answered by the quick check, nothing loaded."""
    site = fixture_site(tmp_path / "site")
    out = tmp_path / "out"
    assert Builder(site, out).build(AS_OF).ok  # the last session
    builder = Builder(site, out)
    builder.autosave = False  # as serve's: saved when the editor pauses
    assert builder.build(AS_OF).written == []  # from the quick check
    assert builder.unprimed and not builder.views.views
    return site, out, builder


def test_a_builder_started_on_a_current_cache_primes_then_warms_up(tmp_path: Path) -> None:
    """serve restarted: the quick check answers its first build with nothing loaded;
    while the editor pauses, `prime()` loads the site (writing nothing) and the
    warm-up prepares the pages, so that the first edit starts as the next ones do."""
    site, out, builder = restarted(tmp_path)
    once = Builder(site, out)
    once.keep_views = False  # as `build`: it never builds again
    assert once.build(AS_OF).written == [] and not once.unprimed
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    cache = site / ".site-gen-cache"
    saved = {p: p.stat().st_mtime_ns for p in cache.rglob("*.pickle")}
    report = builder.prime()
    assert report.ok and report.written == [] and report.removed == []
    assert not builder.unprimed
    builder.save()  # nothing changed: the cache read back is still the site's
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*.pickle")} == saved
    rounds = 0
    while builder.warm(0.01):
        rounds += 1
        assert rounds < 10_000
    assert builder.views.views and builder.reuse.kept
    # each warmed page's inputs, read back as a tuple, are now the set an edit compares with
    warmed = [path for path in builder.deps.deps if path in ("index.html", "timeline/index.html")]
    assert len(warmed) == 2 and all(isinstance(builder.deps.deps[path], frozenset) for path in warmed)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before
    retitle(site / "content/stories/may-day.yaml", "title: ", "title: Primed ")
    report = builder.build(AS_OF, hint={"content/stories/may-day.yaml"})
    assert report.ok and report.written
    assert not builder.unprimed  # a build that loaded leaves nothing to prime
    assert tree(out) == fresh(site, tmp_path / "fresh")


def test_an_edit_before_the_first_pause_after_a_restart_still_leaves_pages_to_warm(tmp_path: Path) -> None:
    """serve restarted, and the editor saves before any pause: that edit's build loads
    the site and makes a few pages; the others are still prepared while idle."""
    site, out, builder = restarted(tmp_path)
    retitle(site / "content/stories/may-day.yaml", "title: ", "title: Early ")
    report = builder.build(AS_OF, hint={"content/stories/may-day.yaml"})
    assert report.ok and 0 < report.rendered < report.pages / 2 and not builder.unprimed
    made = len(builder.views.views)
    assert builder.warm(0.0)  # one page prepared, more to come
    while builder.warm(0.01):
        pass
    assert len(builder.views.views) > made
    retitle(site / "content/topics/alpha.yaml", "title: Alpha affair", "title: Alpha early")
    assert builder.build(AS_OF).ok
    assert tree(out) == fresh(site, tmp_path / "fresh")


def test_priming_builds_a_change_that_slipped_in_since_the_quick_check(tmp_path: Path) -> None:
    site, out, builder = restarted(tmp_path)
    retitle(site / "content/stories/may-day.yaml", "title: ", "title: Slipped ")
    report = builder.prime()
    assert report.ok and "stories/may-day/index.html" in report.written
    assert tree(out) == fresh(site, tmp_path / "fresh")
    builder.save()
    again = Builder(site, out)
    assert again.build(AS_OF).written == []  # the change reached the cache too


def test_an_edit_in_the_middle_of_a_warm_up_leaves_no_stale_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = fixture_site(tmp_path / "site")
    builder = Builder(site, tmp_path / "out")
    monkeypatch.setattr(produce, "PARALLEL_ROUTES", 1)
    assert builder.build(AS_OF).ok
    monkeypatch.undo()
    assert builder.warm(0.0)  # one page prepared, more to come
    retitle(site / "content/topics/alpha.yaml", "title: Alpha affair", "title: Alpha midway")
    assert builder.build(AS_OF).ok
    while builder.warm(0.01):  # goes on from the new build's site
        pass
    retitle(site / "content/stories/corrected.yaml", "title: ", "title: After ")
    assert builder.build(AS_OF).ok
    got = tree(tmp_path / "out")
    assert b"Alpha affair" not in got["timeline/index.html"]
    assert got == fresh(site, tmp_path / "fresh")


def test_workers_that_start_their_views_afresh_make_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page worker that keeps too many views drops them after a batch (a big site);
    the views made again are the same, and so are the pages and their inputs."""
    site = fixture_site(tmp_path / "site")
    monkeypatch.setattr(produce, "PARALLEL_ROUTES", 1)
    monkeypatch.setattr(produce, "views_kept", lambda *args: 0)  # afresh after every batch
    monkeypatch.setattr(produce, "CHUNK", 2)
    afresh = Builder(site, tmp_path / "afresh")
    assert afresh.build(AS_OF).ok
    monkeypatch.setattr(produce, "PARALLEL_ROUTES", 10**9)
    one = Builder(site, tmp_path / "one", cache=False)
    assert one.build(AS_OF).ok
    assert tree(tmp_path / "afresh") == tree(tmp_path / "one")
    assert {path: set(keys) for path, keys in afresh.deps.deps.items()} == {
        path: set(keys) for path, keys in one.deps.deps.items()
    }


def test_pages_made_by_workers_are_the_bytes_one_process_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = fixture_site(tmp_path / "site")
    monkeypatch.setattr(produce, "PARALLEL_ROUTES", 1)  # every build's pages by forked workers
    monkeypatch.setattr(produce, "CHUNK", 3)
    assert Builder(site, tmp_path / "workers", cache=False).build(AS_OF).ok
    monkeypatch.setattr(produce, "PARALLEL_ROUTES", 10**9)
    assert Builder(site, tmp_path / "one", cache=False).build(AS_OF).ok
    assert tree(tmp_path / "workers") == tree(tmp_path / "one")
    # The workers' batches: each route once; a page showing many records alone.
    from site_gen.routes import Urls, plan
    from site_gen.site import load_site

    loaded = load_site(site, as_of=AS_OF).site
    assert loaded is not None
    routes = plan(loaded, Urls(loaded, None))
    batches = produce._chunks(routes)
    assert sorted(r.path for batch in batches for r in batch) == sorted(r.path for r in routes)
    assert all(len(batch) == 1 for batch in batches if batch[0].view not in produce.RECORD_VIEWS)
    assert {r.view for batch in batches if len(batch) > 1 for r in batch} <= produce.RECORD_VIEWS


def test_the_cache_of_a_removed_output_folder_is_pruned(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    gone, kept = tmp_path / "gone", tmp_path / "kept"
    assert Builder(site, gone).build(AS_OF).ok
    cache = site / ".site-gen-cache"
    before = {p.name for p in cache.iterdir()}
    assert any(name.endswith(".out") for name in before)
    shutil.rmtree(gone)
    assert Builder(site, kept).build(AS_OF).ok
    after = {p.name for p in cache.iterdir()}
    stems = {name.split(".")[0] for name in after if name.startswith("build-")}
    assert len(stems) == 1, after  # only the kept folder's cache is left
    assert (cache / f"{stems.pop()}.out").read_text(encoding="utf-8").strip() == str(kept.resolve())
    folders = {name.split(".")[0] for name in after if name.startswith("written-")}
    assert folders == {written_marker(cache, kept.resolve()).name}, after  # its marker and lock only
    again = Builder(site, kept).build(AS_OF)  # and it still works
    assert again.ok and not again.written


@pytest.mark.parametrize("hinted", [False, True])
def test_links_are_patched_for_edits_that_keep_them_and_made_anew_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hinted: bool
) -> None:
    """With a watcher's hint only the hinted files' records are looked at (see
    index._unique_patched); without, every record is compared."""
    site = fixture_site(tmp_path / "site")
    builder = Builder(site, tmp_path / "out")
    hint = {"content/stories/before-vote.yaml"} if hinted else None
    assert builder.build(AS_OF).ok
    patched: list[bool] = []
    real = index._patched

    def spy(*args: object) -> object:
        found = real(*args)  # type: ignore[arg-type]
        patched.append(found is not None)
        return found

    monkeypatch.setattr(index, "_patched", spy)
    story = site / "content/stories/before-vote.yaml"
    edits = [
        ("summary: Shown with its date text.", "summary: Shown, now edited.", True),
        # a new title moves the story among the day's stories: its lists are sorted again
        ("title: Talks before the vote", "title: Aardvark talks before the vote", True),
        ("date: 2025-11-20\n", "date: 2025-11-02\n", True),
        ("topics: [alpha, beta]", "topics: [beta]", False),  # a topic's list changes: made anew
        ("people: [ann]", "people: []", False),  # a backlink goes
        ("date: 2025-11-02\n", "date: 2024-03-02\n", True),  # to another year's timeline page
    ]
    for old, new, expect_patch in edits:
        retitle(story, old, new)
        report = builder.build(AS_OF, hint)
        assert report.ok, [str(p) for p in report.problems]
        assert patched[-1] is expect_patch, (old, new)
        assert tree(tmp_path / "out") == fresh(site, tmp_path / "fresh"), (old, new)
    # A story made a draft leaves the published site: made anew.
    retitle(site / "content/stories/may-day.yaml", "summary: The first of May.", "summary: May.\ndraft: true")
    assert builder.build(AS_OF, {"content/stories/may-day.yaml"} if hinted else None).ok
    assert patched[-1] is False
    assert tree(tmp_path / "out") == fresh(site, tmp_path / "fresh")
    # An id taken twice in an edited file is reported, and the build after the fix is right.
    events = site / "content/events/events.yaml"
    good = events.read_text(encoding="utf-8")
    first_id = re.search(r"id: (\S+)", good).group(1)  # type: ignore[union-attr]
    events.write_text(good + f"- id: {first_id}\n  title: Again\n  date: 2025-12-06\n  topics: [alpha]\n")
    hint = {"content/events/events.yaml"} if hinted else None
    report = builder.build(AS_OF, hint)
    assert not report.ok and any("duplicate" in p.message for p in report.problems)
    events.write_text(good, encoding="utf-8")
    assert builder.build(AS_OF, hint).ok
    assert tree(tmp_path / "out") == fresh(site, tmp_path / "fresh")


def test_patched_year_slots_match_fresh_ones() -> None:
    import random

    from site_gen.model import Record
    from site_gen.routes import YearSlots

    rng = random.Random(3)
    years: dict[int, list[int]] = {}

    def record(n: int) -> Record:
        years[n] = sorted(rng.sample(range(2019, 2026), rng.randint(0, 2)))
        return Record("stories", f"s{n}", {"n": n}, f"s{n}.yaml", 1, 1)

    def years_of(r: Record) -> list[int]:
        return years[r.values["n"]]

    serial = 0
    records = []
    for _ in range(200):
        serial += 1
        records.append(record(serial))
    slots = YearSlots(records, years_of)
    for _ in range(40):
        records = list(records)
        for _ in range(rng.choice([1, 2, 5, 80])):  # 80: more than are patched
            serial += 1
            records[rng.randrange(len(records))] = record(serial)
        if rng.random() < 0.1:
            records.pop()
        slots = slots.patched(records, years_of)
        fresh = YearSlots(records, years_of)
        assert slots.members == fresh.members
        assert all(slots.of(y) == fresh.of(y) for y in range(2018, 2027))


def test_only_the_cache_shards_of_changed_files_are_written_again(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    for path in (site / "content").rglob("*.yaml"):  # saved a while ago: their stat is trusted
        os.utime(path, (path.stat().st_atime - 60, path.stat().st_mtime - 60))
    out = tmp_path / "out"
    assert Builder(site, out).build(AS_OF).ok
    cache = site / ".site-gen-cache"

    def shards() -> set[str]:
        return {p.name for p in cache.glob("build-*.records-*.pickle")}

    before = shards()
    assert len(before) == 16
    retitle(site / "content/stories/may-day.yaml", "title: ", "title: Sharded ")
    assert Builder(site, out).build(AS_OF).ok
    after = shards()
    assert len(after) == 16 and len(after - before) == 1  # one shard made anew, the old one gone
    # A shard gone missing: the next build makes every page again, correctly.
    (cache / sorted(after)[0]).unlink()
    retitle(site / "content/stories/may-day.yaml", "title: Sharded ", "title: Again ")
    report = Builder(site, out).build(AS_OF)
    assert report.ok and tree(out) == fresh(site, tmp_path / "ref")
    assert len(shards()) == 16


@pytest.mark.parametrize("hinted", [True, False])
def test_a_storys_quotes_move_with_the_storys_topics(tmp_path: Path, hinted: bool) -> None:
    """A quote with a story has the story's topics: editing only the story moves the
    quote from one topic's page (and feed, and TimelineJS file) to another's."""
    site = fixture_site(tmp_path / "site")
    out = tmp_path / "out"
    builder = Builder(site, out)
    builder.trust_output = hinted
    assert builder.build(AS_OF).ok
    moves = [("topics: [alpha, beta]", "topics: [gamma]"), ("topics: [gamma]", "topics: [beta, delta]")]
    for old, new in moves:
        retitle(site / "content/stories/before-vote.yaml", old, new)
        report = builder.build(AS_OF, {"content/stories/before-vote.yaml"} if hinted else None)
        assert report.ok and tree(out) == fresh(site, tmp_path / "ref")


def test_the_home_pages_kept_lists_follow_edits_in_and_out_of_the_window(tmp_path: Path) -> None:
    """The home page keeps "what moved", "what's next" and the quotes said so far as
    whole lists between builds and makes again only the edited records' parts: a
    story moved into the recent window and out again, a revision dated in it, an
    event moved to the future, a quote moved past the as-of date, all as a fresh
    build shows them."""
    site = fixture_site(tmp_path / "site")
    out = tmp_path / "out"
    builder = Builder(site, out)
    builder.trust_output = True
    assert builder.build(AS_OF).ok
    edits = [
        ("stories/old-delta.yaml", "date: 2024-01-15", "date: 2025-11-28"),  # into the window
        ("stories/may-day.yaml", "date: 2023-05-01", "date: 2023-05-01\nupdated: 2025-11-27"),
        ("stories/old-delta.yaml", "date: 2025-11-28", "date: 2024-01-15"),  # out again
        ("events/events.yaml", "date: 2023-05\n", "date: 2026-01\n"),  # now upcoming
        ("quotes/ann-old.yaml", "date: 2023-05-01", "date: 2026-02-01"),  # not said yet
        # The entries of unedited records name the topic: their kept parts are forgotten.
        ("topics/alpha.yaml", "title: Alpha affair", "title: Alpha scandal"),
    ]
    for name, old, new in edits:
        retitle(site / "content" / name, old, new)
        report = builder.build(AS_OF, {f"content/{name}"})
        assert report.ok, [str(p) for p in report.problems]
        assert tree(out) == fresh(site, tmp_path / "ref"), name
        assert "index.html" in report.written
    kept = builder.views.lists[("home", "moved")]
    retitle(site / "content/stories/may-day.yaml", "title: ", "title: Again ")
    assert builder.build(AS_OF, {"content/stories/may-day.yaml"}).ok
    # Patched where the edit was, not made whole: the same list, with the new title in it.
    assert builder.views.lists[("home", "moved")] is kept
    home = (out / "index.html").read_text(encoding="utf-8")
    assert "Again " in home and "Alpha scandal" in home and "Alpha affair" not in home
    assert tree(out) == fresh(site, tmp_path / "ref")


def test_a_kept_timeline_order_patched_for_new_entry_lists_is_the_full_sort() -> None:
    """produce._reordered moves the entries of the lists that changed; the result is
    what sorting every entry again gives, whatever the edits."""
    import random
    from types import SimpleNamespace

    from site_gen.views import entry_order

    rng = random.Random(3)

    def entries(record: int) -> list[tuple[tuple[int, int], SimpleNamespace]]:
        kinds = rng.sample(["story", "event", "question-raised", "question-deadline"], rng.randint(0, 3))
        return [((rng.randint(0, 40), record), SimpleNamespace(kind=kind)) for kind in kinds]

    lists = [entries(record) for record in range(200)]
    keyed = sorted((pair for entry_list in lists for pair in entry_list), key=entry_order)
    for _ in range(200):
        new = list(lists)
        for place in rng.sample(range(len(new)), rng.randint(0, 5)):
            new[place] = entries(place)  # a record's entries made again: new dates, kinds
        patched = produce._reordered(lists, keyed, new)
        assert patched is not None
        expected = sorted((pair for entry_list in new for pair in entry_list), key=entry_order)
        assert [id(e) for _, e in patched] == [id(e) for _, e in expected]
        lists, keyed = new, patched
    assert produce._reordered(lists, keyed, lists[:-1]) is None  # a record more or less: sorted anew


def test_moved_places_finds_every_other_object_or_gives_up() -> None:
    import random

    from site_gen.places import moved_places

    rng = random.Random(5)
    for _ in range(300):
        old = [[rng.randint(0, 3)] for _ in range(rng.randint(0, 300))]
        new = list(old)
        for place in rng.sample(range(len(new)), min(len(new), rng.randint(0, 8))):
            new[place] = list(new[place])  # an equal object is still another object
        expected = [place for place, (a, b) in enumerate(zip(old, new)) if a is not b]
        assert moved_places(old, new, 8) == expected
        assert moved_places(old, new, len(expected) - 1) is None or not expected
        assert moved_places(old, new[:-1], 8) is None or not new  # another length


def test_a_places_memo_compares_each_pair_of_lists_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from site_gen import places

    passes = []
    real = places.moved_places
    monkeypatch.setattr(places, "moved_places", lambda *args: passes.append(args) or real(*args))
    old, new = [object() for _ in range(5)], []
    new = old[:2] + [object()] + old[3:]
    memo = places.PlacesMemo()
    assert memo(old, new, 8) == memo(old, new, 8) == [2]  # once for both kept lists
    assert memo(new, old, 8) == [2] and memo(old, new, 0) is None  # other lists, another limit
    assert len(passes) == 3


def test_kept_views_note_the_builders_own_key_objects(tmp_path: Path) -> None:
    """A page's inputs are compared with its last ones after each edit: made of the
    builder's one object per key, the views' inputs make that an identity check."""
    site, builder = edited_once(tmp_path)
    kept = [deps for _, deps in builder.views.views.values()]
    assert kept and any(kept)
    canon = builder._keys
    assert all(canon.get(key) is key for deps in kept for key in deps)
    retitle(site / "content/stories/may-day.yaml", "title: Kept ", "title: Kept again ")
    assert builder.build(AS_OF).ok
    assert tree(tmp_path / "out") == fresh(site, tmp_path / "ref")


def test_a_hinted_load_gives_the_records_in_the_order_a_fresh_load_does(tmp_path: Path) -> None:
    """A hinted load patches the last list where a file's records were, while the file
    holds as many; otherwise it joins every file's records again."""
    site = fixture_site(tmp_path / "site")
    events = site / "content/events/events.yaml"
    loader = Loader(site)
    loader.load(Problems())

    def same_as_fresh(hint: set[str]) -> None:
        records, _ = loader.load(Problems(), hint)
        expected, _ = Loader(site).load(Problems())
        assert [(r.kind, r.id, r.values) for r in records] == [(r.kind, r.id, r.values) for r in expected]

    retitle(events, "title: Summit", "title: Summit moved")  # as many records: patched
    same_as_fresh({"content/events/events.yaml"})
    retitle(site / "content/stories/may-day.yaml", "title: ", "title: Edited ")
    same_as_fresh({"content/stories/may-day.yaml"})
    extra = "- id: extra\n  title: Extra\n  date: 2024-02-02\n  topics: [alpha]\n"
    events.write_text(events.read_text() + extra)
    same_as_fresh({"content/events/events.yaml"})  # one more record: joined again
    retitle(events, "title: Hearing", "title: Hearing delayed")
    retitle(site / "content/stories/may-day.yaml", "title: Edited ", "title: Edited twice ")
    same_as_fresh({"content/events/events.yaml", "content/stories/may-day.yaml"})


def test_the_timeline_years_of_every_kind_are_worked_out_before_any_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the build's own process, so that forked page workers share them and the next
    build (an edit while serving) patches them instead of working them out again."""
    from site_gen.routes import TIMELINE_KINDS

    monkeypatch.setattr(produce, "PARALLEL_ROUTES", 1)  # every page made by forked workers
    builder = Builder(fixture_site(tmp_path / "site"), tmp_path / "out")
    assert builder.build(AS_OF).ok
    for kind in TIMELINE_KINDS:
        assert f"slots:timeline:{kind}" in builder._urls_kept


def routes_through(monkeypatch: pytest.MonkeyPatch, method: str) -> list[str]:
    """The paths of the routes passed to Producer.`method` from now on (it still runs)."""
    seen: list[str] = []
    real = getattr(produce.Producer, method)

    def noting(self: produce.Producer, route: produce.Route, *rest: object) -> object:
        seen.append(route.path)
        return real(self, route, *rest)

    monkeypatch.setattr(produce.Producer, method, noting)
    return seen


def test_a_builder_that_keeps_no_views_builds_the_same_bytes_and_keeps_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `build` command's builder makes the views its pages share for one build, unindexed."""
    site = fixture_site(tmp_path / "site")
    builder = Builder(site, tmp_path / "out")
    builder.keep_views = False
    compared = routes_through(monkeypatch, "_kept_page")
    assert builder.build(AS_OF).ok
    for title in ("Edited ", "Edited again "):
        retitle(site / "content/stories/may-day.yaml", "title: ", f"title: {title}")
        report = builder.build(AS_OF)
        assert report.ok and 0 < report.rendered < report.pages / 2
        assert not builder.views.views and not builder.reuse.kept  # nothing kept for a next build
        assert builder.deps._users is None  # nor the index from each input to its pages
        assert not compared  # nor a list page's view, to compare with the next one
        assert not builder._keys and builder._planned is None  # nor its inputs' keys, nor its plan
        assert tree(tmp_path / "out") == fresh(site, tmp_path / "ref")
        compared.clear()  # (the reference build's builder builds again, as serve's)


class Item:
    """A record as a kept list sees one: its kind and id (an edit makes a new object)."""

    def __init__(self, kind: str, record_id: str) -> None:
        self.kind, self.id = kind, record_id


def test_a_kept_list_patches_past_edits_of_records_it_does_not_hold() -> None:
    """An edit forgets its record's views; a list that holds the record makes its place
    again, and a list that does not (another year's timeline) is patched, not made
    whole: it used to be made whole at its next build."""
    memo = ViewMemo()
    ours = [Item("stories", f"s{n}") for n in range(5)]
    theirs = [Item("stories", f"t{n}") for n in range(5)]
    lists = {}
    for user, records in (("timeline/2023/", ours), ("timeline/2024/", theirs)):
        values = [f"view of {record.id}" for record in records]
        lists[user] = KeptList("entries", records, values, set())
        memo.watch(lists[user], user)
    for record in ours + theirs:
        memo.put(("entries", record.kind, record.id), "view", [("record", record.kind, record.id)])
    memo.forget(set(), {("stories", "s2")})  # s2 edited: a new object in its list
    edited = ours[:2] + [Item("stories", "s2")] + ours[3:]
    assert lists["timeline/2023/"].changed(edited, 64) == [2]
    assert lists["timeline/2024/"].changed(theirs, 64) == []
    # a record new in a list is at a place whose object differs
    added = theirs[:4] + [Item("stories", "s2")]
    assert lists["timeline/2024/"].changed(added, 64) is None


OLD_ANN = "content/stories/old-ann.yaml"


def with_old_ann(tmp_path: Path) -> Path:
    """The fixture site with an old story of Ann's: her page lists it, the home page does not."""
    story = "title: Ann in 2023\ndate: 2023-06-01\ntopics: [delta]\npeople: [ann]\nsummary: Old news.\n"
    return fixture_site(tmp_path / "site", {OLD_ANN: story})


def new_summary(site: Path) -> None:
    retitle(site / OLD_ANN, "summary: Old news.", "summary: Old news, told again.")


def rendering(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the pages rendered from now on."""
    return routes_through(monkeypatch, "_render")


def test_a_list_page_whose_view_an_edit_left_alone_is_not_rendered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = with_old_ann(tmp_path)
    builder = Builder(site, tmp_path / "out")
    assert builder.build(AS_OF).ok
    rendered = rendering(monkeypatch)
    # Ann's page lists the story by its title and date: a new summary leaves it as it was.
    new_summary(site)
    report = builder.build(AS_OF)
    assert report.ok and "people/ann/index.html" in builder.deps.deps
    assert "stories/old-ann/index.html" in rendered
    assert "people/ann/index.html" not in rendered, rendered
    assert tree(tmp_path / "out") == fresh(site, tmp_path / "fresh")
    # A new title shows there: the page is rendered again.
    rendered.clear()
    retitle(site / OLD_ANN, "title: Ann in 2023", "title: Ann, early on")
    assert builder.build(AS_OF).ok
    assert "people/ann/index.html" in rendered
    got = tree(tmp_path / "out")
    assert "Ann, early on" in got["people/ann/index.html"].decode()
    assert got == fresh(site, tmp_path / "fresh")


def test_a_list_page_is_rendered_again_when_its_file_no_longer_holds_what_was_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The view kept is compared only while the file is the one rendered from it."""
    site = with_old_ann(tmp_path)
    out = tmp_path / "out"
    builder = Builder(site, out)
    assert builder.build(AS_OF).ok
    page = out / "people/ann/index.html"
    page.write_text("edited by hand", encoding="utf-8")
    rendered = rendering(monkeypatch)
    new_summary(site)
    assert builder.build(AS_OF).ok
    assert "people/ann/index.html" in rendered
    assert tree(out) == fresh(site, tmp_path / "fresh")


def test_warming_up_keeps_the_views_list_pages_are_compared_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = with_old_ann(tmp_path)
    builder = Builder(site, tmp_path / "out")
    monkeypatch.setattr(produce, "PARALLEL_ROUTES", 1)  # made by workers: nothing kept
    assert builder.build(AS_OF).ok
    monkeypatch.undo()
    assert not builder.views.pages
    while builder.warm(1.0):
        pass
    assert "people/ann/index.html" in builder.views.pages
    assert "stories/old-ann/index.html" not in builder.views.pages  # a story's page shows it whole
    rendered = rendering(monkeypatch)
    new_summary(site)
    assert builder.build(AS_OF).ok
    assert "people/ann/index.html" not in rendered and "stories/old-ann/index.html" in rendered
    assert tree(tmp_path / "out") == fresh(site, tmp_path / "fresh")


def test_same_view_is_same_types_and_values_all_the_way_down() -> None:
    day = DateView("2025-11-20", "20 November 2025", "2025-11-20", "2025-11-20", False)
    link = Link("stories/x/", "X")
    assert same_view((link, day, {"a": [1, "b"]}), (Link("stories/x/", "X"), day, {"a": [1, "b"]}))
    # Equal in Python, written differently in a page:
    assert not same_view((1,), (True,))
    assert not same_view(Link("a/", Markup("<b>x</b>")), Link("a/", "<b>x</b>"))
    assert not same_view({"a": 1, "b": 2}, {"b": 2, "a": 1})  # shown in their order
    assert not same_view([link], [link, link]) and not same_view(link, Link("stories/y/", "X"))
    # A list may have changed since it was last seen: compared by what it holds, even when
    # it is the same object.
    held = [1]
    kept = (held,)
    assert same_view(kept, kept)
    held.append(2)
    assert not same_view(kept, (held[:1],))

    class Unknown:
        def __eq__(self, other: object) -> bool:
            return True

    thing = Unknown()
    assert same_view(thing, thing) and not same_view(thing, Unknown())  # when unsure, not the same


def test_the_kept_view_of_a_list_page_no_longer_made_is_forgotten(tmp_path: Path) -> None:
    site = with_old_ann(tmp_path)
    builder = Builder(site, tmp_path / "out")
    assert builder.build(AS_OF).ok
    assert "topics/delta/index.html" in builder.views.pages
    delta = ("content/topics/delta.yaml", "content/stories/old-delta.yaml", OLD_ANN)
    gone: dict[str, str | None] = dict.fromkeys(delta)
    write_files(site, gone)
    assert builder.build(AS_OF).ok
    assert "topics/delta/index.html" not in builder.views.pages
    assert "topics/alpha/index.html" in builder.views.pages  # the others are kept
    assert tree(tmp_path / "out") == fresh(site, tmp_path / "fresh")


def provenance_warnings(report: object) -> list[str]:
    return sorted(str(p) for p in report.warnings if "provenance" in p.message)  # type: ignore[attr-defined]


def test_an_edit_checks_only_the_changed_quotes_for_provenance_yet_warns_as_a_fresh_build(
    tmp_path: Path,
) -> None:
    """A hinted build looks only at the changed quotes for a story or source; the
    warnings are those a fresh build gives, as quotes lose, gain or take provenance."""
    site = fixture_site(tmp_path / "site")
    builder = Builder(site, tmp_path / "out")
    assert builder.build(AS_OF).ok

    def edit(rel: str, text: str | None) -> list[str]:
        write_files(site, {rel: text})
        report = builder.build(AS_OF, hint={rel})
        assert report.ok, [str(p) for p in report.errors]
        expected = Builder(site, tmp_path / "fresh", cache=False).build(AS_OF)
        shutil.rmtree(tmp_path / "fresh")
        assert provenance_warnings(report) == provenance_warnings(expected)
        return provenance_warnings(report)

    said = "text: We will see.\nspeaker: ann\ndate: 2025-11-20\ntopics: [alpha]\n"
    assert edit("content/quotes/ann-says.yaml", said) == [
        "content/quotes/ann-says.yaml:1:1: warning: quote has no provenance; "
        "add story: or source: so readers can check it"
    ]
    assert edit("content/quotes/ann-says.yaml", said + "draft: true\n") == []  # not published
    new = "text: New.\nspeaker: ann\ndate: 2025-11-21\ntopics: [beta]\n"
    assert len(edit("content/quotes/unsourced.yaml", new)) == 1
    assert edit("content/quotes/unsourced.yaml", None) == []  # deleted
    assert edit("content/quotes/ann-says.yaml", said + "source:\n  name: Example Wire\n") == []


def test_the_warm_up_after_a_first_build_makes_the_index_of_lists_the_next_edit_uses(tmp_path: Path) -> None:
    """The lists each record is in are indexed while the editor pauses, not by the first
    edit (about 35 ms at 10,000 stories); that edit is still a fresh build's bytes."""
    site = fixture_site(tmp_path / "site")
    builder = Builder(site, tmp_path / "out")
    assert builder.build(AS_OF).ok
    assert builder.deps._members is None  # a first build makes every page: no edit to look up
    while builder.warm(0.01):
        pass
    assert builder.deps._members is not None and builder.deps._members.holders
    retitle(site / "content/stories/may-day.yaml", "title: ", "title: Indexed ")
    assert builder.build(AS_OF, hint={"content/stories/may-day.yaml"}).ok
    assert tree(tmp_path / "out") == fresh(site, tmp_path / "fresh")


def test_the_warm_up_of_a_builder_started_on_its_cache_makes_the_lookups_an_edit_uses(tmp_path: Path) -> None:
    """build --watch started again on its cache after its output folder was deleted: the
    pages of each input, read back without them, are worked out while the editor
    pauses (80-350 ms at 10,000 stories), not by the first edit; that edit is still a
    fresh build's bytes."""
    site = fixture_site(tmp_path / "site")
    out = tmp_path / "out"
    assert Builder(site, out).build(AS_OF).ok  # the last session
    shutil.rmtree(out)
    builder = Builder(site, out)
    assert builder.build(AS_OF).ok
    assert builder.deps._users is None  # the inputs read back from the cache without them
    while builder.warm(0.01):
        pass
    assert builder.deps._users and builder.deps._members is not None
    retitle(site / "content/stories/may-day.yaml", "title: ", "title: Looked up ")
    assert builder.build(AS_OF, hint={"content/stories/may-day.yaml"}).ok
    assert tree(out) == fresh(site, tmp_path / "fresh")


def test_what_the_home_page_made_of_its_lists_is_kept_while_no_view_in_them_changed(tmp_path: Path) -> None:
    """The home page sorts what moved and what comes next out of a view per record of
    the whole site. An old story's new summary leaves those views the same objects:
    the sorted results are kept, not made again; a story in the recent window makes
    them again. Each build is a fresh build's bytes."""
    site = with_old_ann(tmp_path)
    builder = Builder(site, tmp_path / "out")
    assert builder.build(AS_OF).ok
    retitle(site / "content/stories/may-day.yaml", "title: ", "title: Kept ")  # lists kept from now on
    assert builder.build(AS_OF).ok

    def home_results() -> dict[str, tuple[int, object]]:
        found = {name: kept for (user, name, _), kept in builder.views.derived.items() if user == "home"}
        assert set(found) == {"moved", "next", "said"}
        return found

    before = home_results()
    new_summary(site)
    assert builder.build(AS_OF).ok
    after = home_results()
    assert all(after[name][1] is before[name][1] for name in before)
    assert tree(tmp_path / "out") == fresh(site, tmp_path / "fresh")
    recent = next(p for p in (site / "content/stories").glob("*.yaml") if "2025-11" in p.read_text())
    retitle(recent, "title: ", "title: Recent ")
    assert builder.build(AS_OF).ok
    assert home_results()["moved"][1] is not after["moved"][1]
    got = tree(tmp_path / "out")
    assert b"Recent " in got["index.html"]
    assert got == fresh(site, tmp_path / "fresh")
