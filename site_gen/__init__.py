"""site-gen: a static briefing-site generator.

The library API: `load_site()` loads and checks a site, `check_site()` adds
the editorial checks of `site-gen check`, `build_site()` builds it.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import ContentError, Problem, SiteGenError, UsageError  # noqa: E402
from .site import LoadResult, load_site  # noqa: E402

__all__ = [
    "ContentError",
    "LoadResult",
    "Problem",
    "SiteGenError",
    "UsageError",
    "__version__",
    "load_site",
]
