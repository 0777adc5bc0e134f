"""Shared fixtures: a tiny site written into tmp_path, the example site copied there, and a CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Union

import pytest
from buildkit import Run, site_gen

Content = Union[str, bytes]

MINIMAL_SITE_YAML = "title: Test Briefing\nbase_url: https://example.org/briefing/\n"


def write_site(root: Path, files: dict[str, Content | None], site_yaml: bool = True) -> Path:
    """Write `files` ({relative path: text or bytes}) under `root`.

    A minimal valid site.yaml is written first unless `files` gives its own
    (or maps "site.yaml" to None, or `site_yaml` is False). Text is written
    as UTF-8 exactly as given; bytes are written as they are.
    """
    root.mkdir(parents=True, exist_ok=True)
    files = dict(files)
    if site_yaml and "site.yaml" not in files:
        files["site.yaml"] = MINIMAL_SITE_YAML
    for relpath, text in files.items():
        if text is None:
            continue
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_bytes(text.encode("utf-8"))
    return root


@pytest.fixture
def make_site(tmp_path: Path) -> Callable[..., Path]:
    """make_site({"content/topics/t.yaml": "title: T\\n..."}) -> the site folder.

    Call it more than once with `name=` to make several sites in one test.
    """

    def make(
        files: dict[str, Content | None] | None = None, *, name: str = "site", site_yaml: bool = True
    ) -> Path:
        return write_site(tmp_path / name, files or {}, site_yaml=site_yaml)

    return make


CliResult = Run  # the CLI's exit code, stdout and stderr (`.lines` splits stderr)


@pytest.fixture
def run_cli() -> Callable[..., Run]:
    """Run `python -m site_gen ARGS` as a real subprocess.

    SOURCE_DATE_EPOCH is removed from the environment unless `env` sets it.
    """
    return site_gen


@pytest.fixture
def example_site(tmp_path: Path) -> Path:
    """A copy of the repository's example briefing (site.yaml and content/), the default theme."""
    repo = Path(__file__).resolve().parent.parent
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(repo / "site.yaml", site / "site.yaml")
    shutil.copytree(repo / "content", site / "content")
    return site
