"""`site-gen serve`: a live preview that rebuilds on every change.

One long-lived `Builder` (drafts included) builds into a folder of its own,
.site-gen-cache/serve/, never output/. A worker thread watches content/,
templates/, static/ and site.yaml by whole-folder snapshots, rebuilds after
each settled change and then asks the open pages to reload; the tornado
IOLoop keeps answering requests meanwhile. A failed build keeps the last
good pages, and every HTML page served then carries an overlay listing the
errors. Requests can only ever read regular files inside the served folder.
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
import sys
import threading
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .builder import CACHE_DIR, DATA_VIEWS, Builder, BuildReport
from .collector import IdleCollector, collector_paused
from .config import CONFIG_NAME, load_config
from .errors import ERROR, Problem, Problems, SiteGenError, UsageError
from .livereload_adapter import LiveReload
from .produce import PARALLEL_ROUTES
from .watch import WATCHED_FOLDERS, Watcher, describe

SERVE_FOLDER = "serve"
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
TRANSIENT_RETRIES = 3
WARM_SLICE_SECONDS = 0.05  # each piece of idle work, so a save is still noticed at once
BODY_TAG = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
TEXT_TYPES = ("text/", "application/xml", "application/json", "application/javascript", "image/svg+xml")


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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
    builder.autosave = False  # saved when the editor pauses (see Preview._watch)
    builder.trust_output = True
    # Feeds and JSON are made when the editor pauses, after the pages are reloaded.
    builder.defer = DATA_VIEWS
    return builder


def pause_step(builder: Builder, collector: IdleCollector) -> str | None:
    """One piece of the work serve does while the editor pauses, once the data files
    are made: collect what the last build left ("collect"), then save the cache and
    prepare a slice of the pages an edit is likely to remake ("warm"), then the
    collector's longer pass when due ("settle"). None when nothing was left to do.
    (bench/run.py measures serve's edits with the same steps.)"""
    if collector.young():
        return "collect"
    builder.save()  # nothing to write unless a build ran since the last save
    if builder.warm(WARM_SLICE_SECONDS):
        return "warm"
    return "settle" if collector.settle() else None


class Preview:
    """The builder, the watcher and the state shared with the request handlers."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root
        self.folder = folder
        self.builder = preview_builder(root, folder)
        self._finish = False
        self.watcher = Watcher(root)
        # Pages left by an earlier session are the last good ones until we build.
        self.state = State(time_generation(), (), self._base_path("/"), (folder / "index.html").is_file())
        self.on_change: Callable[[], None] = lambda: None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="site-gen-rebuild", daemon=True)
        self._warnings: tuple[str, ...] = ()
        self._unloaded: dict[str, str] = {}  # changes the builder has not loaded yet
        self.collector = IdleCollector()  # runs while the editor pauses (see _idle)

    def first_build(self) -> BuildReport:
        self.collector.start()
        report = self._build()
        self.collector.built(whole=True)
        self._finish = report.ok
        if report.ok:
            say(f"built {plural(report.pages, 'page')} in {report.seconds:.2f} s")
        else:
            say(f"the build failed with {plural(len(report.errors), 'error')}:")
        self._settle_state(report)
        self._print_problems(report)
        return report

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        if self.thread.ident is not None:  # started
            self.thread.join(timeout=30)
        if not self.thread.is_alive():
            self._save_cache()
            self.watcher.close()
            self.collector.stop()

    # -- the worker thread ---------------------------------------------------

    def _watch(self) -> None:
        pending: dict[str, str] = {}
        retries = 0
        while True:
            waited = self.watcher.wait(self.stop, on_idle=self._idle)
            if waited is None:
                return
            settled, changes = waited
            pending.update(changes)
            self._unloaded.update(changes)
            self.watcher.accept(settled)
            # The collector runs when the editor pauses (see _idle), not between the
            # build and the browser's fetch of the reloaded page.
            try:
                with collector_paused():
                    report = self._build(self._unloaded)
                    self.collector.built(whole=report.rendered >= PARALLEL_ROUTES)
                    if not report.ok and retries < TRANSIENT_RETRIES and self._still_moving():
                        # A half-written file during a burst of saves: build again
                        # from the settled files before showing any error.
                        retries += 1
                        continue
                    self._announce(pending, report)
                    self._finish = report.ok
            except Exception:  # the preview outlives any one bad moment
                traceback.print_exc()
            retries = 0
            pending = {}

    def _idle(self) -> bool:
        """While the editor pauses: make the data files, collect what the build left,
        save the cache, then prepare the pages an edit is likely to remake, a little
        at a time, then the collector's longer pass when due. True while there is
        more to do."""
        try:
            if self._finish:
                self._finish = False
                self._finish_data_files()
            if self.builder.unprimed:
                self._prime()
                return True
            return pause_step(self.builder, self.collector) is not None
        except Exception:  # only the next edit's speed is at stake
            traceback.print_exc()
            return False

    def _prime(self) -> None:
        """Started on a cache whose pages were current: load the site now, while the
        editor pauses, rather than at the first edit (see Builder.prime)."""
        report = self._build(self._unloaded, prime=True)
        self.collector.built(whole=True)  # the whole site, loaded
        if report.written or report.removed or not report.ok:  # something slipped in since
            self._finish = report.ok
            self._announce({}, report)

    def _finish_data_files(self) -> None:
        report = self.builder.finish()
        if report is not None and not report.ok:  # the next edit's build reports it in full
            say(f"the data files could not be made: {problem_lines(report)[:1]}")

    def _save_cache(self) -> None:
        try:
            self.builder.save()
        except Exception:  # a cache that cannot be saved only makes the next start slower
            traceback.print_exc()

    def _still_moving(self) -> bool:
        self.stop.wait(self.watcher.quiet)
        return self.watcher.moved()

    def _build(self, changes: dict[str, str] | None = None, prime: bool = False) -> BuildReport:
        """A build; `changes` (what the watcher saw since the last load) tells the
        builder where to look, and is emptied once a load has taken it in.
        `prime`: the builder's prime(), which looks at every file."""
        walks = self.builder.loader.walks
        try:
            if prime:
                return self.builder.prime()
            return self.builder.build(hint=set(changes) if changes is not None else None)
        except SiteGenError as exc:
            return failed_report(self._relative(str(exc)))
        except Exception as exc:  # never let one build stop the preview
            traceback.print_exc()
            return failed_report(f"internal error: {type(exc).__name__}: {self._relative(str(exc))}")
        finally:
            if changes is not None and self.builder.loader.walks != walks:
                changes.clear()

    def _announce(self, changes: dict[str, str], report: BuildReport) -> None:
        had_errors = bool(self.state.errors)
        if report.ok:
            # Pages only: the search index's many small files would drown them.
            pages = sum(1 for path in report.written if path.endswith(".html"))
            gone = sum(1 for path in report.removed if path.endswith(".html"))
            removed = f", {gone} removed" if gone else ""
            fixed = " (errors fixed)" if had_errors else ""
            ms = round(report.seconds * 1000)
            say(f"{describe(changes)}: {plural(pages, 'page')} rebuilt{removed} in {ms} ms{fixed}")
        else:
            say(
                f"{describe(changes)}: build failed with {plural(len(report.errors), 'error')}; "
                "serving the last good pages"
            )
        self._settle_state(report)
        self._print_problems(report)

    def _settle_state(self, report: BuildReport) -> None:
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

    def _print_problems(self, report: BuildReport) -> None:
        for line in problem_lines(report):
            say(line)
        warnings = tuple(str(p) for p in report.warnings)
        if report.ok and warnings != self._warnings:  # only when they change, to keep quiet
            for line in warnings:
                say(line)
        if report.ok:
            self._warnings = warnings

    def _base_path(self, fallback: str) -> str:
        config = load_config(self.root, Problems())
        return config.base_path if config else fallback

    def _relative(self, message: str) -> str:
        return message.replace(str(self.root) + os.sep, "").replace(str(self.root), ".")


def failed_report(message: str) -> BuildReport:
    """A build that could not even start, as one problem on site.yaml."""
    return BuildReport(False, [Problem(CONFIG_NAME, 1, 1, ERROR, message)])


def problem_lines(report: BuildReport) -> tuple[str, ...]:
    return tuple(str(p) for p in report.errors)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def time_generation() -> int:
    # Start from the clock so pages left open across a restart reload.
    return int(time.time() * 1000)


def overlay(errors: tuple[str, ...]) -> str:
    """The error panel shown above the last good content."""
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
        "</strong> This is the last good version of the page; it reloads once the files are fixed.</p>"
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
            self._send(503, "index.html", fallback_page(title, "Fix the errors below."), state)
        else:
            self._send(404, "404.html", fallback_page("Page not found", "There is no page here."), state)

    def _send(self, status: int, name: str, data: bytes, state: State) -> None:
        kind = content_type(Path(name))
        if kind.startswith("text/html"):
            extra = (overlay(state.errors) if state.errors else "") + self.hub.snippet(state.generation)
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
