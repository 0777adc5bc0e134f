"""The published example site served by nginx under base_url's path: every link resolves.

`publish --to` writes the repository's example briefing; Debian's nginx,
started by the test on 127.0.0.1 with `location /rare-earths/` (the path of
the example's base_url), serves it. A crawler follows every internal link and
asset from the home page (and every URL of the sitemap): all must be 200. A
missing URL must get nginx's 404 with the site's 404 page, whose links are
absolute paths and must resolve too.
"""

from __future__ import annotations

import http.client
import os
import pwd
import socket
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
NGINX = Path("/usr/sbin/nginx")
PREFIX = "/rare-earths/"  # the path of the example site's base_url
AS_OF = "2025-11-20"

pytestmark = pytest.mark.skipif(
    not NGINX.is_file(), reason="Debian's nginx (/usr/sbin/nginx) is not installed"
)


class Links(HTMLParser):
    """href/src values of a page, and the ids a fragment may point at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("href", "src"):
            if values.get(name):
                self.links.append(values[name])  # type: ignore[arg-type]
        for name in ("id", "name"):
            if values.get(name):
                self.ids.add(values[name])  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nginx_config(tmp: Path, port: int, published: Path) -> str:
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temps = "\n".join(
        f"  {kind}_temp_path {tmp}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
{user}
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
  include /etc/nginx/mime.types;
  access_log {tmp}/access.log;
{temps}
  server {{
    listen 127.0.0.1:{port};
    location {PREFIX} {{
      alias {published}/;
    }}
    error_page 404 {PREFIX}404.html;
  }}
}}
"""


@pytest.fixture
def served(tmp_path: Path, run_cli) -> tuple[int, Path]:
    """nginx serving a `publish --to` of the example site; (port, published folder)."""
    port = free_port()
    published = tmp_path / "www" / "briefing"
    result = run_cli(
        "--site", REPO, "publish", "--to", published, "--as-of", AS_OF,
        "--base-url", f"http://127.0.0.1:{port}{PREFIX}",
    )  # fmt: skip
    assert result.code == 0, result
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config(tmp_path, port, published))
    proc = subprocess.Popen(
        [str(NGINX), "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(port, proc, tmp_path)
        yield port, published
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(port: int, proc: subprocess.Popen[bytes], tmp: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (tmp / "error.log").read_text() if (tmp / "error.log").exists() else ""
            pytest.fail(f"nginx exited with {proc.returncode}: {proc.stdout.read().decode()} {log}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail("nginx did not start listening")


def get(port: int, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def crawl(port: int, starts: list[str]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Every internal URL reachable from `starts`: {path: status}; and links whose #fragment is missing."""
    origin = f"http://127.0.0.1:{port}"
    statuses: dict[str, int] = {}
    ids: dict[str, set[str]] = {}
    fragments: list[tuple[str, str, str]] = []
    queue = list(starts)
    while queue:
        path = queue.pop()
        if path in statuses:
            continue
        status, content_type, body = get(port, path)
        statuses[path] = status
        if status != 200:
            continue
        if "html" in content_type:
            parser = Links()
            parser.feed(body.decode("utf-8"))
            ids[path] = parser.ids
            links = parser.links
        elif path.endswith("sitemap.xml"):
            links = [loc.split("</loc>")[0] for loc in body.decode().split("<loc>")[1:]]
        else:
            continue
        for link in links:
            absolute, fragment = urldefrag(urljoin(origin + path, link))
            parts = urlsplit(absolute)
            if f"{parts.scheme}://{parts.netloc}" != origin:
                continue  # outside links (sources, feeds' own ids) are not ours to serve
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            assert target.startswith(PREFIX), f"{path} links outside the site's path: {link}"
            queue.append(target)
            if fragment:
                fragments.append((path, target, fragment))
    missing = [
        (f"{page} -> {target}#{frag}", frag)
        for page, target, frag in fragments
        if frag not in ids.get(target, set())
    ]
    return statuses, missing


def test_every_page_link_and_asset_of_the_published_site_is_served(served: tuple[int, Path]) -> None:
    port, published = served
    statuses, missing_fragments = crawl(port, [PREFIX, f"{PREFIX}sitemap.xml"])
    broken = {path: status for path, status in statuses.items() if status != 200}
    assert broken == {}
    assert missing_fragments == []
    # The crawl reached every page the build made (all of them are linked from somewhere).
    pages = {
        PREFIX + p.relative_to(published).as_posix().removesuffix("index.html")
        for p in published.rglob("index.html")
    }
    assert pages <= set(statuses), sorted(pages - set(statuses))
    assert f"{PREFIX}static/site.css" in statuses and f"{PREFIX}feed.xml" in statuses


def test_a_missing_url_gets_the_404_page_whose_links_resolve(served: tuple[int, Path]) -> None:
    port, published = served
    for missing in (f"{PREFIX}no-such-page/", f"{PREFIX}stories/not-a-story/", f"{PREFIX}topics/x/y/z.html"):
        status, _, body = get(port, missing)
        assert status == 404, missing
        assert body == (published / "404.html").read_bytes()
    parser = Links()
    parser.feed((published / "404.html").read_text(encoding="utf-8"))
    internal = [link for link in parser.links if not link.startswith(("http:", "https:", "mailto:", "data:"))]
    assert internal, "the 404 page links nowhere"
    for link in internal:
        if link.startswith("#"):  # the skip link: a fragment of the 404 page itself
            assert link[1:] in parser.ids, link
            continue
        assert link.startswith(PREFIX), f"404.html must link with absolute paths: {link}"
        status, _, _ = get(port, urldefrag(link)[0])
        assert status == 200, link


def test_a_draft_is_not_served(served: tuple[int, Path]) -> None:
    port, _ = served
    status, _, _ = get(port, f"{PREFIX}stories/general-licence-terms-agreed/")
    assert status == 404
