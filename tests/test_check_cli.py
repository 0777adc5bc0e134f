"""`site-gen check` as a real subprocess: every bad input located, exit codes, as-of date."""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import write_site

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2025-11-20"

GOOD = {
    "content/topics/trade.yaml": "title: Trade\nsummary: S\n",
    "content/topics/secret.yaml": "title: Secret\nsummary: S\ndraft: true\n",
    "content/people/p.yaml": "name: P\n",
    "content/people/bom.yaml": b"\xef\xbb\xbfname: Caf\xc3\xa9\n",
    "content/events/good.yml": "title: Good\ndate: 2025-11-10\ntopics: [trade]\n",
    "content/events/sub/deeper/also-good.yaml": "title: Good\ndate: 2025-11\ntopics: [trade]\n",
    "content/events/.#good.yaml": "title: [unclosed\n",
    "content/events/good.yaml~": "title: [unclosed\n",
    "content/events/.good.yaml.swp": b"\x00\x01",
    "content/events/#good.yaml#": "\t\t",
}


def laughs() -> str:
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def deep_block(levels: int) -> str:
    return "\n".join(" " * (2 * i) + f"k{i}:" for i in range(levels)) + " v\n"


LONG = "a" * 81

# (file, its content, the expected line's start "line:col: severity", words in the message)
BAD: list[tuple[str, str | bytes, str, list[str]]] = [
    # Y1, Y23: tags
    (
        "content/people/apply.yaml",
        "name: !!python/object/apply:os.system ['touch {marker}']\n",
        "1:7: error",
        ["tag !!python/object/apply:os.system is not allowed"],
    ),
    (
        "content/people/binary.yaml",
        "name: !!binary aGVsbG8=\n",
        "1:7: error",
        ["tag !!binary is not allowed"],
    ),
    (
        "content/topics/set.yaml",
        "title: T\nsummary: S\ntags: !!set {a, b}\n",
        "3:7: error",
        ["tag !!set is not allowed"],
    ),
    (
        "content/topics/omap.yaml",
        "title: T\nsummary: S\ntags: !!omap [a: 1]\n",
        "3:7: error",
        ["tag !!omap is not allowed"],
    ),
    ("content/people/secret-tag.yaml", "name: !secret pw\n", "1:7: error", ["tag !secret is not allowed"]),
    # Y2, Y3: aliases
    ("content/people/bomb.yaml", laughs(), "1:5: error", ["more than 10,000 values", "aliases"]),
    (
        "content/topics/loop.yaml",
        "title: T\nsummary: S\nextra: &t {related: [*t]}\n",
        "3:8: error",
        ["alias refers to a value that contains it"],
    ),
    # Y9-Y12
    (
        "content/people/dup-key.yaml",
        "name: First\nname: Second\n",
        "2:1: error",
        ["duplicate key 'name'", "first at line 1"],
    ),
    (
        "content/people/hash.yaml",
        "name: Item #1 is here\n",
        "1:7: warning",
        ["'name' stops before ' #'", "quote the value"],
    ),
    (
        "content/people/colon.yaml",
        "name: P\nrole: Breaking: news\n",
        "2:15: error",
        ["mapping values are not allowed", "quote values that contain ': '"],
    ),
    ("content/people/tab.yaml", "name: P\nextra:\n\tx: 1\n", "3:1: error", ["YAML forbids tabs"]),
    # Y15-Y18: encodings and characters
    (
        "content/people/latin1.yaml",
        b"name: ok\nrole: Jos\xe9\n",
        "2:10: error",
        ["not valid UTF-8 (byte 0xE9)", "re-save the file as UTF-8"],
    ),
    ("content/people/utf16.yaml", "name: P\n".encode("utf-16"), "1:1: error", ["UTF-16", "UTF-8"]),
    ("content/people/nul.yaml", "name: a\x00b\n", "1:8: error", ["invisible control character U+0000"]),
    ("content/people/lsep.yaml", "name: a\u2028b\n", "1:8: error", ["invisible control character U+2028"]),
    ("content/people/surrogate.yaml", 'name: "\\ud800"\n', "1:10: error", ["invalid \\u escape"]),
    # Y19-Y22: shapes and keys
    ("content/people/empty.yaml", "", "1:1: error", ["file is empty"]),
    ("content/people/comment-only.yaml", "# name: P\n", "1:1: error", ["file is empty"]),
    ("content/people/scalar.yaml", "just text\n", "1:1: error", ["holds a mapping of fields"]),
    (
        "content/people/two-docs.yaml",
        "name: A\n---\nname: B\n",
        "2:1: error",
        ["expected a single document", "remove the extra '---'"],
    ),
    (
        "content/people/merge.yaml",
        "name: P\nextra:\n  base: &b {x: 1}\n  copy:\n    <<: *b\n",
        "5:5: error",
        ["merge keys (<<) are not supported"],
    ),
    ("content/people/yes-key.yaml", "name: P\nyes: 1\n", "2:1: error", ["unknown field 'yes'"]),
    # Y14, Y24: depth and size
    (
        "content/people/deep.yaml",
        "name: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "1:71: error",
        ["nested too deeply"],
    ),
    ("content/people/deep-block.yaml", deep_block(70), "66:131: error", ["nested too deeply"]),
    (
        "content/people/huge.yaml",
        "name: " + "x" * (2 * 1024 * 1024) + "\n",
        "1:1: error",
        ["larger than 2 MB"],
    ),
    # Y25: required fields
    (
        "content/stories/missing.yaml",
        "title: S\ntopics: [trade]\n",
        "1:1: error",
        ["missing required field 'date'"],
    ),
    ("content/stories/missing.yaml", None, "1:1: error", ["missing required field 'summary'"]),
    (
        "content/questions/answered.yaml",
        "question: Q?\ntopics: [trade]\nraised: 2025-11-01\nstatus: answered\nanswered: 2025-11-02\n",
        "1:1: error",
        ["missing required field 'answer'", "status is answered"],
    ),
    (
        "content/quotes/no-topics.yaml",
        "text: Words.\nspeaker: p\ndate: 2025-11-01\nsource:\n  name: AFP\n",
        "1:1: error",
        ["missing required field 'topics'", "unless story is set"],
    ),
    # values that do not fit
    (
        "content/events/draft-perhaps.yaml",
        "title: E\ndate: 2025-11-01\ntopics: [trade]\ndraft: perhaps\n",
        "4:8: error",
        ["'draft' takes true or false", "'perhaps'"],
    ),
    (
        "content/events/topics-42.yaml",
        "title: E\ndate: 2025-11-01\ntopics: 42\n",
        "3:9: error",
        ["'topics' takes a list of topic ids", "not '42'"],
    ),
    (
        "content/events/typo.yaml",
        "title: E\ndate: 2025-11-01\ntopics: [trade]\nsumary: S\n",
        "4:1: error",
        ["unknown field 'sumary'", "did you mean 'summary'?"],
    ),
    (
        "content/events/with-extra.yaml",
        "title: E\ndate: 2025-11-01\ntopics: [trade]\nextra:\n  any: [1]\n",
        None,
        [],
    ),
    # dates
    (
        "content/events/feb-30.yaml",
        "title: E\ndate: 2025-02-30\ntopics: [trade]\n",
        "2:7: error",
        ["'2025-02-30' is not a real day"],
    ),
    (
        "content/events/month-13.yaml",
        "title: E\ndate: 2025-13\ntopics: [trade]\n",
        "2:7: error",
        ["'2025-13' has month 13"],
    ),
    (
        "content/events/no-offset.yaml",
        "title: E\ndate: 2025-10-30T11:00:00\ntopics: [trade]\n",
        "2:7: error",
        ["without an offset"],
    ),
    ("content/events/offset.yaml", "title: E\ndate: 2025-10-30T11:00:00+09:00\ntopics: [trade]\n", None, []),
    # ids
    (
        "content/events/Bad_Name.yaml",
        "title: E\ndate: 2025\ntopics: [trade]\n",
        "1:1: error",
        ["the file name gives an invalid id", "rename the file or set id:"],
    ),
    (
        "content/events/id-field.yaml",
        "id: Not OK\ntitle: E\ndate: 2025\ntopics: [trade]\n",
        "1:5: error",
        ["'Not OK' is not a valid id"],
    ),
    (
        f"content/events/{LONG}.yaml",
        "title: E\ndate: 2025\ntopics: [trade]\n",
        "1:1: error",
        ["81 characters", "at most 80"],
    ),
    (
        "content/events/list.yaml",
        "- id: ok-one\n  title: E\n  date: 2025\n  topics: [trade]\n"
        "- title: F\n  date: 2025\n  topics: [trade]\n",
        "5:3: error",
        ["a record in a list file needs an id"],
    ),
    ("content/events/sub/twice.yml", "title: E\ndate: 2025\ntopics: [trade]\n", None, []),
    (
        "content/events/twice.yaml",
        "title: E\ndate: 2025\ntopics: [trade]\n",
        "1:1: error",
        ["duplicate event id 'twice'", "also at content/events/sub/twice.yml:1"],
    ),
    ("content/stories/twice.yaml", "title: S\ndate: 2025\ntopics: [trade]\nsummary: S\n", None, []),
    # references
    (
        "content/events/ref.yaml",
        "title: E\ndate: 2025\ntopics: [trad]\n",
        "3:10: error",
        ["unknown topic 'trad'", "did you mean 'trade'?"],
    ),
    (
        "content/events/to-draft.yaml",
        "title: E\ndate: 2025\ntopics:\n  - trade\n  - secret\n",
        "5:5: error",
        ["refers to the draft topic 'secret'", "broken link"],
    ),
    ("content/events/draft-to-draft.yaml", "title: E\ndate: 2025\ntopics: [secret]\ndraft: true\n", None, []),
    (
        "content/quotes/no-provenance.yaml",
        "text: Words.\nspeaker: p\ndate: 2025-11-01\ntopics: [trade]\n",
        "1:1: warning",
        ["quote has no provenance"],
    ),
    # symlinks (made by the fixture)
    ("content/people/link.yaml", None, "1:1: error", ["may not be symlinks"]),
]

EXPECTED = [case for case in BAD if case[2] is not None]


@pytest.fixture(scope="module")
def bad_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("bad")
    marker = base / "pwned"
    files: dict[str, str | bytes | None] = dict(GOOD)
    for path, content, _, _ in BAD:
        if content is not None:
            files[path] = content.replace("{marker}", str(marker)) if isinstance(content, str) else content
    root = write_site(base / "site", files)
    (base / "outside.yaml").write_text("name: Outside\n")
    os.symlink(base / "outside.yaml", root / "content/people/link.yaml")
    return root, marker


@pytest.fixture(scope="module")
def bad_run(bad_site):
    import subprocess
    import sys

    root, _ = bad_site
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    proc = subprocess.run(
        [sys.executable, "-m", "site_gen", "--site", str(root), "check", "--as-of", AS_OF],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
    )
    return proc


@pytest.mark.parametrize(
    ("path", "where", "words"),
    [(p, w, ws) for p, _, w, ws in EXPECTED],
    ids=[f"{p.rsplit('/', 1)[-1][:30]}:{' '.join(ws)[:30]}" for p, _, _, ws in EXPECTED],
)
def test_each_bad_input_is_located(bad_run, path, where, words):
    prefix = f"{path}:{where}: "
    found = [line for line in bad_run.stderr.splitlines() if line.startswith(prefix)]
    assert found, f"no line starting {prefix!r} in:\n{bad_run.stderr}"
    assert any(all(word in line for word in words) for line in found), found


def test_the_good_files_and_ignored_files_give_no_problem(bad_run):
    reported = {line.split(":", 1)[0] for line in bad_run.stderr.splitlines()}
    for path, _, where, _ in BAD:
        if where is None:
            assert path not in reported
    for path in GOOD:
        assert path not in reported


def test_all_problems_in_one_run_with_the_summary(bad_run, bad_site):
    root, marker = bad_site
    lines = bad_run.stderr.splitlines()
    problems = [line for line in lines if re.match(r"^\S+:\d+:\d+: (error|warning): ", line)]
    assert len(problems) == len(EXPECTED), "\n".join(problems)
    errors = sum(1 for case in EXPECTED if case[2].endswith("error"))
    files = len({p for p, _, _, _ in BAD if p != "content/people/link.yaml"}) + 7  # + GOOD and site.yaml
    assert lines[-1] == f"{errors} errors, {len(EXPECTED) - errors} warnings in {files} files"
    assert bad_run.returncode == 1
    assert "Traceback" not in bad_run.stderr
    assert bad_run.stdout == ""
    assert not marker.exists(), "a YAML tag ran a command"


def test_problems_are_sorted_by_file_line_and_column(bad_run):
    keys = []
    for line in bad_run.stderr.splitlines():
        match = re.match(r"^(\S+?):(\d+):(\d+): ", line)
        if match:
            keys.append((match.group(1), int(match.group(2)), int(match.group(3))))
    assert keys == sorted(keys)


# --- exit codes and the example site ----------------------------------------------------------


@pytest.mark.skipif(not (REPO / "content").is_dir(), reason="the repository's example content is absent")
def test_the_example_site_checks_clean(run_cli):
    result = run_cli("--site", REPO, "check", "--strict", "--as-of", AS_OF)
    assert result.code == 0, result.stderr
    assert re.search(r"^0 errors, 0 warnings in \d+ files$", result.stderr, re.M), result.stderr


def test_check_runs_in_the_current_folder_by_default(make_site, run_cli):
    root = make_site({"content/topics/t.yaml": "title: T\nsummary: S\nstatus: dormant\n"})
    result = run_cli("check", "--as-of", AS_OF, cwd=root)
    assert result.code == 0, result.stderr
    assert result.lines == ["0 errors, 0 warnings in 2 files"]


def test_a_site_without_content_is_fine(make_site, run_cli):
    result = run_cli("--site", make_site(), "check", "--as-of", AS_OF)
    assert (result.code, result.lines) == (0, ["0 errors, 0 warnings in 1 file"])


@pytest.mark.parametrize("folder", ["empty", "missing", "file"])
def test_a_folder_without_site_yaml_is_a_usage_error(tmp_path, run_cli, folder):
    target = tmp_path / folder
    if folder == "empty":
        target.mkdir()
    elif folder == "file":
        target.write_text("title: x\n")
    result = run_cli("--site", target, "check")
    assert result.code == 2, result
    assert "has no site.yaml" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "as_of", ["2025-13-01", "2025-11-31", "yesterday", "2025-11", "", "2025-11-20T00:00Z", "20251120"]
)
def test_an_invalid_as_of_is_a_usage_error(make_site, run_cli, as_of):
    result = run_cli("--site", make_site(), "check", "--as-of", as_of)
    assert result.code == 2, result
    assert "--as-of" in result.stderr and "YYYY-MM-DD" in result.stderr or "not a real day" in result.stderr
    assert "Traceback" not in result.stderr


def test_content_errors_exit_1_and_warnings_exit_0(make_site, run_cli):
    warn = make_site({"content/people/p.yaml": "name: Item #1\n"}, name="warn")
    result = run_cli("--site", warn, "check", "--as-of", AS_OF)
    assert result.code == 0
    assert result.lines == [
        "content/people/p.yaml:1:7: warning: 'name' stops before ' #': YAML reads the rest of the line "
        "as a comment; quote the value if the '#' belongs to it",
        "0 errors, 1 warning in 2 files",
    ]
    assert run_cli("--site", warn, "check", "--strict", "--as-of", AS_OF).code == 1
    error = make_site({"content/people/p.yaml": "nam: P\n"}, name="error")
    assert run_cli("--site", error, "check", "--as-of", AS_OF).code == 1


# --- staleness, overdue and the as-of date ----------------------------------------------------------


STALE = {
    "content/topics/list.yaml": "- id: quiet\n  title: Quiet\n  summary: S\n"
    "- id: busy\n  title: Busy\n  summary: S\n"
    "- id: asleep\n  title: Asleep\n  summary: S\n  status: dormant\n",
    "content/events/old.yaml": "title: Old\ndate: 2025-09-01\ntopics: [quiet, asleep]\n",
    "content/events/new.yaml": "title: New\ndate: 2025-11-01\ntopics: [busy]\n",
}


def test_a_quiet_active_topic_is_warned_about_at_its_line(make_site, run_cli):
    root = make_site(STALE)
    result = run_cli("--site", root, "check", "--as-of", AS_OF)
    assert result.code == 0, result.stderr
    assert result.lines[:-1] == [
        "content/topics/list.yaml:1:3: warning: topic 'quiet' is active but nothing in it is dated within "
        "30 days before 2025-11-20; add what moved, or set status: dormant"
    ]
    strict = run_cli("--site", root, "check", "--strict", "--as-of", AS_OF)
    assert strict.code == 1
    assert strict.lines == result.lines


def test_stale_after_days_comes_from_site_yaml(make_site, run_cli):
    root = make_site({**STALE, "site.yaml": "title: B\nbase_url: https://e.org/\nstale_after_days: 90\n"})
    result = run_cli("--site", root, "check", "--strict", "--as-of", AS_OF)
    assert (result.code, result.lines) == (0, ["0 errors, 0 warnings in 4 files"])


OVERDUE = {
    "content/topics/t.yaml": "title: T\nsummary: S\nstatus: dormant\n",
    "content/questions/q.yaml": "question: Q?\ntopics: [t]\nraised: 2025-10-01\ndeadline: 2025-11\n",
    "content/questions/done.yaml": "question: Done?\ntopics: [t]\nraised: 2025-10-01\ndeadline: 2025-10\n"
    "status: answered\nanswer: Yes.\nanswered: 2025-11-02\n",
}


def epoch(text: str) -> str:
    return str(int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()))


@pytest.mark.parametrize(("as_of", "overdue"), [("2025-11-30", False), ("2025-12-01", True)])
def test_overdue_questions_are_listed_not_counted(make_site, run_cli, as_of, overdue):
    result = run_cli("--site", make_site(OVERDUE), "check", "--strict", "--as-of", as_of)
    assert result.code == 0
    assert result.lines[0] == "0 errors, 0 warnings in 4 files"
    listed = ["1 question overdue (shown on the site, not a problem):", "  q: deadline November 2025"]
    assert result.lines[1:] == (listed if overdue else [])


def test_source_date_epoch_is_the_default_as_of_in_the_site_timezone(make_site, run_cli):
    late_utc = epoch("2025-11-30T15:30:00")  # 1 December 00:30 in Tokyo
    utc_site = make_site(OVERDUE, name="utc")
    assert "overdue" not in run_cli("--site", utc_site, "check", env={"SOURCE_DATE_EPOCH": late_utc}).stderr
    tokyo_site = make_site(
        {**OVERDUE, "site.yaml": "title: B\nbase_url: https://e.org/\ntimezone: Asia/Tokyo\n"}, name="tokyo"
    )
    result = run_cli("--site", tokyo_site, "check", env={"SOURCE_DATE_EPOCH": late_utc})
    assert "1 question overdue" in result.stderr
    explicit = run_cli(
        "--site", tokyo_site, "check", "--as-of", "2025-11-20", env={"SOURCE_DATE_EPOCH": late_utc}
    )
    assert "overdue" not in explicit.stderr, "--as-of wins over SOURCE_DATE_EPOCH"


def test_source_date_epoch_drives_staleness(make_site, run_cli):
    root = make_site(STALE)
    early = run_cli("--site", root, "check", env={"SOURCE_DATE_EPOCH": epoch("2025-09-15T12:00:00")})
    assert (
        "topic 'busy' is active but nothing in it is dated within 30 days before 2025-09-15" in early.stderr
    )
    assert "'quiet'" not in early.stderr, "its 1 September event is recent on 15 September"
    late = run_cli("--site", root, "check", env={"SOURCE_DATE_EPOCH": epoch("2025-11-20T12:00:00")})
    assert (
        "topic 'quiet' is active but nothing in it is dated within 30 days before 2025-11-20" in late.stderr
    )
    assert "'busy'" not in late.stderr


@pytest.mark.parametrize("value", ["soon", "1.5", "99999999999999999999"])
def test_an_invalid_source_date_epoch_is_a_usage_error(make_site, run_cli, value):
    result = run_cli("--site", make_site(), "check", env={"SOURCE_DATE_EPOCH": value})
    assert result.code == 2, result
    assert "SOURCE_DATE_EPOCH" in result.stderr
    assert "Traceback" not in result.stderr


# --- no traceback, whatever the input --------------------------------------------------------------


@pytest.mark.parametrize(
    "site_yaml",
    [
        b"",
        b"\xff\xfe",
        b"title: [\n",
        b"- a\n",
        b"title: B\nbase_url: https://e.org/\ntimezone: ../../x\n",
        b"title: B\nbase_url: https://e.org/\ntimezone: Europe/\n",
        b"title: !!binary aGk=\n",
        b"title: B\nbase_url: https://e.org/\nextra: &x [*x]\n",
    ],
)
def test_a_broken_site_yaml_exits_1_without_traceback(make_site, run_cli, site_yaml):
    root = make_site({"site.yaml": site_yaml, "content/topics/t.yaml": "title: T\n"})
    result = run_cli("--site", root, "check", "--as-of", AS_OF)
    assert result.code == 1, result
    assert "Traceback" not in result.stderr
    assert re.search(r"^site\.yaml:\d+:\d+: error: ", result.stderr, re.M)
    assert "content/topics/t.yaml:1:1: error: missing required field 'summary'" in result.stderr
