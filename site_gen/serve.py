"""`site-gen serve`: a live preview that rebuilds on every change.

The rebuild loop of rebuild.py (shared with `build --watch`) builds, with
drafts, into a folder of its own, .site-gen-cache/serve/, never output/, and
after each build asks the open pages to reload; the tornado IOLoop keeps
answering requests meanwhile. A failed build keeps the last good pages, and
every HTML page served then carries an overlay listing the errors. Requests
can only ever read regular files inside the served folder.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import mimetypes
import os
import re
import signal
import socket
import stat
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .builder import CACHE_DIR, DATA_VIEWS, Builder, BuildReport
from .config import load_config
from .errors import Problems, SiteGenError, UsageError
from .livereload_adapter import LiveReload
from .rebuild import Rebuilder, plural, problem_lines, say
from .watch import WATCHED_FOLDERS

SERVE_FOLDER = "serve"
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
BODY_TAG = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
TEXT_TYPES = ("text/", "application/xml", "application/json", "application/javascript", "image/svg+xml")


# -- what the server shows ----------------------------------------------------


@dataclass(frozen=True)
class State:
    """What the pages show now; replaced whole after each build.

    `generation` changes whenever what a page shows may have changed, so a
    page served with an older one knows it is stale.
    """

    generation: int
    errors: tuple[str, ...] = ()
    base_path: str = "/"
    ready: bool = False


def preview_builder(root: Path, folder: Path) -> Builder:
    """The builder serve keeps for the site at `root`, building into its own `folder`
    (bench/run.py measures the same one)."""
    builder = Builder(root, folder, drafts=True, search=False)
    builder.autosave = False  # saved when the editor pauses (see Rebuilder._idle)
    builder.trust_output = True
    # Feeds and JSON are made when the editor pauses, after the pages are reloaded.
    builder.defer = DATA_VIEWS
    return builder


class Preview(Rebuilder):
    """The rebuild loop, and the state it shares with the request handlers."""

    kept_words = "serving the last good pages"

    def __init__(self, root: Path, folder: Path) -> None:
        super().__init__(root, preview_builder(root, folder))
        self.folder = folder
        # Pages left by an earlier session are the last good ones until we build.
        self.state = State(time_generation(), (), self._base_path("/"), (folder / "index.html").is_file())
        self.on_change: Callable[[], None] = lambda: None

    def settled(self, report: BuildReport) -> None:
        before = self.state
        if report.ok:
            after = replace(before, errors=(), base_path=self._base_path(before.base_path), ready=True)
            visible = bool(report.written or report.removed) or after != before
        else:
            after = replace(before, errors=problem_lines(report))
            visible = after != before
        if visible:
            after = replace(after, generation=before.generation + 1)
        self.state = after
        if visible:
            self.on_change()

    def _base_path(self, fallback: str) -> str:
        config = load_config(self.root, Problems())
        return config.base_path if config else fallback


def time_generation() -> int:
    # Start from the clock so pages left open across a restart reload.
    return int(time.time() * 1000)


_SHOWN = "This is the last good version of the page."
_NOT_SHOWN = "No build has made this site yet, so there is no page to show."


def overlay(errors: tuple[str, ...], built: bool = True) -> str:
    """The error panel shown above the last good content (`built`), or above the
    stand-in page of a site that no build has made yet."""
    items = "".join(
        f'<li style="margin:.2rem 0"><code style="font:13px/1.4 ui-monospace,monospace;'
        f'white-space:pre-wrap">{html.escape(line)}</code></li>'
        for line in errors
    )
    return (
        '<div id="site-gen-errors" role="alert" style="position:sticky;top:0;z-index:2147483647;'
        "max-height:60vh;overflow:auto;margin:0;padding:.75rem 1rem;background:#fff1f0;color:#5c0011;"
        'border-bottom:3px solid #a8071a;font:15px/1.4 system-ui,sans-serif;text-align:left">'
        f'<p style="margin:0 0 .4rem"><strong>The last build failed with {plural(len(errors), "error")}.'
        f"</strong> {_SHOWN if built else _NOT_SHOWN} It reloads once the files are fixed.</p>"
        f'<ul style="margin:0;padding-left:1.2rem">{items}</ul></div>'
    )


def inject(page: bytes, extra: str) -> bytes:
    """`extra` placed right after the <body> tag (or at the top without one)."""
    data = extra.encode("utf-8")
    match = BODY_TAG.search(page)
    if match is None:
        return data + page
    return page[: match.end()] + data + page[match.end() :]


def fallback_page(title: str, message: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n<main><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(message)}</p></main>\n</body>\n</html>\n"
    ).encode()


# -- where a request may read ------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The answer to a request path: a file to send, a redirect, or a refusal."""

    status: int
    path: Path | None = None
    location: str | None = None


def locate(folder: Path, base_path: str, raw_path: str) -> Target:
    """The file inside `folder` that `raw_path` (still percent-encoded) names.

    Anything that could step outside the folder is refused whatever its
    spelling: `..` (plain or encoded), backslashes, NUL, `//host`, and
    symlinks anywhere on the way, since a build never makes any.
    """
    try:
        path = unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        return Target(404)
    if not path.startswith("/") or path.startswith("//") or "\\" in path or "\x00" in path:
        return Target(404)
    segments = path.split("/")[1:]
    if any(s in (".", "..") for s in segments):
        return Target(403)
    if path in ("/", base_path.rstrip("/")) and path != base_path:
        return Target(302, location=base_path)
    if not path.startswith(base_path):
        return Target(404)
    parts = path[len(base_path) :].split("/")
    if parts[-1] == "":
        parts.pop()
    if any(not part or part.startswith(".") for part in parts):
        return Target(404)
    return _walk(folder, parts, raw_path)


def _walk(folder: Path, parts: list[str], raw_path: str) -> Target:
    current = folder
    for part in parts:
        current = current / part
        kind = _kind(current)
        if kind is None:
            return Target(404)
        if kind == "link":
            return Target(403)
    if _kind(current) == "dir":
        if parts and not raw_path.endswith("/"):
            return Target(301, location=raw_path + "/")
        current = current / "index.html"
    if _kind(current) != "file":
        return Target(404)
    if not _inside(folder, current):
        return Target(403)
    return Target(200, path=current)


def _kind(path: Path) -> str | None:
    try:
        mode = os.lstat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file" if stat.S_ISREG(mode) else None


def _inside(folder: Path, path: Path) -> bool:
    real_folder = os.path.realpath(folder)
    return os.path.realpath(path).startswith(real_folder + os.sep)


def read_file(path: Path) -> bytes | None:
    """The bytes of a regular file, refusing a symlink swapped in meanwhile."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        return handle.read()


def content_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if guessed.startswith(TEXT_TYPES) or path.suffix == ".xml":
        return f"{guessed}; charset=utf-8"
    return guessed


# -- who may ask ---------------------------------------------------------------


class HostPolicy:
    """Which Host headers and WebSocket origins are ours.

    Checking the Host header of every request defeats DNS rebinding: a web
    page whose name suddenly resolves to 127.0.0.1 still sends its own name.
    """

    def __init__(self, host: str, port: int) -> None:
        self.port = port
        self.any_host = host in WILDCARD_HOSTS
        self.names = {*LOOPBACK_NAMES, host.lower().strip("[]")}

    def allows(self, netloc: str) -> bool:
        try:
            parts = urlsplit("//" + netloc)
            name, port = parts.hostname, parts.port
        except ValueError:
            return False
        if not name or port != self.port:
            return False
        return self.any_host or name in self.names or name.endswith(".localhost") or _is_loopback(name)

    def origin_allowed(self, origin: str, host_header: str) -> bool:
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        return (
            parts.scheme in ("http", "https")
            and parts.netloc.lower() == host_header.lower()
            and self.allows(parts.netloc)
        )


def _is_loopback(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_loopback_host(host: str) -> bool:
    return host.lower() in LOOPBACK_NAMES or _is_loopback(host.strip("[]"))


# -- the HTTP side -------------------------------------------------------------


class PageHandler(tornado.web.RequestHandler):
    """Serves the preview folder: files as built, HTML with the reload script."""

    def initialize(self, preview: Preview, hub: LiveReload, policy: HostPolicy) -> None:
        self.preview = preview
        self.hub = hub
        self.policy = policy

    def prepare(self) -> None:
        if "Host" in self.request.headers and not self.policy.allows(self.request.host):
            self._plain(403, "site-gen serve: this host name is not allowed; use the address serve printed")
            self.finish()

    def compute_etag(self) -> None:
        return None

    def head(self) -> None:
        self.get()

    def get(self) -> None:
        # Read the state before the file: a page read during a build then
        # carries the older generation and is reloaded, never the reverse.
        state = self.preview.state
        target = locate(self.preview.folder, state.base_path, self.request.path)
        if target.location is not None:
            query = f"?{self.request.query}" if self.request.query else ""
            self.redirect(target.location + query, status=target.status)
            return
        if target.status == 403:
            self._plain(403, "403: forbidden")
            return
        data = read_file(target.path) if target.path else None
        if data is None:
            self._missing(state)
            return
        self._send(200, target.path.name, data, state)

    def _missing(self, state: State) -> None:
        page = read_file(self.preview.folder / "404.html") if state.ready else None
        if page is not None:
            self._send(404, "404.html", page, state)
        elif state.errors:
            title = "The site has not been built yet"
            self._send(503, "index.html", fallback_page(title, "Fix the errors above."), state, built=False)
        else:
            self._send(404, "404.html", fallback_page("Page not found", "There is no page here."), state)

    def _send(self, status: int, name: str, data: bytes, state: State, built: bool = True) -> None:
        kind = content_type(Path(name))
        if kind.startswith("text/html"):
            panel = overlay(state.errors, built) if state.errors else ""
            extra = panel + self.hub.snippet(state.generation)
            data = inject(data, extra)
        self.set_status(status)
        self.set_header("Content-Type", kind)
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Length", str(len(data)))
        if self.request.method != "HEAD":
            self.write(data)

    def _plain(self, status: int, text: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.write(text + "\n")


# -- starting and stopping -----------------------------------------------------


def serve_folder(root: Path) -> Path:
    return root / CACHE_DIR / SERVE_FOLDER


def check_serve_folder(root: Path, folder: Path) -> None:
    """The served folder may never be watched (a rebuild loop) nor be output/."""
    for name in (*WATCHED_FOLDERS, "output"):
        source = (root / name).resolve()
        if folder == source or source in folder.parents:
            raise SiteGenError(f"refusing to serve from {folder}: it is inside the site's {name}/")


def bind(host: str, port: int) -> list[socket.socket]:
    try:
        return bind_sockets(port, address=host or None)
    except OSError as exc:
        raise SiteGenError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port or --host"
        ) from None


def page_url(host: str, port: int, base_path: str) -> str:
    shown = "127.0.0.1" if host in WILDCARD_HOSTS else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}{base_path}"


def serve(root: Path, host: str = "127.0.0.1", port: int = 8000, folder: Path | None = None) -> int:
    """Build the site with drafts, serve it, and rebuild on every change until stopped."""
    root = root.resolve()
    folder = (folder or serve_folder(root)).resolve()
    check_serve_folder(root, folder)
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: a port is a number from 1 to 65535 (0 picks a free one)")
    sockets = bind(host, port)
    if not is_loopback_host(host):
        say(
            f"warning: serving on {host or 'every address'}: the preview is visible to your network, "
            "drafts included"
        )
    port = sockets[0].getsockname()[1]
    preview = Preview(root, folder)
    try:
        # Ctrl-C before the event loop's own handler is in place (during the
        # first build, say) is the same clean stop as later.
        preview.first_build()
        url = page_url(host, port, preview.state.base_path)
        say(f"serving {folder} at {url} (drafts included; Ctrl-C to stop)")
        asyncio.run(_run(preview, sockets, HostPolicy(host, port)))
    except KeyboardInterrupt:
        pass
    finally:
        preview.close()
    say("stopped")
    return 0


def _quiet(handler: tornado.web.RequestHandler) -> None:
    """No access log: the terminal is for what changed and what is wrong."""


async def _run(preview: Preview, sockets: list[socket.socket], policy: HostPolicy) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    hub = LiveReload(policy.origin_allowed, lambda: preview.state.generation)
    handlers = {"preview": preview, "hub": hub, "policy": policy}
    app = tornado.web.Application(
        [*hub.routes(), (r"/.*", PageHandler, handlers)], log_function=_quiet, **hub.settings()
    )
    server = HTTPServer(app)
    server.add_sockets(sockets)
    preview.on_change = lambda: loop.call_soon_threadsafe(hub.reload)
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stopping.set)
        except (NotImplementedError, RuntimeError, ValueError):  # not on this platform
            pass
    preview.start()
    try:
        await stopping.wait()
    finally:
        server.stop()
        for client in list(hub.clients):
            client.close()
