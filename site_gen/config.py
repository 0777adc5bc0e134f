"""Read and validate site.yaml."""

from __future__ import annotations

from pathlib import Path

from .errors import Problems
from .fields import SITE_FIELDS
from .model import SiteConfig
from .validate import FieldReader
from .yamlread import read_yaml

CONFIG_NAME = "site.yaml"


def load_config(root: Path, problems: Problems) -> SiteConfig | None:
    """site.yaml of the site at `root`; None (with problems added) when invalid."""
    path = root / CONFIG_NAME
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.error(CONFIG_NAME, 1, 1, f"cannot read site.yaml ({exc.strerror or exc})")
        return None
    node, found = read_yaml(CONFIG_NAME, data)
    problems.extend(found)
    if node is None:
        return None
    if node.kind != "map":
        problems.error(CONFIG_NAME, node.line, node.col, "site.yaml holds a mapping of settings")
        return None
    before = len(problems.errors)
    values = FieldReader(CONFIG_NAME, problems, "site.yaml").read(node, SITE_FIELDS)
    if len(problems.errors) > before:
        return None
    return SiteConfig(**values)
