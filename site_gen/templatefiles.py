"""Where the templates are: the site's own `templates/` over the default theme.

Kept apart from render.py so that a build that finds nothing changed (it
fingerprints the templates) does not import Jinja.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def theme_dir() -> Path:
    """The default theme shipped with site-gen."""
    try:
        from importlib.resources import files

        # Installed from a wheel, site_gen.theme has no __init__.py: files() gives a
        # MultiplexedPath whose str() is not a path, but a file inside it is one.
        base = files("site_gen.theme") / "base.html"
        if base.is_file():
            return Path(str(base)).parent
    except (ImportError, ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "templates"


def template_dirs(root: Path) -> list[Path]:
    own = root / "templates"
    theme = theme_dir()
    dirs = [own] if own.is_dir() and own.resolve() != theme.resolve() else []
    return dirs + [theme]


def templates_fingerprint(root: Path) -> str:
    """One hash of every template file that could be used (v1 dependency rule)."""
    digest = hashlib.blake2b(digest_size=16)
    for folder in template_dirs(root):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()
