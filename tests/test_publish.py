"""`site-gen publish --to DIR` and `--branch NAME`: real builds, real folders, real git repositories."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from datetime import date
from pathlib import Path

import pytest

from site_gen.publish import scan_tree
from site_gen.scaffold import init_site

TODAY = date(2025, 3, 10)
AS_OF = ("--as-of", TODAY.isoformat())
DRAFT = "content/stories/secret-plan.yaml"
DRAFT_TEXT = (
    "title: The secret plan\ndate: 2025-03-09\ntopics: [harbour-bridge-repairs]\n"
    "summary: Not yet.\ndraft: true\n"
)
QUESTION_PAGE = "questions/bridge-reopening-date/index.html"


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes (symlinks as their target text)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[rel] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            found[rel] = path.read_bytes()
    return found


def stamps(folder: Path) -> dict[str, tuple[int, int, int]]:
    """(inode, size, mtime) of every entry: proof that nothing was rewritten."""
    entries = [folder, *sorted(folder.rglob("*"))]
    return {
        p.relative_to(folder).as_posix(): (p.lstat().st_ino, p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in entries
    }


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The starter site dated TODAY, plus one draft story."""
    root = tmp_path / "site"
    init_site(root, TODAY)
    (root / DRAFT).write_text(DRAFT_TEXT)
    return root


# -- publish --to ------------------------------------------------------------


def test_publish_to_a_new_folder_holds_exactly_the_production_build(
    site: Path, tmp_path: Path, run_cli
) -> None:
    target = tmp_path / "www" / "briefing"
    result = run_cli("--site", site, "publish", "--to", target, *AS_OF)
    assert result.code == 0, result
    assert "added" in result.stderr and str(target) in result.stderr
    reference = tmp_path / "reference"
    assert run_cli("--site", site, "build", "--out", reference, *AS_OF).code == 0
    assert tree(target) == tree(reference)
    published = b"".join(tree(target).values())
    assert b"secret-plan" not in published and b"The secret plan" not in published
    # Nothing left beside the target, and output/ untouched.
    assert sorted(p.name for p in target.parent.iterdir()) == ["briefing"]
    assert not (site / "output").exists()


def test_publish_to_ignores_a_drafts_build_in_output(site: Path, tmp_path: Path, run_cli) -> None:
    assert run_cli("--site", site, "build", "--drafts", *AS_OF).code == 0
    assert (site / "output/stories/secret-plan/index.html").is_file()
    target = tmp_path / "public"
    assert run_cli("--site", site, "publish", "--to", target, *AS_OF).code == 0
    assert not (target / "stories/secret-plan").exists()
    assert (target / "stories/council-approves-repair-plan/index.html").is_file()


def test_publish_to_again_writes_changes_and_removes_what_the_site_no_longer_makes(
    site: Path, tmp_path: Path, run_cli
) -> None:
    target = tmp_path / "public"
    assert run_cli("--site", site, "publish", "--to", target, *AS_OF).code == 0
    assert (target / QUESTION_PAGE).is_file()
    (target / "stray.html").write_text("left by hand")
    (site / "content/questions/bridge-reopening-date.yaml").unlink()
    topic = site / "content/topics/harbour-bridge-repairs.yaml"
    topic.write_text(topic.read_text().replace("Harbour bridge repairs", "Harbour bridge works"))
    result = run_cli("--site", site, "publish", "--to", target, *AS_OF)
    assert result.code == 0, result
    assert not (target / QUESTION_PAGE).exists() and not (target / "questions/bridge-reopening-date").exists()
    assert not (target / "stray.html").exists()
    assert "Harbour bridge works" in (target / "topics/harbour-bridge-repairs/index.html").read_text()
    reference = tmp_path / "reference"
    assert run_cli("--site", site, "build", "--out", reference, *AS_OF).code == 0
    assert tree(target) == tree(reference)
    assert "removed" in result.stderr and " 0 removed" not in result.stderr


def test_publish_to_with_a_broken_record_leaves_the_folder_exactly_as_it_was(
    site: Path, tmp_path: Path, run_cli
) -> None:
    target = tmp_path / "public"
    assert run_cli("--site", site, "publish", "--to", target, *AS_OF).code == 0
    before, before_stamps = tree(target), stamps(target)
    (site / "content/people/robin-example.yaml").write_text("name: [unclosed\n")
    (site / "content/topics/harbour-bridge-repairs.yaml").write_text("title: Changed\nsummary: S\n")
    result = run_cli("--site", site, "publish", "--to", target, *AS_OF)
    assert result.code == 1, result
    assert "content/people/robin-example.yaml:1:7: error: not valid YAML" in result.stderr  # at its [
    assert "nothing was published" in result.stderr and "Traceback" not in result.stderr
    assert tree(target) == before and stamps(target) == before_stamps
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public", "site"]


def test_publish_to_refuses_a_folder_of_someone_elses_files(site: Path, tmp_path: Path, run_cli) -> None:
    target = tmp_path / "theirs"
    target.mkdir()
    (target / "index.html").write_text("<html><head><title>Their site</title></head></html>")
    (target / "photos").mkdir()
    (target / "photos/cat.jpg").write_bytes(b"\xff\xd8 not ours")
    before = tree(target)
    result = run_cli("--site", site, "publish", "--to", target, *AS_OF)
    assert result.code == 1, result
    assert "not empty" in result.stderr and "has not published there" in result.stderr
    assert tree(target) == before


@pytest.mark.parametrize("where", ["repo", "site", "content", "ancestor"])
def test_publish_to_refuses_repositories_and_the_site_itself(
    site: Path, tmp_path: Path, run_cli, where: str
) -> None:
    target = {
        "repo": tmp_path / "pages-clone",
        "site": site,
        "content": site / "content",
        "ancestor": tmp_path,
    }[where]
    if where == "repo":
        (target / ".git").mkdir(parents=True)
    before = tree(tmp_path)
    result = run_cli("--site", site, "publish", "--to", target, *AS_OF)
    assert result.code == 1, result
    assert "refusing to publish" in result.stderr
    assert tree(tmp_path) == before


def test_publish_to_where_nothing_can_be_staged_is_a_clear_error(site: Path, tmp_path: Path, run_cli) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    result = run_cli("--site", site, "publish", "--to", tmp_path / "a-file" / "public", *AS_OF)
    assert result.code == 1, result
    assert "cannot stage the new site beside" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "a-file").read_text() == "not a folder\n"


def test_publish_to_recognises_its_folder_without_the_cache(site: Path, tmp_path: Path, run_cli) -> None:
    target = tmp_path / "public"
    assert run_cli("--site", site, "publish", "--to", target, *AS_OF).code == 0
    shutil.rmtree(site / ".site-gen-cache")
    assert run_cli("--site", site, "publish", "--to", target, *AS_OF).code == 0


def test_publish_to_recognises_its_folder_by_its_record_when_the_theme_has_no_generator_tag(
    site: Path, tmp_path: Path, run_cli
) -> None:
    theme = Path(__file__).resolve().parents[1] / "templates" / "base.html"
    own = site / "templates" / "base.html"
    own.parent.mkdir()
    own.write_text("\n".join(line for line in theme.read_text().splitlines() if "generator" not in line))
    target = tmp_path / "public"
    assert run_cli("--site", site, "publish", "--to", target, *AS_OF).code == 0
    assert b"generator" not in (target / "index.html").read_bytes()
    assert run_cli("--site", site, "publish", "--to", target, *AS_OF).code == 0
    # Without the record, a folder that does not say who made it is someone else's.
    shutil.rmtree(site / ".site-gen-cache")
    result = run_cli("--site", site, "publish", "--to", target, *AS_OF)
    assert result.code == 1 and "has not published there" in result.stderr


def test_publish_to_follows_a_symlinked_target_and_keeps_its_mode(
    site: Path, tmp_path: Path, run_cli
) -> None:
    real = tmp_path / "releases" / "current"
    assert run_cli("--site", site, "publish", "--to", real, *AS_OF).code == 0
    os.chmod(real, 0o750)
    link = tmp_path / "www"
    link.symlink_to(real, target_is_directory=True)
    (site / "content/questions/bridge-reopening-date.yaml").unlink()
    assert run_cli("--site", site, "publish", "--to", link, *AS_OF).code == 0
    assert link.is_symlink() and not (real / QUESTION_PAGE).exists()
    assert stat.S_IMODE(real.stat().st_mode) == 0o750


def test_publish_to_refuses_a_static_file_linking_to_a_draft(site: Path, tmp_path: Path, run_cli) -> None:
    (site / "static").mkdir()
    (site / "static/notes.html").write_text('<a href="../stories/secret-plan/">coming soon</a>\n')
    target = tmp_path / "public"
    result = run_cli("--site", site, "publish", "--to", target, *AS_OF)
    assert result.code == 1, result
    assert "static/notes.html: links to the draft story 'secret-plan'" in result.stderr
    assert not target.exists()


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        (
            "deploy.pem",
            b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n",
            "looks like a key, backup or editor swap file",
        ),
        ("id_ed25519", b"anything", "looks like a key, backup or editor swap file"),
        ("readme.txt", b"x\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n", "holds a private key"),
    ],
)
def test_publish_to_refuses_secrets_in_static_files(
    site: Path, tmp_path: Path, run_cli, name: str, data: bytes, words: str
) -> None:
    (site / "static").mkdir()
    (site / "static" / name).write_bytes(data)
    target = tmp_path / "public"
    result = run_cli("--site", site, "publish", "--to", target, *AS_OF)
    assert result.code == 1, result
    assert f"static/{name}: {words}" in result.stderr
    assert not target.exists()


@pytest.mark.parametrize("name", ["index.html.swp", "notes.txt~", ".env", ".#draft.html", "old.bak"])
def test_editor_and_dot_files_in_static_are_never_published(
    site: Path, tmp_path: Path, run_cli, name: str
) -> None:
    (site / "static").mkdir()
    (site / "static" / name).write_text("TOKEN=abc\n")
    target = tmp_path / "public"
    result = run_cli("--site", site, "publish", "--to", target, *AS_OF)
    assert result.code == 0, result
    assert not (target / "static" / name).exists()
    assert b"TOKEN=abc" not in b"".join(tree(target).values())


def test_a_draft_id_that_is_a_common_word_is_not_a_false_alarm(site: Path, tmp_path: Path, run_cli) -> None:
    (site / "content/stories/update.yaml").write_text(
        "title: Update\ndate: 2025-03-09\ntopics: [harbour-bridge-repairs]\nsummary: S\ndraft: true\n"
    )
    story = site / "content/stories/council-approves-repair-plan.yaml"
    story.write_text(
        story.read_text().replace("start within weeks.", "start within weeks; an update follows.")
    )
    target = tmp_path / "public"
    result = run_cli("--site", site, "publish", "--to", target, *AS_OF)
    assert result.code == 0, result
    assert b"an update follows" in (target / "stories/council-approves-repair-plan/index.html").read_bytes()


def test_publish_to_rejects_a_bad_as_of_as_a_usage_error(site: Path, tmp_path: Path, run_cli) -> None:
    result = run_cli("--site", site, "publish", "--to", tmp_path / "p", "--as-of", "10/03/2025")
    assert result.code == 2 and not (tmp_path / "p").exists()


def test_publish_to_applies_base_url(site: Path, tmp_path: Path, run_cli) -> None:
    target = tmp_path / "public"
    result = run_cli(
        "--site", site, "publish", "--to", target, "--base-url", "https://news.example.net/x/", *AS_OF
    )
    assert result.code == 0, result
    assert "https://news.example.net/x/stories/" in (target / "sitemap.xml").read_text()


def test_scan_tree_refuses_what_ghp_import_published(tmp_path: Path) -> None:
    """The P61 folder: a .env, a swap file, a symlink to a secret and a symlinked folder."""
    secret = tmp_path / "outside.txt"
    secret.write_text("PRIVATE-KEY-MATERIAL")
    (tmp_path / "outside-dir").mkdir()
    folder = tmp_path / "built"
    folder.mkdir()
    (folder / "index.html").write_text("<p>hello</p>")
    (folder / ".env").write_text("TOKEN=abc\n")
    (folder / ".index.html.swp").write_bytes(b"b0VIM")
    (folder / "notes.txt").symlink_to(secret)
    (folder / "linked").symlink_to(tmp_path / "outside-dir", target_is_directory=True)
    leaks = scan_tree(folder, ["index.html"], set())
    joined = "\n".join(leaks)
    for name in (".env", ".index.html.swp", "notes.txt", "linked"):
        assert f"{name}:" in joined, (name, leaks)
    assert "notes.txt: a symlink" in joined and "linked: a symlink" in joined
    assert not any(leak.startswith("index.html") for leak in leaks)


def test_scan_tree_allows_the_published_dotfiles_and_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "built"
    (folder / ".well-known").mkdir(parents=True)
    (folder / ".well-known/security.txt").write_text("Contact: mailto:x@example.org\n")
    (folder / ".nojekyll").write_text("")
    (folder / "static").mkdir()
    (folder / "static/.htaccess").write_text("Options +Indexes\n")
    manifest = [".well-known/security.txt", ".nojekyll", "static/.htaccess"]
    assert scan_tree(folder, manifest, set()) == [
        "static/.htaccess: a dotfile (only .nojekyll, .well-known are published)"
    ]


def test_scan_tree_finds_draft_ids_only_where_they_would_be_links(tmp_path: Path) -> None:
    folder = tmp_path / "built"
    folder.mkdir()
    pages = {
        "a.html": '<a href="../../stories/plan/">x</a>',
        "b.html": '<li id="event-launch">x</li>',
        "c.html": '<a href="../quotes/#quote-said">x</a>',
        "d.html": '<li data-question="when" data-status="open">x</li>',
        "e.html": "<p>The plan was launched; when was it said? stories/plan-b/ is another.</p>",
    }
    for name, text in pages.items():
        (folder / name).write_text(text)
    drafts = {("stories", "plan"), ("events", "launch"), ("quotes", "said"), ("questions", "when")}
    leaks = scan_tree(folder, sorted(pages), drafts)
    assert leaks == [
        "a.html: links to the draft story 'plan'",
        "b.html: links to the draft event 'launch'",
        "c.html: links to the draft quote 'said'",
        "d.html: links to the draft question 'when'",
    ]


# -- publish --branch --------------------------------------------------------


def git(repo: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {proc.stderr}")
    return proc.stdout.strip()


def configure(repo: Path) -> None:
    git(repo, "config", "user.name", "Editor")
    git(repo, "config", "user.email", "editor@example.org")


@pytest.fixture
def repo(site: Path, tmp_path: Path) -> Path:
    """The site as a git repository on main with a bare `origin`."""
    git(site, "init", "-q", "-b", "main")
    configure(site)
    git(site, "add", ".")
    git(site, "commit", "-q", "-m", "The briefing")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(site, "remote", "add", "origin", str(remote))
    return site


def remote_of(repo: Path) -> Path:
    return Path(git(repo, "remote", "get-url", "origin"))


def checkout_state(repo: Path) -> dict[str, str]:
    """Everything publish must leave alone, read without refreshing the index first."""
    index = (repo / ".git/index").read_bytes()
    return {
        "index": index.hex(),
        "head": git(repo, "rev-parse", "HEAD"),
        "branch": git(repo, "symbolic-ref", "HEAD"),
        "staged": git(repo, "ls-files", "--stage"),
        "status": git(repo, "status", "--porcelain", "--ignored", "--untracked-files=all"),
        "files": repr(
            sorted((p.as_posix(), p.stat().st_mtime_ns) for p in repo.rglob("*") if ".git" not in p.parts)
        ),
    }


def published_tree(repo: Path, ref: str) -> list[str]:
    return git(repo, "ls-tree", "-r", "--name-only", ref).splitlines()


def test_publish_branch_creates_an_orphan_branch_and_pushes_it(repo: Path, tmp_path: Path, run_cli) -> None:
    result = run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF)
    assert result.code == 0, result
    assert "pushed to origin" in result.stderr
    tip = git(repo, "rev-parse", "gh-pages")
    assert git(repo, "rev-list", "--parents", "gh-pages") == tip  # one commit, no parent
    assert git(remote_of(repo), "rev-parse", "gh-pages") == tip
    reference = tmp_path / "reference"
    assert run_cli("--site", repo, "build", "--out", reference, *AS_OF).code == 0
    expected = tree(reference)
    assert sorted(published_tree(repo, "gh-pages")) == sorted([*expected, ".nojekyll"])
    for rel in ("index.html", "static/site.css", "data/briefing.json"):
        blob = subprocess.run(["git", "-C", repo, "show", f"gh-pages:{rel}"], capture_output=True).stdout
        assert blob == expected[rel], rel
    assert git(repo, "cat-file", "-s", "gh-pages:.nojekyll") == "0"
    assert "CNAME" not in published_tree(repo, "gh-pages")
    assert not any("secret-plan" in path for path in published_tree(repo, "gh-pages"))
    message = git(repo, "log", "-1", "--format=%B", "gh-pages")
    assert "as of 2025-03-10" in message and "Published-by: site-gen" in message


def test_publish_branch_leaves_the_checkout_untouched(repo: Path, run_cli) -> None:
    # A checkout mid-work: a staged change, an unstaged one, an untracked file.
    (repo / "README.md").write_text("staged edit\n")
    git(repo, "add", "README.md")
    (repo / "site.yaml").write_text((repo / "site.yaml").read_text() + "# unstaged edit\n")
    (repo / "content/people/new-person.yaml").write_text("name: New\n")
    git(repo, "status", "--porcelain")  # let git refresh its index once, before the snapshot
    before = checkout_state(repo)
    result = run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF)
    assert result.code == 0, result
    assert checkout_state(repo) == before
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_publish_branch_twice_keeps_history(repo: Path, run_cli) -> None:
    assert run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF).code == 0
    first = git(repo, "rev-parse", "gh-pages")
    (repo / "content/questions/bridge-reopening-date.yaml").unlink()
    result = run_cli(
        "--site", repo, "publish", "--branch", "gh-pages", "--message", "Drop the question", *AS_OF
    )
    assert result.code == 0, result
    second = git(repo, "rev-parse", "gh-pages")
    assert git(repo, "rev-parse", "gh-pages^") == first
    assert git(remote_of(repo), "rev-list", "gh-pages").splitlines() == [second, first]
    assert QUESTION_PAGE not in published_tree(repo, "gh-pages")
    assert QUESTION_PAGE in published_tree(repo, first)
    assert git(repo, "log", "-1", "--format=%s", "gh-pages") == "Drop the question"


def test_publish_branch_skips_a_commit_when_nothing_changed(repo: Path, run_cli) -> None:
    assert run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF).code == 0
    first = git(repo, "rev-parse", "gh-pages")
    result = run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF)
    assert result.code == 0, result
    assert "nothing changed" in result.stderr
    assert git(repo, "rev-parse", "gh-pages") == first == git(remote_of(repo), "rev-parse", "gh-pages")


def test_publish_branch_writes_cname_when_the_site_sets_one(repo: Path, run_cli) -> None:
    (repo / "site.yaml").write_text((repo / "site.yaml").read_text() + "cname: Briefing.Example.org\n")
    assert run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF).code == 0
    assert git(repo, "show", "gh-pages:CNAME") == "briefing.example.org"


def test_publish_branch_no_push_then_push(repo: Path, run_cli) -> None:
    result = run_cli("--site", repo, "publish", "--branch", "gh-pages", "--no-push", *AS_OF)
    assert result.code == 0, result
    assert "not pushed" in result.stderr
    assert git(remote_of(repo), "branch", "--list") == ""
    local = git(repo, "rev-parse", "gh-pages")
    result = run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF)
    assert result.code == 0, result
    assert git(remote_of(repo), "rev-parse", "gh-pages") == local


def clone_and_push_foreign_commit(repo: Path, tmp_path: Path, name: str = "other") -> str:
    """Someone else adds a file to gh-pages by hand and pushes it."""
    other = tmp_path / name
    subprocess.run(["git", "clone", "-q", "-b", "gh-pages", str(remote_of(repo)), str(other)], check=True)
    configure(other)
    (other / "hand-edit.html").write_text("<p>by hand</p>")
    git(other, "add", "hand-edit.html")
    git(other, "commit", "-q", "-m", "Hand edit")
    git(other, "push", "-q", "origin", "gh-pages")
    return git(other, "rev-parse", "HEAD")


def test_publish_branch_builds_on_a_remote_that_moved_ahead(repo: Path, tmp_path: Path, run_cli) -> None:
    assert run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF).code == 0
    first = git(repo, "rev-parse", "gh-pages")
    foreign = clone_and_push_foreign_commit(repo, tmp_path)
    (repo / "content/questions/bridge-reopening-date.yaml").unlink()
    result = run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF)
    assert result.code == 0, result
    assert "not made by site-gen" in result.stderr
    tip = git(remote_of(repo), "rev-parse", "gh-pages")
    assert git(repo, "rev-parse", "gh-pages") == tip
    assert git(repo, "rev-list", "gh-pages").splitlines() == [tip, foreign, first]
    assert "hand-edit.html" not in published_tree(repo, "gh-pages")
    assert "hand-edit.html" in published_tree(repo, foreign)


def test_publish_branch_refuses_diverged_local_and_remote_branches(
    repo: Path, tmp_path: Path, run_cli
) -> None:
    assert run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF).code == 0
    foreign = clone_and_push_foreign_commit(repo, tmp_path)
    (repo / "content/questions/bridge-reopening-date.yaml").unlink()
    assert run_cli("--site", repo, "publish", "--branch", "gh-pages", "--no-push", *AS_OF).code == 0
    local = git(repo, "rev-parse", "gh-pages")
    (repo / "content/events/repair-works-begin.yaml").unlink()
    result = run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF)
    assert result.code == 1, result
    assert "diverged" in result.stderr and "git branch -f gh-pages origin/gh-pages" in result.stderr
    assert git(repo, "rev-parse", "gh-pages") == local
    assert git(remote_of(repo), "rev-parse", "gh-pages") == foreign


def test_publish_branch_reports_a_push_the_remote_rejects(repo: Path, run_cli) -> None:
    hook = remote_of(repo) / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'gh-pages is protected here' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF)
    assert result.code == 1, result
    assert "rejected" in result.stderr and "gh-pages is protected here" in result.stderr
    assert "git fetch origin" in result.stderr and "Traceback" not in result.stderr
    # A failed publish changes no branch, here or there.
    assert git(repo, "branch", "--list", "gh-pages") == ""
    assert git(remote_of(repo), "branch", "--list") == ""


def test_publish_branch_reports_a_push_that_lost_a_race(repo: Path, tmp_path: Path, run_cli) -> None:
    """Someone pushes between publish's fetch and its push: git refuses, publish says so."""
    assert run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF).code == 0
    first = git(repo, "rev-parse", "gh-pages")
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", "-b", "gh-pages", str(remote_of(repo)), str(other)], check=True)
    configure(other)
    hook = repo / ".git/hooks/pre-push"
    hook.write_text(
        "#!/bin/sh\nunset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE\n"
        f"cd '{other}' && echo race > race.html && git add race.html && "
        "git commit -q -m Race && git push -q origin gh-pages\n"
    )
    hook.chmod(0o755)
    (repo / "content/questions/bridge-reopening-date.yaml").unlink()
    result = run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF)
    assert result.code == 1, result
    assert "rejected" in result.stderr and "git fetch origin" in result.stderr
    assert git(repo, "rev-parse", "gh-pages") == first
    assert git(remote_of(repo), "log", "-1", "--format=%s", "gh-pages") == "Race"


def test_publish_branch_with_a_content_error_publishes_nothing(repo: Path, run_cli) -> None:
    (repo / "content/topics/harbour-bridge-repairs.yaml").write_text("title: T\nsummary: S\nstatus: maybe\n")
    result = run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF)
    assert result.code == 1, result
    assert "content/topics/harbour-bridge-repairs.yaml:3:9: error" in result.stderr
    assert git(repo, "branch", "--list", "gh-pages") == ""
    assert git(remote_of(repo), "branch", "--list") == ""


def test_publish_branch_outside_a_repository(site: Path, run_cli) -> None:
    result = run_cli(
        "--site",
        site,
        "publish",
        "--branch",
        "gh-pages",
        *AS_OF,
        env={"GIT_CEILING_DIRECTORIES": str(site.parent)},
    )
    assert result.code == 1, result
    assert "not in a git repository" in result.stderr and "Traceback" not in result.stderr


def test_publish_branch_without_the_remote(repo: Path, run_cli) -> None:
    result = run_cli("--site", repo, "publish", "--branch", "gh-pages", "--remote", "upstream", *AS_OF)
    assert result.code == 1, result
    assert "no git remote named 'upstream'" in result.stderr
    assert git(repo, "branch", "--list", "gh-pages") == ""
    # --no-push needs no remote.
    assert (
        run_cli(
            "--site", repo, "publish", "--branch", "gh-pages", "--remote", "upstream", "--no-push", *AS_OF
        ).code
        == 0
    )


def test_publish_branch_with_an_unreachable_remote(repo: Path, tmp_path: Path, run_cli) -> None:
    git(repo, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    result = run_cli("--site", repo, "publish", "--branch", "gh-pages", *AS_OF)
    assert result.code == 1, result
    assert "cannot reach the remote 'origin'" in result.stderr
    assert git(repo, "branch", "--list", "gh-pages") == ""


def test_publish_branch_refuses_the_checked_out_branch(repo: Path, run_cli) -> None:
    result = run_cli("--site", repo, "publish", "--branch", "main", *AS_OF)
    assert result.code == 1, result
    assert "checked out" in result.stderr


def test_publish_branch_refuses_an_invalid_branch_name(repo: Path, run_cli) -> None:
    result = run_cli("--site", repo, "publish", "--branch", "gh..pages", *AS_OF)
    assert result.code == 2, result
    assert "not a valid branch name" in result.stderr


def test_publish_branch_from_a_site_in_a_subfolder_of_the_repository(tmp_path: Path, run_cli) -> None:
    top = tmp_path / "monorepo"
    init_site(top / "briefing", TODAY)
    (top / "code.py").write_text("print('other project files')\n")
    git(top, "init", "-q", "-b", "main")
    configure(top)
    git(top, "add", ".")
    git(top, "commit", "-q", "-m", "All")
    result = run_cli("--site", top / "briefing", "publish", "--branch", "pages", "--no-push", *AS_OF)
    assert result.code == 0, result
    files = published_tree(top, "pages")
    assert (
        "index.html" in files and "code.py" not in files and not any(f.startswith("content/") for f in files)
    )
