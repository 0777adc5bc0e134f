"""`pip install .` (not editable) into a fresh virtual environment gives a working site-gen.

The default theme (templates/, shipped as the package site_gen.theme), its
static files and the starter site of `init` must all be inside the wheel: a
site made by `init` has no templates/ of its own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# What a source distribution holds: enough to build the wheel, nothing else of the checkout.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "site_gen", "templates")


def files_under(folder: Path) -> set[str]:
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")
    }


def run(
    args: list[str | os.PathLike[str]], cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    # No PYTHONPATH and no SOURCE_DATE_EPOCH from the caller: the venv must stand on its own.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SOURCE_DATE_EPOCH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain venv (no system site-packages) with site-gen installed from a copy of the repository."""
    base = tmp_path_factory.mktemp("packaging")
    source = base / "source"
    source.mkdir()
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif path.is_file():
            shutil.copy2(path, source / name)
    env_dir = base / "venv"
    made = run([sys.executable, "-m", "venv", env_dir], cwd=base)
    assert made.returncode == 0, made.stderr
    assert "include-system-site-packages = false" in (env_dir / "pyvenv.cfg").read_text()
    installed = run([env_dir / "bin/python", "-m", "pip", "install", "-q", str(source)], cwd=base)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return env_dir


@pytest.mark.slow
def test_the_wheel_ships_the_whole_theme_and_the_starter_site(venv: Path) -> None:
    where = run(
        [
            venv / "bin/python",
            "-c",
            "import site_gen, site_gen.theme, pathlib; "
            "print(pathlib.Path(site_gen.__file__).parent); print(pathlib.Path(site_gen.theme.__path__[0]))",
        ],
        cwd=venv.parent,
    )
    assert where.returncode == 0, where.stderr
    package, theme = (Path(line) for line in where.stdout.split())
    assert venv in package.parents, "site_gen must be imported from the venv, not the checkout"
    assert files_under(REPO / "templates") <= files_under(theme)
    assert "static/site.css" in files_under(theme)
    assert files_under(REPO / "site_gen/starter") <= files_under(package / "starter")


@pytest.mark.slow
def test_installed_site_gen_inits_and_builds_a_site_with_its_css(venv: Path) -> None:
    work = venv.parent / "work"
    work.mkdir()
    site_gen = venv / "bin/site-gen"
    assert run([site_gen, "--version"], cwd=work).stdout.startswith("site-gen ")
    made = run([site_gen, "init", "briefing"], cwd=work)
    assert made.returncode == 0, made.stderr
    assert not (work / "briefing/templates").exists()
    checked = run([site_gen, "--site", "briefing", "check", "--strict"], cwd=work)
    assert checked.returncode == 0, checked.stderr
    built = run([site_gen, "build"], cwd=work / "briefing")
    assert built.returncode == 0, built.stderr
    out = work / "briefing/output"
    home = (out / "index.html").read_text(encoding="utf-8")
    assert '<meta name="generator" content="site-gen' in home
    stylesheets = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', home) + re.findall(
        r'<link[^>]+href="([^"]+\.css)"', home
    )
    assert stylesheets, "the home page links no stylesheet"
    for href in stylesheets:
        css = out / href.split("?")[0]
        assert css.is_file() and css.stat().st_size > 0, href
    assert (out / "static/site.css").read_bytes() == (REPO / "templates/static/site.css").read_bytes()
    # The same venv publishes too.
    published = run([site_gen, "--site", "briefing", "publish", "--to", work / "public"], cwd=work)
    assert published.returncode == 0, published.stderr
    assert (work / "public/index.html").is_file()


def quick_start_script(bare_remote: Path) -> str:
    """The README's quick-start commands, minus installing (done) and serve (runs until stopped)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    kept = [
        line
        for line in lines
        if line.startswith(("site-gen ", "git ")) and not line.startswith("site-gen serve")
    ]
    return "set -e\n" + "\n".join(kept).replace("git@github.com:YOU/my-briefing.git", str(bare_remote)) + "\n"


@pytest.mark.slow
def test_the_readme_quick_start_publishes_a_briefing(venv: Path) -> None:
    work = venv.parent / "quick-start"
    work.mkdir()
    bare = work / "remote.git"
    assert subprocess.run(["git", "init", "-q", "--bare", str(bare)]).returncode == 0
    script = quick_start_script(bare)
    assert "site-gen init" in script and "site-gen new" in script and "publish --branch gh-pages" in script
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SOURCE_DATE_EPOCH")}
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    env.update(
        GIT_AUTHOR_NAME="New User",
        GIT_AUTHOR_EMAIL="user@example.org",
        GIT_COMMITTER_NAME="New User",
        GIT_COMMITTER_EMAIL="user@example.org",
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, script + done.stdout + done.stderr
    published = subprocess.run(
        ["git", "-C", str(bare), "ls-tree", "-r", "--name-only", "gh-pages"], capture_output=True, text=True
    ).stdout.split()
    assert {"index.html", ".nojekyll", "topics/harbour-bridge-repairs/index.html"} <= set(published)
    # The two new records are drafts: not published until the editor says so.
    assert not any("city-budget" in path or "budget-vote-delayed" in path for path in published)
