"""The benchmark corpus is a valid site, and incremental builds of it equal fresh ones.

bench/gen_corpus.py makes the corpora bench/run.py measures; if its output
stopped passing `check`, the figures would measure an error path. The
equivalence test applies seeded random edits, additions, renames and
deletions of records (in list files and subfolders too) and of templates to
a small generated corpus, and compares every incremental build, through a
kept Builder (serve's path) and through fresh processes (build's path), with
a clean full build, byte for byte. Timing targets live in bench/run.py,
never here.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from site_gen.builder import Builder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import gen_corpus  # noqa: E402

AS_OF = "2025-11-20"


def site_gen(*args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    return subprocess.run(
        [sys.executable, "-m", "site_gen", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def clean_build(site: Path, target: Path, as_of: str = AS_OF) -> dict[str, bytes]:
    if target.exists():
        shutil.rmtree(target)
    report = Builder(site, target, cache=False).build(as_of)
    assert report.ok, [str(p) for p in report.problems]
    return tree(target)


def assert_same(got: dict[str, bytes], want: dict[str, bytes], history: list[str]) -> None:
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    differ = sorted(rel for rel in want if rel in got and got[rel] != want[rel])
    assert not (missing or extra or differ), {
        "history": history,
        "missing": missing,
        "extra": extra,
        "differ": differ,
    }


def test_generated_corpus_passes_check_and_builds(tmp_path: Path) -> None:
    site = tmp_path / "corpus"
    counts = gen_corpus.generate(50, site, seed=7)
    assert counts == {"topics": 1, "people": 3, "stories": 50, "quotes": 25, "questions": 5, "events": 5}
    files = sorted(p.relative_to(site).as_posix() for p in (site / "content").rglob("*.yaml"))
    assert any(f.startswith("content/quotes/lists/") for f in files), "some records live in list files"
    assert any(f.count("/") >= 4 for f in files), "some records live in subfolders"
    check = site_gen("check", "--site", site, "--strict", "--as-of", AS_OF)
    assert check.returncode == 0, check.stderr[-2000:]
    assert "0 errors, 0 warnings" in check.stderr
    build = site_gen("build", "--site", site, "--out", tmp_path / "out", "--as-of", AS_OF)
    assert build.returncode == 0, build.stderr[-2000:]
    stories = list((tmp_path / "out" / "stories").iterdir())
    assert len(stories) == 50 - sum(
        "draft: true" in p.read_text() for p in (site / "content/stories").rglob("*.yaml")
    )
    assert (tmp_path / "out" / "topics").is_dir() and (tmp_path / "out" / "data/briefing.json").is_file()


def test_generator_is_seeded(tmp_path: Path) -> None:
    gen_corpus.generate(30, tmp_path / "a", seed=3)
    gen_corpus.generate(30, tmp_path / "b", seed=3)
    gen_corpus.generate(30, tmp_path / "c", seed=4)
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert tree(tmp_path / "a") != tree(tmp_path / "c")


class CorpusEdits:
    """Seeded random changes to a generated corpus that keep it valid."""

    def __init__(self, site: Path, rng: random.Random) -> None:
        self.site, self.rng, self.serial = site, rng, 0

    def _referenced(self) -> set[str]:
        text = "".join(
            p.read_text()
            for kind in ("quotes", "questions", "events")
            for p in (self.site / "content" / kind).rglob("*.yaml")
        )
        return set(re.findall(r"(?m)^\s*(?:story: |- )([a-z0-9-]+)$", text))

    def _stories(self, free: bool = False) -> list[Path]:
        found = sorted((self.site / "content/stories").rglob("*.yaml"))
        if free:
            used = self._referenced()
            found = [p for p in found if p.stem not in used]
        return found

    def step(self) -> str:
        ops = (
            self.edit_summary,
            self.edit_title,
            self.move_date,
            self.add_story,
            self.rename_story,
            self.delete_story,
            self.move_story,
            self.edit_list_file,
            self.edit_topic,
            self.edit_person,
            self.template,
        )
        return self.rng.choice(ops)()

    def edit_summary(self) -> str:
        path = self.rng.choice(self._stories())
        text = path.read_text().replace("summary: |\n  ", f"summary: |\n  Edited {self.rng.random()}. ", 1)
        path.write_text(text)
        return f"summary {path.name}"

    def edit_title(self) -> str:
        path = self.rng.choice(self._stories())
        path.write_text(
            re.sub(
                r"(?m)^title: .*$", f'title: "Retitled {self.rng.randint(1, 999)}"', path.read_text(), count=1
            )
        )
        return f"title {path.name}"

    def move_date(self) -> str:
        path = self.rng.choice(self._stories())
        when = self.rng.choice(["2023-02-03", "2024-12", "2025-11-19", "2025~", "2025-11-20T08:00:00+09:00"])
        path.write_text(re.sub(r"(?m)^date: .*$", f"date: {when}", path.read_text(), count=1))
        return f"date {path.name} {when}"

    def add_story(self) -> str:
        self.serial += 1
        template = self.rng.choice(self._stories()).read_text()
        path = self.site / f"content/stories/new/added-{self.serial}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(template.replace("draft: true\n", ""))
        return f"add {path.name}"

    def rename_story(self) -> str:
        path = self.rng.choice(self._stories(free=True))
        self.serial += 1
        target = path.with_name(f"renamed-{self.serial}.yaml")
        path.rename(target)
        return f"rename {path.name} -> {target.name}"

    def move_story(self) -> str:
        path = self.rng.choice(self._stories())
        target = self.site / "content/stories/moved" / path.name
        target.parent.mkdir(exist_ok=True)
        path.rename(target)
        return f"move {path.name} to another folder"

    def delete_story(self) -> str:
        path = self.rng.choice(self._stories(free=True))
        path.unlink()
        return f"delete {path.name}"

    def edit_list_file(self) -> str:
        lists = sorted((self.site / "content/events").rglob("*.yaml"))
        path = self.rng.choice(lists)
        text = path.read_text()
        text = re.sub(
            r'(?m)^  title: "(.*?)"$', lambda m: f'  title: "{m.group(1)} (revised)"', text, count=1
        )
        path.write_text(text)
        return f"event list {path.name}"

    def edit_topic(self) -> str:
        path = self.rng.choice(sorted((self.site / "content/topics").rglob("*.yaml")))
        status = self.rng.choice(["active", "dormant", "closed"])
        path.write_text(re.sub(r"(?m)^status: .*$", f"status: {status}", path.read_text(), count=1))
        return f"topic {path.name} {status}"

    def edit_person(self) -> str:
        path = self.rng.choice(sorted((self.site / "content/people").rglob("*.yaml")))
        path.write_text(
            re.sub(r"(?m)^name: .*$", f'name: "Person {self.rng.randint(1, 99)}"', path.read_text(), count=1)
        )
        return f"person {path.name}"

    def template(self) -> str:
        from site_gen.templatefiles import theme_dir

        name = self.rng.choice(["story.html", "topic.html", "base.html"])
        path = self.site / "templates" / name
        if path.exists():
            path.unlink()
            return f"template {name} back to the theme"
        path.parent.mkdir(exist_ok=True)
        text = (theme_dir() / name).read_text()
        path.write_text(
            text.replace("</main>", "<p>override</p></main>", 1)
            if name == "base.html"
            else text.replace("{% endblock %}", "<!-- override -->{% endblock %}", 1)
        )
        return f"template {name} overridden"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11])
def test_incremental_builds_of_a_generated_corpus_equal_clean_builds(tmp_path: Path, seed: int) -> None:
    site = tmp_path / "corpus"
    gen_corpus.generate(60, site, seed=seed)
    edits = CorpusEdits(site, random.Random(seed))
    kept = Builder(site, tmp_path / "kept", drafts=False)  # serve's path: one builder, kept
    history: list[str] = []
    for step in range(7):
        for _ in range(1 + step % 3):
            history.append(edits.step())
        report = kept.build(AS_OF)
        assert report.ok, (history, [str(p) for p in report.problems])
        fresh_process = Builder(site, tmp_path / "cli").build(AS_OF)  # build's path: state from the cache
        assert fresh_process.ok
        want = clean_build(site, tmp_path / "clean")
        assert_same(tree(tmp_path / "kept"), want, history)
        assert_same(tree(tmp_path / "cli"), want, history)
    again = kept.build(AS_OF)
    assert again.ok and not again.written and not again.removed


def test_rebuild_with_nothing_changed_reads_nothing_and_notices_tampering(tmp_path: Path) -> None:
    site, out = tmp_path / "corpus", tmp_path / "out"
    gen_corpus.generate(40, site, seed=5)
    assert Builder(site, out).build(AS_OF).ok
    again = Builder(site, out).build(AS_OF)  # a fresh builder: what a new `site-gen build` process does
    assert again.ok and not again.written and not again.removed and again.rendered == 0
    assert again.pages > 40 and again.outputs
    story = sorted((site / "content/stories").rglob("*.yaml"))[3]
    os.utime(story, ns=(story.stat().st_atime_ns, story.stat().st_mtime_ns + 5_000_000_000))
    touched = Builder(site, out).build(AS_OF)  # same bytes, new mtime: compared by content
    assert touched.ok and not touched.written and touched.rendered == 0
    page = next(p for p in sorted((out / "stories").rglob("index.html")))
    page.unlink()
    repaired = Builder(site, out).build(AS_OF)
    assert repaired.written == [page.relative_to(out).as_posix()]
    assert tree(out) == clean_build(site, tmp_path / "clean")


def test_bench_run_measures_every_step_on_a_small_corpus(tmp_path: Path) -> None:
    """bench/run.py itself, end to end at a small N: every row it promises is printed,
    and its own checks (a restarted serve answered by the quick check, edits that
    build) hold. The figures are not judged here: targets live in the benchmark."""
    (tmp_path / "out-60").mkdir()  # an earlier run's output: removed after this run's builds
    (tmp_path / "out-600-1").mkdir()  # a run at another size: kept
    run = bench_script(
        "run.py",
        *("--stories", "60", "--serve-edits", "2", "--watch-settle", "1", "--watch-edits", "2"),
        *("--work", str(tmp_path), "--json", str(tmp_path / "figures.json")),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for row in (
        "corpus read into the page cache",
        "cold build",
        "no-change rebuild",
        "one-story edit (fresh process)",
        "one-template edit (story.html)",
        "build --watch: first build",
        "build --watch: one-story edit x2",
        "serve path: one-story edit x2",
        "serve path: cycle collector",
        "serve restarted on its cache",
        "serve restarted: one-story edit x3",
        "peak, all processes together",
    ):
        assert row in run.stdout, (row, run.stdout)
    together = r"^cold build .* peak RSS (\d+) MB \(all processes together (\d+) MB\)$"
    cold = re.search(together, run.stdout, re.MULTILINE)
    assert cold is not None and int(cold[1]) > 0 and int(cold[2]) > 0, run.stdout
    figures = json.loads((tmp_path / "figures.json").read_text(encoding="utf-8"))
    assert figures["peak_tree_mb"] > 0
    assert len(figures["watch_edit_ms"]) == 2 and len(figures["watch_build_ms"]) == 2
    assert len(figures["restart_edit_ms"]) == 3 and figures["restart_prime_s"] > 0
    durations = ("serve_warm_s", "serve_collector_first_s", "restart_warm_s", "restart_collector_s")
    assert all(figures[name] >= 0 for name in durations), {name: figures[name] for name in durations}
    outputs = sorted(path.name for path in tmp_path.glob("out-*"))
    assert len(outputs) == 2 and outputs[1] == "out-600-1", outputs  # this run's, and the other size's
    assert (tmp_path / outputs[0] / "index.html").is_file()
    assert "earlier outputs removed" in run.stdout


def test_bench_linear_pairs_cold_builds_into_fresh_folders(tmp_path: Path) -> None:
    """bench/linear.py at a small N: three cold builds (small, big, small), each into a
    folder of its own that it removes, a one-story edit of the big one built with its
    cache, and the ratios, the peaks and the verdict printed."""
    (tmp_path / "linear-out-small-1-1").mkdir()  # left by a run that was stopped
    run = bench_script("linear.py", "--small", "30", "--big", "90", "--settle", "0", "--work", str(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    builds = [line.split() for line in run.stdout.splitlines() if line.startswith(("small-", "big "))]
    assert [b[0] for b in builds] == ["small-1", "big", "small-2"], run.stdout
    assert [b[1] for b in builds] == ["corpus-30-s1", "corpus-90-s1", "corpus-30-s1"]
    assert all(float(b[2]) > 0 for b in builds)
    edited = r"^big-edit +one story, cache kept +([0-9.]+) s .* RSS +(\d+) MiB +all processes +(\d+) MiB$"
    edit = re.search(edited, run.stdout, re.MULTILINE)
    assert edit is not None and float(edit[1]) > 0 and int(edit[2]) > 0 and int(edit[3]) > 0, run.stdout
    assert re.search(r"^peak RSS \(big-edit\) \d+ MiB$", run.stdout, re.MULTILINE), run.stdout
    # The memory target is judged on all the build's processes together.
    together = r"^peak, all processes \(big\) +(\d+) MiB \(target < 1907 MiB"
    assert re.search(together, run.stdout, re.MULTILINE), run.stdout
    assert "target <= 3.3x for 3x the stories" in run.stdout
    assert re.search(r"^targets +(met|NOT met)$", run.stdout, re.MULTILINE), run.stdout
    assert "removed 1 folders left by an earlier run; waiting 0 s" in run.stdout
    assert not list(tmp_path.glob("linear-out-*"))  # outputs removed after the builds, corpora kept
    assert (tmp_path / "corpus-90-s1" / "site.yaml").is_file()
    reads = re.findall(r"^read (corpus-\d+-s1) into the page cache: (\d+) files", run.stdout, re.MULTILINE)
    assert [name for name, _ in reads] == ["corpus-30-s1", "corpus-90-s1", "corpus-30-s1"], run.stdout
    assert all(int(files) > 30 for _, files in reads)


def test_bench_linear_limit_builds_the_big_corpus_in_a_memory_group(tmp_path: Path) -> None:
    """bench/linear.py --limit: the big corpus built cold once more inside a memory group
    (the kernel counts the build's files too); within an ample limit it builds, within one
    smaller than Python itself the out-of-memory killer ends it and the target is not met.
    Where no group can be made (not root, no cgroup memory controller), it says why."""
    args = ("--small", "20", "--big", "40", "--settle", "0", "--work", str(tmp_path))
    ample = bench_script("linear.py", *args, "--limit", "1000000000")
    assert ample.returncode == 0, ample.stdout + ample.stderr
    made = re.search(r"^big-limit in 1,000,000,000 bytes +(.*)$", ample.stdout, re.MULTILINE)
    assert made is not None, ample.stdout
    if made[1].startswith("not measured: "):
        assert "big build in" not in ample.stdout  # no verdict on the limit without a group
        return
    assert re.match(r"[0-9.]+ s +processor .* group charged +\d+ MiB at most$", made[1]), made[1]
    assert "big build in 1,000,000,000 bytes  built" in ample.stdout
    # Then one story edited and built with the cache, in a group of its own.
    edit = re.search(r"^big-limit-edit in 1,000,000,000 bytes +(.*)$", ample.stdout, re.MULTILINE)
    assert edit is not None and re.match(r"[0-9.]+ s +processor .* group charged", edit[1]), ample.stdout
    assert "big edit in 1,000,000,000 bytes   built" in ample.stdout
    tiny = bench_script("linear.py", *args, "--limit", "12000000")
    assert tiny.returncode == 0, tiny.stdout + tiny.stderr
    assert re.search(r"^big-limit in 12,000,000 bytes +killed by the out-of-memory killer", tiny.stdout, re.M)
    assert "big build in 12,000,000 bytes  killed: did not fit" in tiny.stdout
    assert "big-limit-edit" not in tiny.stdout  # nothing to edit after a killed build
    assert re.search(r"^targets +NOT met$", tiny.stdout, re.MULTILINE), tiny.stdout
    assert not list(tmp_path.glob("linear-out-*"))  # the limited build's folder removed too
    groups = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/memory"))
    leftover = [p for folder in groups for p in folder.glob("site-gen-bench-*")]
    assert not leftover, leftover  # each group removed after its build


def test_bench_run_limit_builds_in_a_memory_group(tmp_path: Path) -> None:
    """bench/run.py --limit: a cold build, then a one-story edit with its cache, each in
    a new memory group; within an ample limit both build, within one smaller than
    Python itself the cold build is killed and nothing is edited after it."""
    args = ("--stories", "30", "--serve-edits", "1", "--watch-settle", "0", "--watch-edits", "1")
    args += ("--work", str(tmp_path), "--json", str(tmp_path / "figures.json"))
    ample = bench_script("run.py", *args, "--limit", "1000000000")
    assert ample.returncode == 0, ample.stdout + ample.stderr
    cold = re.search(r"^cold build in 1,000,000,000 bytes +(.*)$", ample.stdout, re.MULTILINE)
    assert cold is not None, ample.stdout
    if cold[1].startswith("not measured: "):
        assert "limit_bytes" not in json.loads((tmp_path / "figures.json").read_text())
        return
    assert re.match(r"[0-9.]+ s +processor .* group charged +\d+ MiB at most$", cold[1]), cold[1]
    edit = re.search(r"^one-story edit in 1,000,000,000 bytes +[0-9.]+ s ", ample.stdout, re.MULTILINE)
    assert edit is not None, ample.stdout
    assert re.search(r"^in 1,000,000,000 bytes +built \(cold, edit\)$", ample.stdout, re.MULTILINE)
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert figures["limit_cold_built"] and figures["limit_edit_built"] and figures["limit_cold_s"] > 0
    tiny = bench_script("run.py", *args, "--limit", "12000000")
    assert tiny.returncode == 0, tiny.stdout + tiny.stderr
    killed = r"^cold build in 12,000,000 bytes +killed by the out-of-memory killer"
    assert re.search(killed, tiny.stdout, re.MULTILINE), tiny.stdout
    assert "one-story edit in 12,000,000 bytes" not in tiny.stdout
    assert re.search(r"^in 12,000,000 bytes +killed: did not fit \(cold\)$", tiny.stdout, re.MULTILINE)
    groups = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/memory"))
    assert not [p for folder in groups for p in folder.glob("site-gen-bench-*")]


def bench_script(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python bench/SCRIPT ARGS...` as a user runs it, with this checkout importable."""
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def _compare(tmp_path: Path, old: str, new: str) -> subprocess.CompletedProcess[str]:
    return bench_script("compare.py", old, new, "--stories", "40", "--rounds", "2", "--work", str(tmp_path))


def test_bench_compare_builds_both_versions_in_turns_and_compares_their_outputs(tmp_path: Path) -> None:
    """bench/compare.py with a git revision of this repository (a real `git archive`)
    against this folder, then this folder against itself: every row is printed, the
    lowest-over-lowest ratios are numbers, the same code gives identical outputs, and
    nothing is left in its work folder."""
    assert (ROOT / ".git").exists(), "run from a clone: the comparison checks out HEAD"
    run = _compare(tmp_path, "HEAD", str(ROOT))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OLD: HEAD (" in run.stdout and f"NEW: {ROOT}" in run.stdout
    for step in ("cold build", "one-story edit"):
        for measure in ("time", "processor time", "peak memory"):
            row = next(line for line in run.stdout.splitlines() if line.startswith(f"{step}, {measure} "))
            assert float(row.split()[-1]) > 0, row
    assert "outputs" in run.stdout
    same = _compare(tmp_path, str(ROOT), str(ROOT))
    assert same.returncode == 0, same.stdout + same.stderr
    assert re.search(r"^outputs +identical \(\d+ files\)$", same.stdout, re.MULTILINE), same.stdout
    assert list(tmp_path.iterdir()) == []


def test_bench_compare_refuses_what_is_neither_a_folder_nor_a_revision(tmp_path: Path) -> None:
    run = _compare(tmp_path, "no-such-revision-anywhere", str(ROOT))
    assert run.returncode == 1
    assert "neither a folder holding site_gen/ nor a git revision" in run.stderr


def test_serve_latency_times_edits_through_a_real_serve() -> None:
    """bench/serve_latency.py on the example site: a real serve, real saves, the reload
    message and the page over HTTP. Its figures are not judged here."""
    run = bench_script("serve_latency.py", "--rounds", "2")
    assert run.returncode == 0, run.stdout + run.stderr
    rows = ("2 edits of content/stories/", "edit -> reload message: median", "edit -> page rewritten: median")
    for row in (*rows, "of which the build itself: median"):
        assert row in run.stdout, (row, run.stdout)


def test_bench_compare_builds_each_round_into_a_new_folder(tmp_path: Path) -> None:
    """No round's cold build comes right after an output's deletion (ext4 without a
    journal then looks past the inodes just freed): each round builds into a folder
    of its own, and the edit is built into the round's folder."""
    import compare

    corpus = tmp_path / "corpus"
    gen_corpus.generate(30, corpus, 1)
    versions = []
    for name in ("old", "new"):
        shutil.copytree(corpus, tmp_path / f"corpus-{name}")
        versions.append(compare.Figures(name, ROOT, tmp_path / f"corpus-{name}", tmp_path / f"out-{name}"))
    for number in (1, 2):
        compare.one_round(number, versions)
        assert [v.out.name for v in versions] == [f"out-old-{number}", f"out-new-{number}"]
    kept = sorted(path.name for path in tmp_path.glob("out-*"))
    assert kept == ["out-new-1", "out-new-2", "out-old-1", "out-old-2"]  # none removed between rounds
    assert all(len(v.wall["cold build"]) == 2 and len(v.wall["one-story edit"]) == 2 for v in versions)
    assert compare.compare_outputs(versions[0].out, versions[1].out).startswith("identical")
