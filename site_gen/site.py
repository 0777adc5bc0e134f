"""The library entry points for loading and checking a site."""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from .config import CONFIG_NAME, load_config
from .dates import DateError, parse_as_of
from .errors import Problem, Problems, ProblemsReport, UsageError
from .index import Site, build_site
from .loader import Loader
from .model import BuildOptions, SiteConfig


@dataclass
class LoadResult(ProblemsReport):
    """A loaded site (None when site.yaml itself is invalid) and every problem."""

    site: Site | None
    problems: list[Problem]
    files: int
    changed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.site is not None and not self.errors


def site_root(path: str | os.PathLike[str]) -> Path:
    """The site folder, or UsageError when it has no site.yaml."""
    root = Path(path).resolve()
    if not (root / CONFIG_NAME).is_file():
        raise UsageError(f"{root} is not a site: it has no {CONFIG_NAME} (see site-gen init)")
    return root


def default_as_of(config: SiteConfig | None) -> date:
    """SOURCE_DATE_EPOCH as a date in the site's timezone, else today there."""
    tz = config.tz if config else timezone.utc
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz).date()
        except (ValueError, OverflowError, OSError):
            raise UsageError(f"SOURCE_DATE_EPOCH='{epoch}' is not a whole number of seconds") from None
    return datetime.now(tz).date()


def as_of_date(text: str | None, config: SiteConfig | None) -> date:
    if text is None:
        return default_as_of(config)
    try:
        return parse_as_of(text)
    except DateError as exc:
        raise UsageError(f"--as-of: {exc}") from None


def load_site(
    path: str | os.PathLike[str],
    *,
    as_of: str | date | None = None,
    drafts: bool = False,
    base_url: str | None = None,
    loader: Loader | None = None,
    hint: Collection[str] | None = None,
    previous: Site | None = None,
) -> LoadResult:
    """Load, validate and link the site at `path`.

    Content problems are returned, never raised; a folder that is not a site
    raises UsageError. Pass the same `loader` again to re-read only changed files
    (and the paths a watcher saw change as `hint`: see Loader.load), and the
    site it last loaded without errors as `previous` (see index.build_site).
    """
    root = site_root(path)
    problems = Problems()
    config = load_config(root, problems)
    if isinstance(as_of, datetime):  # a moment: its day in the site's timezone
        as_of = as_of.astimezone(config.tz).date() if config and as_of.tzinfo else as_of.date()
    day = as_of if isinstance(as_of, date) else as_of_date(as_of, config)
    loader = loader or Loader(root)
    records, files = loader.load(problems, hint)
    if config is None:
        return LoadResult(None, problems.sorted(), files + 1, loader.changed)
    config = config.with_base_url(base_url)
    options = BuildOptions(as_of=day, drafts=drafts, base_url=base_url)
    site = build_site(root, config, options, records, problems, previous, loader.record_changes)
    return LoadResult(site, problems.sorted(), files + 1, loader.changed)
