"""Helpers for the reader-quality tests: built sites, a real HTTP server, Chromium.

Two sites are built once per test process: the example briefing at the repo
root (as of 2025-11-20) and the hostile-content fixture in tests/sites/hostile.
Each is built into a folder that mirrors its base_url's path, and one
http.server on 127.0.0.1 serves both, so relative links are exercised the way
a real host under a sub-path would.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import threading
import warnings
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
HOSTILE = REPO / "tests" / "sites" / "hostile"
JS = REPO / "tests" / "js" / "node_modules"
AXE = JS / "axe-core" / "axe.min.js"
VNU = JS / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AS_OF = "2025-11-20"


@dataclass(frozen=True)
class Built:
    """A built site: where its files are and the URL it is served at."""

    name: str
    out: Path
    url: str

    def pages(self) -> list[str]:
        """Every page's URL path relative to the site ("", "topics/x/", "404.html")."""
        found = []
        for path in sorted(self.out.rglob("*.html")):
            rel = path.relative_to(self.out).as_posix()
            if rel.startswith("pagefind/"):
                continue
            found.append(rel[: -len("index.html")] if rel.endswith("index.html") else rel)
        return found

    def file(self, page: str) -> Path:
        return self.out / (page if page.endswith(".html") else page + "index.html")

    def html(self, page: str) -> str:
        return self.file(page).read_text(encoding="utf-8")


def page_kind(page: str) -> str:
    """The page kind of a URL path, by the routes' layout."""
    parts = [p for p in page.split("/") if p]
    if not parts:
        return "home"
    if page == "404.html":
        return "not_found"
    if len(parts) == 1:
        return parts[0]
    singular = {"topics": "topic", "stories": "story", "questions": "question", "people": "person"}
    if parts[0] in ("timeline", "quotes"):
        return f"{parts[0]}-year"
    return singular.get(parts[0], parts[0])


def one_per_kind(built: Built) -> dict[str, str]:
    """A representative page of every kind (the first in path order)."""
    chosen: dict[str, str] = {}
    for page in built.pages():
        chosen.setdefault(page_kind(page), page)
    return chosen


def build_site(site: Path, dest: Path, *args: str) -> Path:
    """Build `site` with the real CLI into `dest` (asserting success)."""
    proc = subprocess.run(
        [sys.executable, "-m", "site_gen", "--site", str(site), "build", "--as-of", AS_OF, "--out", str(dest)]
        + list(args),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return dest


def base_path(site: Path) -> str:
    """The path part of a site's base_url, read without the loader (enough for tests)."""
    for line in (site / "site.yaml").read_text(encoding="utf-8").splitlines():
        if line.startswith("base_url:"):
            return urlsplit(line.split(":", 1)[1].strip().strip("\"'")).path or "/"
    raise AssertionError("no base_url in site.yaml")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    # Pagefind fetches many index chunks at once; the default backlog of 5 can
    # drop some while the machine is busy, and a lost filter chunk hides the filters.
    request_queue_size = 128


def serve(root: Path) -> tuple[ThreadingHTTPServer, str]:
    """Serve `root` over HTTP on a free port of 127.0.0.1 in a daemon thread."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="session")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Built]]:
    """The example and the hostile fixture, built and served (once per test process)."""
    root = tmp_path_factory.mktemp("served")
    server, origin = serve(root)
    built = {}
    for name, site in (("example", REPO), ("hostile", HOSTILE)):
        path = base_path(site)
        out = build_site(site, root / path.strip("/"))
        built[name] = Built(name, out, origin + path)
    yield built
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def example(sites: dict[str, Built]) -> Built:
    return sites["example"]


@pytest.fixture(scope="session")
def hostile(sites: dict[str, Built]) -> Built:
    return sites["hostile"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright, one per test module.

    Not per session: Playwright's sync API keeps an event loop running in this
    thread while it is open, which would break other modules' asyncio tests.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


FILTER_STATE = """() => ({
    results: document.querySelectorAll('.pagefind-ui__result-link').length,
    filters: [...document.querySelectorAll('.pagefind-ui__filter-checkbox')].map(e => e.id),
    panel: (document.querySelector('.pagefind-ui__filter-panel') || {}).outerHTML || null,
})"""


def open_search_with_filters(page, url: str, selector: str, failed: list[str]) -> None:  # noqa: ANN001
    """Open a search page and wait for its results and the filter `selector`.

    In full CI runs Pagefind's filter panel sometimes never appeared for one
    page load while the results did (no failed request, no console error;
    never reproduced alone or under CPU load; seen in three different tests).
    Such a load is reported and the page loaded once more; a second miss
    fails the test with what the page held.
    """
    seen = []
    for _ in range(2):
        page.goto(url)
        page.wait_for_selector(".pagefind-ui__result-link", timeout=15000)
        try:
            # The filters arrive after the first results.
            page.wait_for_selector(selector, state="attached", timeout=30000)
            if seen:
                warnings.warn(f"search filters missing on the first load: {seen[0]}", stacklevel=2)
            return
        except Exception:  # noqa: BLE001 - recorded, then tried once more
            seen.append({"state": page.evaluate(FILTER_STATE), "failed": list(failed)})
    raise AssertionError(f"no filter {selector} after two loads: {seen}")
