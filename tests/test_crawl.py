"""A crawler over the built site, served by a real HTTP server under base_url's path.

Every internal link, stylesheet, image and script must answer 200, every
fragment must name an element of its page, every page must be reachable from the
home page, and the 404 page's links must work from any missing URL.
"""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import pytest
from buildkit import BEFORE_DEADLINE, Node, build, fixture_site, parse_html, read

REPO = Path(__file__).resolve().parent.parent
LINKING = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src", "iframe": "src"}


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the output folder under a path prefix, and 404.html for anything missing."""

    prefix = "/"
    folder = Path()

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def translate_path(self, path: str) -> str:
        path = unquote(urlsplit(path).path)
        if not path.startswith(self.prefix):
            return str(self.folder / "__missing__" / "__missing__")
        rel = path[len(self.prefix) :]
        target = (self.folder / rel).resolve()
        if self.folder.resolve() not in (target, *target.parents):
            return str(self.folder / "__missing__" / "__missing__")
        return str(target)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code != 404:
            super().send_error(code, message, explain)
            return
        body = (self.folder / "404.html").read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@dataclass
class Server:
    root: str  # http://127.0.0.1:PORT/prefix/
    httpd: http.server.ThreadingHTTPServer


def serve(folder: Path, prefix: str) -> Iterator[Server]:
    handler = type("Bound", (Handler,), {"prefix": prefix, "folder": folder})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}{prefix}", httpd)
    finally:
        httpd.shutdown()
        httpd.server_close()


def fetch(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


@dataclass
class Crawl:
    pages: dict[str, Node] = field(default_factory=dict)
    assets: set[str] = field(default_factory=set)
    fragments: list[tuple[str, str, str]] = field(default_factory=list)  # (from page, target, fragment)
    broken: list[tuple[str, str, int]] = field(default_factory=list)
    absolute: list[tuple[str, str]] = field(default_factory=list)  # base_url links, checked by mapping


def links_of(doc: Node) -> Iterator[str]:
    for node in doc.iter():
        name = LINKING.get(node.tag)
        value = node.attrs.get(name) if name else None
        # The theme's empty icon (data:,) saves a request; it is not a link to follow.
        if value and not value.startswith(("data:", "mailto:")):
            yield value


def crawl(root: str, base_url: str, start: str | None = None) -> Crawl:
    """Breadth-first over every internal URL reachable from `start` (default: the root)."""
    result = Crawl()
    queue, seen = [start or root], {start or root}
    while queue:
        url = queue.pop(0)
        status, body, kind = fetch(url)
        if status != 200 and url != start:
            result.broken.append(("?", url, status))
            continue
        if "text/html" not in kind:
            result.assets.add(url)
            continue
        doc = parse_html(body.decode("utf-8"))
        result.pages[url] = doc
        for ref in links_of(doc):
            if ref.startswith(base_url):
                result.absolute.append((url, ref))
                ref = root + ref[len(base_url) :]
            target, fragment = urldefrag(urljoin(url, ref))
            if not target.startswith(root):
                assert not target.startswith("http://127.0.0.1"), (url, ref, "leaves the base path")
                continue  # external
            if fragment:
                result.fragments.append((url, target, fragment))
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return result


def ids_of(doc: Node) -> set[str]:
    return {n.attrs["id"] or "" for n in doc.iter() if n.attrs.get("id")}


def assert_complete(result: Crawl, out: Path, root: str) -> None:
    assert not result.broken, result.broken[:10]
    for source, target, fragment in result.fragments:
        assert target in result.pages, (source, target)
        assert fragment in ids_of(result.pages[target]), (source, target, fragment)
    # Every page of the site is reachable by following links from the home page.
    built = {root + p.relative_to(out).as_posix()[: -len("index.html")] for p in out.rglob("index.html")}
    assert built - set(result.pages) == set()
    assert root + "static/site.css" in result.assets


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(REPO, "2025-11-20", out=tmp_path_factory.mktemp("crawl") / "out")


def test_example_crawls_clean_under_its_base_path(example: Path) -> None:
    base_url = "https://example.org/rare-earths/"
    for server in serve(example, "/rare-earths/"):
        result = crawl(server.root, base_url)
        assert_complete(result, example, server.root)
        assert len(result.pages) > 40
        # Absolute links into the site (canonical, og:url) name files that exist.
        for source, ref in result.absolute:
            rel = urlsplit(ref).path[len("/rare-earths/") :]
            path = example / (rel + "index.html" if rel.endswith("/") or not rel else rel)
            assert path.is_file(), (source, ref)


def test_fixture_crawls_clean_at_a_deep_base_path(tmp_path: Path) -> None:
    site = fixture_site(tmp_path / "site")
    out = build(site, BEFORE_DEADLINE, "--base-url", "https://mirror.example.net/a/b/c/")
    for server in serve(out, "/a/b/c/"):
        result = crawl(server.root, "https://mirror.example.net/a/b/c/")
        assert_complete(result, out, server.root)
        assert server.root + "feed.xml" in result.assets
        assert server.root + "data/briefing.json" in result.assets


def test_relative_links_do_not_depend_on_the_host_root(example: Path) -> None:
    """Served at the host root instead, internal links still resolve (they are relative)."""
    for server in serve(example, "/"):
        result = crawl(server.root, "https://example.org/rare-earths/")
        assert_complete(result, example, server.root)


@pytest.mark.parametrize("missing", ["nope/", "topics/unknown/deeper/still/", "stories/x/y.html"])
def test_404_page_links_work_from_any_missing_url(example: Path, missing: str) -> None:
    for server in serve(example, "/rare-earths/"):
        status, body, _ = fetch(server.root + missing)
        assert status == 404
        doc = parse_html(body.decode())
        refs = list(links_of(doc))
        assert refs
        for ref in refs:
            if ref.startswith("#"):
                assert ref[1:] in ids_of(doc), ref
                continue
            target = urldefrag(urljoin(server.root + missing, ref))[0]
            if target.startswith("https://"):
                continue
            assert target.startswith(server.root), ref
            status, _, _ = fetch(target)
            assert status == 200, (ref, target)


def test_every_page_links_its_stylesheet_and_feed_relatively(example: Path) -> None:
    for path in example.rglob("index.html"):
        doc = parse_html(path.read_text())
        sheet = [n.attrs["href"] for n in doc.find_all("link") if n.attrs.get("rel") == "stylesheet"]
        assert sheet and not (sheet[0] or "").startswith(("/", "http")), path
        depth = len(path.relative_to(example).parts) - 1
        assert sheet[0] == "../" * depth + "static/site.css", path
    assert read(example, "404.html").count('href="/rare-earths/static/site.css"') == 1
