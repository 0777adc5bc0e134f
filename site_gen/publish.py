"""`site-gen publish`: a production build, checked, then deployed whole.

Both targets start the same way: a clean build without drafts into a fresh
folder of its own (never output/, which `build --drafts` may have filled),
then a check that the folder holds exactly the build's manifest, and a leak
scan. Only then is anything deployed:

- `--to DIR`: the new tree is staged beside DIR and swapped in with renames,
  so DIR is either the old site or the new one, never a mix of both;
- `--branch NAME`: the tree is committed with git plumbing and a private
  index file, on top of the branch's history, then pushed without --force.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import __version__
from .builder import CACHE_DIR, Builder, BuildReport
from .errors import ContentError, Problem, Problems, SiteGenError, UsageError
from .fields import KIND_SINGULAR, KINDS, SINGULAR_TO_KIND
from .routes import BRIEFING_PATH
from .writer import check_output_dir, looks_built

PUBLISHED_RECORD = "published.json"
TRAILER = "Published-by: site-gen"
ALLOWED_DOTFILES = (".nojekyll",)
ALLOWED_DOT_DIRS = (".well-known",)

_ID = rb"([a-z0-9]+(?:-[a-z0-9]+)*)"
_KIND_NAMES = "|".join(KINDS).encode()
_SINGULARS = "|".join(KIND_SINGULAR.values()).encode()
# A record's URL path (stories/<id>/), its anchor or element id (#event-<id>,
# id="quote-<id>"), or a data attribute naming it (data-question="<id>").
_RECORD_REFERENCE = re.compile(
    rb"(?<![A-Za-z0-9_-])(?:(" + _KIND_NAMES + rb")/" + _ID + rb"/"
    rb"|(?:#|\bid=[\"']?)(" + _SINGULARS + rb")-" + _ID + rb"(?![a-z0-9-])"
    rb"|data-(" + _SINGULARS + rb")=[\"']" + _ID + rb"[\"'])"
)
_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_SECRET_NAMES = re.compile(
    r"(^|/)(id_(rsa|dsa|ecdsa|ed25519)|[^/]*\.(pem|key|p12|pfx|kdbx|swp|swo|swx|bak|orig|rej)|[^/]*~|#[^/]*#)$"
)


class PublishError(SiteGenError):
    """A publish that was refused or failed; nothing was deployed."""


@dataclass
class Published:
    """What a publish did."""

    target: str
    files: int
    problems: list[Problem] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    commit: str | None = None
    pushed: bool = False
    notes: list[str] = field(default_factory=list)


# -- the production build and its checks --------------------------------------


@dataclass
class _Build:
    folder: Path
    report: BuildReport
    title: str
    cname: str | None
    as_of: date


def production_build(root: Path, folder: Path, as_of: date | None, base_url: str | None) -> _Build:
    """Build without drafts into `folder` (new or empty); raise ContentError on errors."""
    from .config import load_config
    from .site import default_as_of

    config = load_config(root, Problems())
    day = as_of or default_as_of(config)
    builder = Builder(root, folder, drafts=False, base_url=base_url, cache=False)
    builder.keep_views = False  # it builds once
    report = builder.build(day)
    if not report.ok or config is None:
        raise ContentError(report.problems)
    records, _ = builder.loader.load(Problems())
    drafts = {(r.kind, r.id) for r in records if r.draft}
    leaks = scan_tree(folder, report.outputs, drafts)
    if leaks:
        raise PublishError(
            "refusing to publish; the build holds what looks like a leak:\n"
            + "\n".join(f"  {leak}" for leak in leaks)
        )
    return _Build(folder, report, config.title, config.cname, day)


def scan_tree(folder: Path, manifest: list[str], drafts: set[tuple[str, str]]) -> list[str]:
    """Why `folder` must not be published; empty when it is safe.

    It must hold exactly the files in `manifest` (plus allowed dotfiles), no
    symlinks, no secrets by name or content, and no link to a draft record.
    """
    expected = set(manifest)
    leaks: list[str] = []
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath, name)
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                leaks.append(f"{rel}: a symlink (publish never follows links)")
            elif path.is_file():
                found.add(rel)
        dirnames[:] = [d for d in dirnames if not Path(dirpath, d).is_symlink()]
    for rel in sorted(found):
        if rel not in expected:
            leaks.append(f"{rel}: not made by this build")
        leaks += _name_leaks(rel)
    for rel in sorted(found & expected):
        data = (folder / rel).read_bytes()
        if _PRIVATE_KEY.search(data):
            leaks.append(f"{rel}: holds a private key")
        for kind, record_id in sorted(linked_records(data) & drafts):
            leaks.append(f"{rel}: links to the draft {KIND_SINGULAR[kind]} '{record_id}'")
        if rel == BRIEFING_PATH:
            leaks += _json_draft_leaks(rel, data, drafts)
    leaks += [f"{rel}: in the build's manifest but missing" for rel in sorted(expected - found)]
    return leaks


def _name_leaks(rel: str) -> list[str]:
    parts = rel.split("/")
    dotted = [p for p in parts if p.startswith(".")]
    if dotted and rel not in ALLOWED_DOTFILES and parts[0] not in ALLOWED_DOT_DIRS:
        return [f"{rel}: a dotfile (only {', '.join(ALLOWED_DOTFILES + ALLOWED_DOT_DIRS)} are published)"]
    if _SECRET_NAMES.search(rel):
        return [f"{rel}: looks like a key, backup or editor swap file"]
    return []


def linked_records(data: bytes) -> set[tuple[str, str]]:
    """(kind, id) of every record a file points at: by URL, anchor or data attribute.

    Ids are only read in those places, so a draft called 'the' or 'update'
    is not confused with the word; one pass per file, whatever the number of drafts.
    """
    found = set()
    for match in _RECORD_REFERENCE.finditer(data):
        name, record_id = (g.decode() for g in match.groups() if g)
        found.add((name if name in KINDS else SINGULAR_TO_KIND[name], record_id))
    return found


def _json_draft_leaks(rel: str, data: bytes, drafts: set[tuple[str, str]]) -> list[str]:
    try:
        exported = json.loads(data)
    except ValueError:
        return [f"{rel}: not valid JSON"]
    leaks = []
    for kind in KINDS:
        for item in exported.get(kind, []) if isinstance(exported, dict) else []:
            if isinstance(item, dict) and (kind, item.get("id")) in drafts:
                leaks.append(f"{rel}: lists the draft {KIND_SINGULAR[kind]} '{item['id']}'")
    return leaks


# -- publish --to DIR ----------------------------------------------------------


def publish_to(
    root: Path, target: Path, *, as_of: date | None = None, base_url: str | None = None
) -> Published:
    """Make `target` exactly the production build, or leave it as it was."""
    target = _real_target(target)
    _refuse_foreign(root, target)
    stage = target.parent / f".{target.name}.publish-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _clean_leftovers(target)
        os.mkdir(stage)
    except OSError as exc:
        raise PublishError(
            f"cannot stage the new site beside {target} ({exc.strerror}); publish needs to write in "
            f"{target.parent} so that it can swap the whole folder at once"
        ) from None
    try:
        build = production_build(root, stage, as_of, base_url)
        result = Published(str(target), len(build.report.outputs), build.report.problems)
        _diff(target, stage, build.report.outputs, result)
        if target.is_dir():
            os.chmod(stage, stat.S_IMODE(os.stat(target).st_mode))
        _swap_in(stage, target)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise PublishError(
            f"publish failed: {exc.strerror or exc}{where}; {target} was left as it was"
        ) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    _remember(root, target, build.report.outputs)
    return result


def _real_target(target: Path) -> Path:
    """The folder itself: a symlink to a folder is followed, so the link keeps working."""
    target = Path(os.path.abspath(target))
    if target.is_symlink():
        target = target.resolve()
    if target.exists() and not target.is_dir():
        raise PublishError(f"{target} is not a folder")
    if target.parent == target:
        raise PublishError(f"refusing to publish to {target}")
    return target


def _refuse_foreign(root: Path, target: Path) -> None:
    """Never replace a folder of someone else's files."""
    if (target / ".git").exists():
        raise PublishError(
            f"refusing to publish to {target}: it is a git repository "
            "(use publish --branch to publish with git)"
        )
    try:
        check_output_dir(target, root, owned=True)
    except SiteGenError as exc:
        raise PublishError(str(exc).replace("build into", "publish to")) from None
    if not target.is_dir() or not any(target.iterdir()):
        return
    if str(target) in _published_record(root) or looks_built(target):
        return
    raise PublishError(
        f"refusing to publish to {target}: it is not empty and site-gen has not published there; "
        "choose a new or empty folder (publish replaces the whole folder)"
    )


def _published_record(root: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads((root / CACHE_DIR / PUBLISHED_RECORD).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _remember(root: Path, target: Path, outputs: list[str]) -> None:
    """Note the publish, so that a theme without the generator tag can publish there again."""
    record = _published_record(root)
    record[str(target)] = {"files": len(outputs)}
    cache = root / CACHE_DIR
    try:
        cache.mkdir(exist_ok=True)
        ignore = cache / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# site-gen's build cache: safe to delete at any time\n*\n")
        temp = cache / f"{PUBLISHED_RECORD}.tmp-{os.getpid()}"
        temp.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temp, cache / PUBLISHED_RECORD)
    except OSError:
        pass  # only a convenience: looks_built() recognises the folder too


def _clean_leftovers(target: Path) -> None:
    """Remove stages and old trees a killed publish left beside `target`."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(publish|previous)-(\d+)-[0-9a-f]{{8}}$")
    for entry in os.scandir(target.parent):
        match = pattern.match(entry.name)
        if match and not _alive(int(match.group(2))) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _diff(target: Path, stage: Path, outputs: list[str], result: Published) -> None:
    old = _files_in(target) if target.is_dir() else set()
    new = set(outputs)
    result.added = sorted(new - old)
    result.removed = sorted(old - new)
    result.changed = sorted(rel for rel in new & old if not _same_file(target / rel, stage / rel))


def _files_in(folder: Path) -> set[str]:
    found = set()
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in filenames:
            found.add(Path(dirpath, name).relative_to(folder).as_posix())
        for name in dirnames:
            if Path(dirpath, name).is_symlink():
                found.add(Path(dirpath, name).relative_to(folder).as_posix())
    return found


def _same_file(a: Path, b: Path) -> bool:
    try:
        return (
            not a.is_symlink() and a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()
        )
    except OSError:
        return False


def _swap_in(stage: Path, target: Path) -> None:
    """Put `stage` at `target`; the old tree ends up at `stage` (and is removed by the caller)."""
    if not target.exists():
        os.rename(stage, target)
        return
    if _exchange(stage, target):
        return
    # No atomic exchange here: two renames, undone if the second one fails.
    previous = target.parent / stage.name.replace(".publish-", ".previous-")
    os.rename(target, previous)
    try:
        os.rename(stage, target)
    except BaseException:
        os.rename(previous, target)
        raise
    os.rename(previous, stage)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False when unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


# -- publish --branch NAME ---------------------------------------------------


def publish_branch(
    root: Path,
    branch: str,
    *,
    remote: str = "origin",
    push: bool = True,
    message: str | None = None,
    as_of: date | None = None,
    base_url: str | None = None,
) -> Published:
    """Commit the production build as the whole tree of `branch` and push it."""
    git = _Git(root)
    git.check_branch_name(branch)
    git.refuse_checked_out(branch)
    if push:
        git.require_remote(remote)
    with tempfile.TemporaryDirectory(prefix="site-gen-publish-") as temp:
        try:
            build = production_build(root, Path(temp, "site"), as_of, base_url)
        except OSError as exc:
            raise PublishError(f"the build failed: {exc.strerror or exc}; nothing was published") from None
        extras = {".nojekyll": b""}
        if build.cname:
            extras["CNAME"] = (build.cname + "\n").encode()
        for rel, data in extras.items():
            Path(temp, "site", rel).write_bytes(data)
        paths = sorted(build.report.outputs + list(extras))
        result = Published(f"branch {branch}", len(paths), build.report.problems)
        remote_tip = git.fetch_branch(remote, branch) if push else git.tracking_tip(remote, branch)
        local_tip = git.rev(f"refs/heads/{branch}")
        parent = git.choose_parent(branch, remote, local_tip, remote_tip)
        tree = git.write_tree(Path(temp, "site"), paths, Path(temp, "index"))
        if parent and not git.made_by_us(parent):
            result.notes.append(
                f"the tip of {branch} was not made by site-gen; this commit replaces its files "
                "(they stay in the branch's history)"
            )
        new_tip = parent
        if parent and git.rev(f"{parent}^{{tree}}") == tree:
            result.notes.append(f"nothing changed since the last publish of {branch}")
        else:
            text = (message or f"Publish {build.title} as of {build.as_of.isoformat()}").rstrip()
            new_tip = git.commit_tree(tree, parent, f"{text}\n\n{TRAILER} {__version__}\n")
            result.commit = new_tip
        if push and new_tip and new_tip != remote_tip:
            git.push(remote, branch, new_tip)
            result.pushed = True
        if new_tip and new_tip != local_tip:
            git.update_ref(branch, new_tip, local_tip)
    return result


class _Git:
    """The few git commands publish needs, run in the site's repository."""

    def __init__(self, root: Path) -> None:
        self.root = root
        if shutil.which("git") is None:
            raise PublishError("git is not installed; install it, or publish to a folder with --to DIR")
        found = self.run("rev-parse", "--is-inside-work-tree", check=False)
        if found.returncode != 0 or found.stdout.strip() != "true":
            raise PublishError(
                f"{root} is not in a git repository; run `git init` there and add a remote "
                "(git remote add origin URL), or publish to a folder with --to DIR"
            )

    def run(
        self, *args: str, check: bool = True, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        # Only the commands given a private index may use one: never the user's.
        environ = {k: v for k, v in os.environ.items() if k != "GIT_INDEX_FILE"}
        environ.update(env or {})
        proc = subprocess.run(
            ["git", "-C", str(self.root), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=environ,
        )
        if check and proc.returncode != 0:
            raise PublishError(f"git {args[0]} failed: {_git_reason(proc)}")
        return proc

    def rev(self, name: str) -> str | None:
        found = self.run("rev-parse", "--verify", "--quiet", name, check=False)
        return (found.stdout.strip() or None) if found.returncode == 0 else None

    def check_branch_name(self, branch: str) -> None:
        if self.run("check-ref-format", "--branch", branch, check=False).returncode != 0:
            raise UsageError(f"--branch: '{branch}' is not a valid branch name")

    def refuse_checked_out(self, branch: str) -> None:
        """Moving a checked-out branch would change someone's working tree."""
        listing = self.run("worktree", "list", "--porcelain").stdout
        if f"branch refs/heads/{branch}\n" in listing + "\n":
            raise PublishError(
                f"branch {branch} is checked out (here or in another worktree); publish commits to it "
                "without touching your files, so switch that checkout to your content branch first"
            )

    def require_remote(self, remote: str) -> None:
        if self.run("remote", "get-url", remote, check=False).returncode != 0:
            raise PublishError(
                f"there is no git remote named '{remote}'; add it with `git remote add {remote} URL`, "
                "choose another with --remote, or commit without pushing with --no-push"
            )

    def fetch_branch(self, remote: str, branch: str) -> str | None:
        """The remote's tip of `branch` after fetching it, None when it has no such branch."""
        listed = self.run("ls-remote", "--heads", remote, f"refs/heads/{branch}", check=False)
        if listed.returncode != 0:
            raise PublishError(f"cannot reach the remote '{remote}': {_git_reason(listed)}")
        if not listed.stdout.strip():
            return None
        self.run(
            "fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}"
        )
        return self.rev(f"refs/remotes/{remote}/{branch}")

    def tracking_tip(self, remote: str, branch: str) -> str | None:
        return self.rev(f"refs/remotes/{remote}/{branch}")

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self.run("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0

    def choose_parent(
        self, branch: str, remote: str, local: str | None, remote_tip: str | None
    ) -> str | None:
        """The commit to build on: whichever tip contains the other; never a rewrite."""
        if local is None or remote_tip is None or local == remote_tip:
            return local or remote_tip
        if self.is_ancestor(remote_tip, local):
            return local  # earlier --no-push publishes, not yet pushed
        if self.is_ancestor(local, remote_tip):
            return remote_tip  # published from elsewhere meanwhile: build on it
        raise PublishError(
            f"your local branch {branch} and {remote}/{branch} have diverged; publish never rewrites "
            f"history. Keep the remote's with `git branch -f {branch} {remote}/{branch}`, then publish again"
        )

    def made_by_us(self, commit: str) -> bool:
        return TRAILER in self.run("log", "-1", "--format=%B", commit).stdout

    def write_tree(self, folder: Path, paths: list[str], index: Path) -> str:
        """A tree object holding exactly `paths` (files under `folder`), built in a private index."""
        hashed = self.run(
            "hash-object",
            "-w",
            "--no-filters",
            "--stdin-paths",
            stdin="".join(f"{folder / p}\n" for p in paths),
        ).stdout.split()
        if len(hashed) != len(paths):
            raise PublishError("git hash-object did not hash every file")
        env = {"GIT_INDEX_FILE": str(index)}
        info = "".join(f"100644 {sha}\t{path}\0" for sha, path in zip(hashed, paths))
        self.run("update-index", "-z", "--add", "--index-info", stdin=info, env=env)
        return self.run("write-tree", env=env).stdout.strip()

    def commit_tree(self, tree: str, parent: str | None, message: str) -> str:
        env = {} if self.run("var", "GIT_COMMITTER_IDENT", check=False).returncode == 0 else _FALLBACK_IDENT
        args = ["commit-tree", tree, *(["-p", parent] if parent else []), "-F", "-"]
        return self.run(*args, stdin=message, env=env or None).stdout.strip()

    def push(self, remote: str, branch: str, commit: str) -> None:
        pushed = self.run("push", "--porcelain", remote, f"{commit}:refs/heads/{branch}", check=False)
        if pushed.returncode != 0:
            raise PublishError(
                f"git push to {remote} was rejected; nothing was published:\n{_git_reason(pushed)}\n"
                f"hint: someone may have pushed to {branch} meanwhile, or the branch is protected; "
                f"`git fetch {remote}` and publish again (publish builds on the remote's commits)"
            )
        self.run("update-ref", f"refs/remotes/{remote}/{branch}", commit, check=False)

    def update_ref(self, branch: str, new: str, old: str | None) -> None:
        self.run("update-ref", "-m", "site-gen publish", f"refs/heads/{branch}", new, old or "")


_FALLBACK_IDENT = {
    "GIT_AUTHOR_NAME": "site-gen",
    "GIT_AUTHOR_EMAIL": "site-gen@localhost",
    "GIT_COMMITTER_NAME": "site-gen",
    "GIT_COMMITTER_EMAIL": "site-gen@localhost",
}


def _git_reason(proc: subprocess.CompletedProcess[str]) -> str:
    text = (proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}").splitlines()
    return "\n".join(f"  {line}" for line in text)
