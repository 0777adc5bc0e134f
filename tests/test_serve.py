"""`site-gen serve`: the real server in a subprocess, spoken to over real sockets."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, TypeVar

import pytest
import tornado.httpclient
import tornado.websocket

from site_gen.serve import HostPolicy, Target, inject, locate
from site_gen.watch import Watcher, describe, differences, snapshot

REPO = Path(__file__).resolve().parent.parent
SECRET = "TOP-SECRET-OUTSIDE-THE-SERVED-FOLDER"
STORY = "content/stories/china-bans-minerals-exports-to-us.yaml"
STORY_PAGE = "stories/china-bans-minerals-exports-to-us/"
OLD_TITLE = "China bans gallium, germanium and antimony sales to the US"
DRAFT_PAGE = "stories/general-licence-terms-agreed/"
CHANGE_LINE = re.compile(r"^(\S+) (changed|added|deleted): (\d+) pages? rebuilt(, \d+ removed)? in (\d+) ms")

T = TypeVar("T")


def until(check: Callable[[], T], timeout: float = 20.0, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.text = body.decode("utf-8", "replace")


class Running:
    """`python -m site_gen --site SITE COMMAND...` left running, its terminal captured."""

    def __init__(self, site: Path, *command: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
        env["PYTHONIOENCODING"] = "utf-8"
        env["PYTHONUNBUFFERED"] = "1"
        self.site = site
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "site_gen", "--site", str(site), *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            env=env,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def mark(self) -> int:
        return len(self.lines)

    def wait_for(self, pattern: str, timeout: float = 20.0, since: int = 0) -> re.Match[str]:
        regex = re.compile(pattern)

        def found() -> re.Match[str] | None:
            for line in self.lines[since:]:
                match = regex.search(line)
                if match:
                    return match
            if self.proc.poll() is not None:
                raise AssertionError(f"site-gen exited {self.proc.returncode}:\n" + "\n".join(self.lines))
            return None

        return until(found, timeout, f"{pattern!r} in\n" + "\n".join(self.lines))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        return self.proc.returncode


class Server(Running):
    """`site-gen serve` on a free port."""

    def __init__(self, site: Path, *args: str) -> None:
        super().__init__(site, "serve", "--port", "0", *args)
        started = self.wait_for(r"^serving (.+) at http://([^/:]+):(\d+)(/\S*) ", timeout=60)
        self.folder = Path(started.group(1))
        self.host = started.group(2)
        self.port = int(started.group(3))
        self.base = started.group(4)

    def get(self, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Response:
        """A raw request: the path goes on the wire exactly as given."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in {"Host": f"127.0.0.1:{self.port}", **(headers or {})}.items():
                conn.putheader(name, value)
            conn.endheaders()
            reply = conn.getresponse()
            return Response(reply.status, dict(reply.getheaders()), reply.read())
        finally:
            conn.close()

    def page(self, rel: str) -> Response:
        return self.get(self.base + rel)


@pytest.fixture
def server(example_site: Path):
    running = Server(example_site)
    yield running
    running.stop()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


# -- safety -------------------------------------------------------------------

ESCAPES = [
    # bad-inputs D53, exactly
    "/../outside.txt",
    "/%2e%2e/outside.txt",
    "/%2E%2E%2Foutside.txt",
    "/sub/..%2f..%2foutside.txt",
    "//example.com",
    "//evil.com/%2e%2e",
    "/..%5coutside.txt",
    # the same under the site's base path, and deeper
    "{base}../outside.txt",
    "{base}../../outside.txt",
    "{base}%2e%2e/%2e%2e/outside.txt",
    "{base}..%2f..%2f..%2foutside.txt",
    "{base}..\\..\\outside.txt",
    "{base}%5c..%5c..%5coutside.txt",
    "{base}static/../../../outside.txt",
    "{base}.%2e/.%2e/outside.txt",
    # absolute paths, a NUL, an absolute-form target
    "/etc/passwd",
    "{abs}",
    "{base}%2f{abs}",
    "{base}/{abs}",
    "{base}index.html%00.txt",
    "http://evil.example/../outside.txt",
]


def test_path_escapes_are_refused(server: Server, tmp_path: Path) -> None:
    secret_files = [
        server.folder.parent / "outside.txt",  # beside the served folder
        server.site / "outside.txt",
        tmp_path / "outside.txt",
    ]
    for path in secret_files:
        path.write_text(SECRET)
    absolute = str(secret_files[0])
    for template in ESCAPES:
        path = template.format(base=server.base, abs=absolute)
        reply = server.get(path)
        assert reply.status in (301, 302, 403, 404), (path, reply.status)
        assert SECRET not in reply.text, path
        if reply.status in (301, 302):
            location = reply.headers["Location"]
            assert location.startswith("/") and not location.startswith("//"), (path, location)


def test_symlinks_pointing_out_are_refused(server: Server, tmp_path: Path) -> None:
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "notes.txt").write_text(SECRET)
    (server.folder / "link.txt").symlink_to(outside / "notes.txt")
    (server.folder / "linkdir").symlink_to(outside, target_is_directory=True)
    (server.folder / "static" / "up.txt").symlink_to("../../../../private/notes.txt")
    for rel in ("link.txt", "linkdir/notes.txt", "linkdir/", "linkdir", "static/up.txt"):
        reply = server.page(rel)
        assert reply.status in (403, 404), (rel, reply.status)
        assert SECRET not in reply.text
    assert server.page("static/site.css").status == 200


def test_foreign_host_header_is_refused(server: Server) -> None:
    """DNS rebinding: a page at evil.example resolving to 127.0.0.1 still sends its own name."""
    assert server.get(server.base, {"Host": f"evil.example:{server.port}"}).status == 403
    assert server.get(server.base, {"Host": f"localhost:{server.port}"}).status == 200


def test_missing_page_is_the_sites_404_with_status_404(server: Server) -> None:
    reply = server.page("stories/no-such-story/")
    assert reply.status == 404
    assert "Page not found" in reply.text
    assert "data-site-gen-reload" in reply.text
    assert server.get("/not-under-the-base-path").status == 404


def test_pages_get_the_reload_script_other_files_do_not(server: Server) -> None:
    home = server.page("")
    assert home.status == 200
    assert home.headers["Content-Type"].startswith("text/html")
    assert home.headers["Cache-Control"] == "no-store"
    assert home.text.count("data-site-gen-reload") == 1
    assert 'id="site-gen-errors"' not in home.text
    css = server.page("static/site.css")
    assert css.status == 200 and b"site-gen-reload" not in css.body
    assert server.get("/").status == 302 and server.get("/").headers["Location"] == server.base
    assert server.page("stories").status == 301
    head = server.get(server.base, method="HEAD")
    assert head.status == 200 and head.body == b""


# -- rebuilding ----------------------------------------------------------------


def test_an_edit_is_served_within_seconds_with_one_line(server: Server, example_site: Path) -> None:
    assert OLD_TITLE in server.page(STORY_PAGE).text
    mark = server.mark()
    edit(example_site / STORY, OLD_TITLE, "Beijing halts gallium exports to America")
    until(lambda: "Beijing halts gallium exports" in server.page(STORY_PAGE).text, what="the new title")
    line = server.wait_for(CHANGE_LINE.pattern, since=mark)
    assert line.group(1) == STORY and line.group(2) == "changed"
    assert int(line.group(3)) >= 1
    time.sleep(1)  # D57: one edit is one build, never a loop
    assert sum(1 for text in server.lines[mark:] if CHANGE_LINE.search(text)) == 1


def test_serve_restarted_on_its_cache_loads_while_idle_and_builds_the_next_edit(example_site: Path) -> None:
    """The second session's first build is answered by the quick check with nothing
    loaded; serve loads the site while the editor pauses (writing nothing, saying
    nothing) and the first edit is built from what it loaded."""
    first = Server(example_site)
    first.wait_for(r"^built \d+ pages in ")
    assert first.stop() == 0  # saves the cache
    second = Server(example_site)
    try:
        second.wait_for(r"^built \d+ pages in ")
        mark = second.mark()
        time.sleep(2.5)  # the editor pauses: serve loads the site
        assert not any(CHANGE_LINE.search(text) for text in second.lines[mark:])
        edit(example_site / STORY, OLD_TITLE, "Beijing halts gallium exports to America")
        until(lambda: "Beijing halts gallium exports" in second.page(STORY_PAGE).text, what="the new title")
        line = second.wait_for(CHANGE_LINE.pattern, since=mark)
        assert line.group(1) == STORY and int(line.group(3)) >= 1
    finally:
        assert second.stop() == 0


def test_an_error_shows_over_the_last_good_page_until_fixed(server: Server, example_site: Path) -> None:
    story = example_site / STORY
    good = story.read_text(encoding="utf-8")
    mark = server.mark()
    story.write_text(good.replace("date: 2024-12-03", "date: 2024-13-45"), encoding="utf-8")
    other = example_site / "content/people/he-lifeng.yaml"
    other.write_text(other.read_text(encoding="utf-8") + "\nbogus_field: 1\n", encoding="utf-8")

    def overlaid() -> Response | None:
        reply = server.page(STORY_PAGE)
        return reply if 'id="site-gen-errors"' in reply.text else None

    page = until(overlaid, what="the error overlay")
    assert page.status == 200
    assert OLD_TITLE in page.text  # the last good content, under the overlay
    assert 'role="alert"' in page.text and "This is the last good version of the page." in page.text
    failed = server.wait_for(r"build failed with (\d+) errors?", since=mark)
    assert int(failed.group(1)) >= 2
    problem = server.wait_for(rf"^{re.escape(STORY)}:\d+:\d+: error: ", since=mark).group(0)
    server.wait_for(r"^content/people/he-lifeng\.yaml:\d+:\d+: error: ", since=mark)
    assert problem in page.text.replace("&#x27;", "'").replace("&quot;", '"')
    assert "content/people/he-lifeng.yaml:" in page.text  # every error, not just the first
    missing = server.page("stories/no-such-story/")
    assert missing.status == 404 and 'id="site-gen-errors"' in missing.text

    mark = server.mark()
    story.write_text(good, encoding="utf-8")
    other.write_text(other.read_text(encoding="utf-8").replace("\nbogus_field: 1\n", ""), encoding="utf-8")
    until(lambda: not overlaid(), what="the overlay to go")
    server.wait_for(r"\(errors fixed\)$", since=mark)


def test_a_template_error_is_located(server: Server, example_site: Path) -> None:
    templates = example_site / "templates"
    templates.mkdir()
    (templates / "story.html").write_text('{% extends "base.html" %}{% block content %}{{ nope(1) }}')
    server.wait_for(r"^templates/story\.html:1:\d+: error: ", timeout=15)
    assert 'id="site-gen-errors"' in server.page(STORY_PAGE).text
    (templates / "story.html").unlink()
    until(lambda: 'id="site-gen-errors"' not in server.page(STORY_PAGE).text, what="recovery")


def test_a_half_written_file_in_a_burst_leaves_no_error(server: Server, example_site: Path) -> None:
    story = example_site / STORY
    text = story.read_text(encoding="utf-8").replace(OLD_TITLE, "Written in two goes")
    mark = server.mark()
    with open(story, "w", encoding="utf-8") as handle:
        handle.write(text[:40])  # cut inside a line: invalid on its own
        handle.flush()
        time.sleep(0.03)
        handle.write(text[40:])
    until(lambda: "Written in two goes" in server.page(STORY_PAGE).text, what="the whole file")
    time.sleep(0.5)
    assert not any("build failed" in line for line in server.lines[mark:])
    assert 'id="site-gen-errors"' not in server.page(STORY_PAGE).text


def test_editor_temp_files_are_ignored(server: Server, example_site: Path) -> None:
    mark = server.mark()
    for name in (".x.yaml.swp", "x.yaml~", "#x.yaml#", ".#x.yaml"):
        (example_site / "content/stories" / name).write_text("title: [broken")
    time.sleep(0.8)
    assert server.lines[mark:] == []


def test_a_deleted_record_turns_404(server: Server, example_site: Path) -> None:
    new = example_site / "content/stories/brief-note.yaml"
    new.write_text(
        "title: A brief note\ndate: 2025-11-01\ntopics:\n  - us-minerals-ban\nsummary: Short.\n",
        encoding="utf-8",
    )
    until(lambda: server.page("stories/brief-note/").status == 200, what="the new page")
    server.wait_for(r"^content/stories/brief-note\.yaml added: ")
    mark = server.mark()
    new.unlink()
    until(lambda: server.page("stories/brief-note/").status == 404, what="the page to go")
    line = server.wait_for(CHANGE_LINE.pattern, since=mark)
    assert line.group(1) == "content/stories/brief-note.yaml" and line.group(2) == "deleted"
    assert line.group(4)  # ", N removed"
    assert not (server.folder / "stories/brief-note").exists()


def test_drafts_are_served_and_never_reach_output(server: Server, example_site: Path) -> None:
    draft = server.page(DRAFT_PAGE)
    assert draft.status == 200
    assert "data-draft" in draft.text and "badge-draft" in draft.text
    assert not (example_site / "output").exists()  # serve never even creates output/
    assert example_site / ".site-gen-cache" in server.folder.parents


def test_config_and_static_changes_rebuild(server: Server, example_site: Path) -> None:
    edit(example_site / "site.yaml", "title: Rare Earths Watch", "title: Minerals Watch")
    until(lambda: "Minerals Watch" in server.page("").text, what="the new site title")
    static = example_site / "static"
    static.mkdir()
    (static / "extra.txt").write_text("hello from static\n")
    until(lambda: server.page("static/extra.txt").status == 200, what="the static file")
    assert server.page("static/extra.txt").text == "hello from static\n"


# -- the reload channel --------------------------------------------------------


def run_coroutine(coroutine):
    """asyncio.run in a thread of its own: a Playwright test earlier in this worker
    may have left an event loop running in the main thread."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _socket(server: Server, origin: str | None) -> tornado.websocket.WebSocketClientConnection:
    headers = {"Origin": origin} if origin else {}
    request = tornado.httpclient.HTTPRequest(f"ws://127.0.0.1:{server.port}/livereload", headers=headers)
    return await tornado.websocket.websocket_connect(request)


async def _hello(conn: tornado.websocket.WebSocketClientConnection, generation: int | None) -> dict:
    message = {"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}
    if generation is not None:
        message["generation"] = generation
    await conn.write_message(json.dumps(message))
    return json.loads(await asyncio.wait_for(conn.read_message(), 5))


def test_cross_origin_websocket_is_refused(server: Server) -> None:
    async def attempt(origin: str) -> int:
        try:
            conn = await _socket(server, origin)
        except tornado.httpclient.HTTPClientError as exc:
            return exc.code
        conn.close()
        return 101

    for origin in (
        "https://evil.example",
        f"http://evil.example:{server.port}",
        "null",
        f"http://127.0.0.1:{server.port + 1}",
    ):
        assert run_coroutine(attempt(origin)) == 403, origin
    assert run_coroutine(attempt(f"http://127.0.0.1:{server.port}")) == 101


def test_reload_message_carries_no_path_and_stale_pages_reload(server: Server, example_site: Path) -> None:
    generation = int(re.search(r"var generation=(\d+)", server.page("").text).group(1))

    async def session() -> tuple[dict, dict, dict]:
        stale = await _socket(server, f"http://127.0.0.1:{server.port}")
        await _hello(stale, generation - 1)
        told = json.loads(await asyncio.wait_for(stale.read_message(), 5))  # at once
        stale.close()
        conn = await _socket(server, None)
        hello = await _hello(conn, generation)
        edit(example_site / STORY, OLD_TITLE, "A title to reload for")
        reload = json.loads(await asyncio.wait_for(conn.read_message(), 10))
        conn.close()
        return told, hello, reload

    told, hello, reload = run_coroutine(session())
    assert told["command"] == "reload"
    assert hello["command"] == "hello"
    assert reload == {"command": "reload", "path": "*", "liveCSS": False, "liveImg": False}
    assert str(example_site) not in json.dumps([told, hello, reload])


# -- starting and stopping -----------------------------------------------------


def test_wildcard_host_warns_that_drafts_are_visible(example_site: Path) -> None:
    running = Server(example_site, "--host", "0.0.0.0")
    try:
        assert any("visible to your network, drafts included" in line for line in running.lines)
        assert running.page("").status == 200
    finally:
        assert running.stop() == 0


def test_loopback_by_default_and_ctrl_c_stops_cleanly(example_site: Path) -> None:
    running = Server(example_site)
    assert running.host == "127.0.0.1"
    assert not any("warning" in line for line in running.lines)
    with pytest.raises(OSError):  # nothing listens on another address of ours
        probe = socket.create_connection((_other_address(), running.port), timeout=1)
        probe.close()
    assert running.stop() == 0
    assert running.lines[-1] == "stopped"


def _other_address() -> str:
    """An address of this machine that is not loopback (or an unroutable one)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent
            address = probe.getsockname()[0]
    except OSError:
        return "192.0.2.1"
    return address if not address.startswith("127.") else "192.0.2.1"


def test_first_build_failing_still_serves_with_the_errors(example_site: Path) -> None:
    story = example_site / STORY
    good = story.read_text(encoding="utf-8")
    story.write_text("title: [unclosed\n", encoding="utf-8")
    running = Server(example_site)
    try:
        reply = running.page("")
        assert reply.status == 503
        assert 'id="site-gen-errors"' in reply.text and STORY in reply.text
        assert "No build has made this site yet" in reply.text and "Fix the errors above." in reply.text
        assert "last good version" not in reply.text  # there is none
        story.write_text(good, encoding="utf-8")

        def recovered() -> bool:
            reply = running.page("")
            return reply.status == 200 and 'id="site-gen-errors"' not in reply.text

        until(recovered, what="the first good build, without the errors")
    finally:
        running.stop()


def test_busy_port_is_a_clear_error(example_site: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "site_gen", "--site", str(example_site), "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_port_out_of_range_is_a_usage_error(example_site: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "site_gen", "--site", str(example_site), "serve", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--port 70000" in result.stderr
    assert not (example_site / ".site-gen-cache").exists()  # nothing built, nothing listened


# -- the pieces, on real files -------------------------------------------------


def test_locate_refuses_everything_outside(tmp_path: Path) -> None:
    folder = tmp_path / "served"
    (folder / "stories" / "x").mkdir(parents=True)
    (folder / "stories" / "x" / "index.html").write_text("x")
    (folder / "index.html").write_text("home")
    (tmp_path / "outside.txt").write_text(SECRET)
    (folder / "out.txt").symlink_to(tmp_path / "outside.txt")
    assert locate(folder, "/b/", "/b/stories/x/") == Target(200, folder / "stories/x/index.html")
    assert locate(folder, "/b/", "/b/") == Target(200, folder / "index.html")
    assert locate(folder, "/b/", "/b/stories/x") == Target(301, location="/b/stories/x/")
    assert locate(folder, "/b/", "/") == Target(302, location="/b/")
    assert locate(folder, "/b/", "/b") == Target(302, location="/b/")
    for path in ("/b/../outside.txt", "/b/%2e%2e/outside.txt", "/b/x/..%2f..%2f..%2foutside.txt"):
        assert locate(folder, "/b/", path).status == 403, path
    for path in ("/b/out.txt", "/b/out.txt/"):
        assert locate(folder, "/b/", path).status == 403, path
    for path in (
        "//b/index.html",
        "/b/..%5coutside.txt",
        "/b/%00",
        "/b/%ff",
        "/b//index.html",
        "/b/.hidden",
        "/outside.txt",
        "b/index.html",
        "/b/nope/",
    ):
        assert locate(folder, "/b/", path).status == 404, path


def test_host_policy() -> None:
    policy = HostPolicy("127.0.0.1", 8000)
    assert policy.allows("127.0.0.1:8000") and policy.allows("localhost:8000") and policy.allows("[::1]:8000")
    assert not policy.allows("127.0.0.1:8001") and not policy.allows("evil.example:8000")
    assert not policy.allows("127.0.0.1") and not policy.allows("127.0.0.1:port")
    assert policy.origin_allowed("http://localhost:8000", "localhost:8000")
    assert not policy.origin_allowed("http://localhost:8000", "127.0.0.1:8000")
    assert not policy.origin_allowed("https://evil.example", "127.0.0.1:8000")
    assert not policy.origin_allowed("null", "127.0.0.1:8000")
    anywhere = HostPolicy("0.0.0.0", 8000)
    assert anywhere.allows("my-laptop.lan:8000") and not anywhere.allows("my-laptop.lan:9000")


def test_inject_places_extra_right_after_body() -> None:
    assert inject(b'<html><BODY class="x">hi</BODY>', "<i>") == b'<html><BODY class="x"><i>hi</BODY>'
    assert inject(b"no body", "<i>") == b"<i>no body"


def test_snapshots_see_every_change_and_ignore_temp_files(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text("title: t\n")
    (tmp_path / "content" / "stories").mkdir(parents=True)
    (tmp_path / "content" / "stories" / "a.yaml").write_text("a")
    (tmp_path / "content" / "stories" / "b.yaml").write_text("b")
    (tmp_path / "output").mkdir()
    before = snapshot(tmp_path)
    assert set(before) == {"site.yaml", "content/stories/a.yaml", "content/stories/b.yaml"}
    (tmp_path / "content" / "stories" / "a.yaml").write_text("changed")
    (tmp_path / "content" / "stories" / "b.yaml").unlink()
    (tmp_path / "content" / "stories" / ".a.yaml.swp").write_text("swap")
    (tmp_path / "content" / "stories" / "c.yaml~").write_text("backup")
    (tmp_path / "output" / "index.html").write_text("never watched")
    (tmp_path / "content" / "loop").symlink_to(tmp_path, target_is_directory=True)
    changes = differences(before, snapshot(tmp_path))
    assert changes == {
        "content/loop": "added",
        "content/stories/a.yaml": "changed",
        "content/stories/b.yaml": "deleted",
    }
    assert describe({"content/stories/a.yaml": "changed"}) == "content/stories/a.yaml changed"


def test_watcher_waits_for_quiet(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text("title: t\n")
    watcher = Watcher(tmp_path, poll=0.02, quiet=0.1, events=False)  # polling alone
    stop = threading.Event()

    def writes() -> None:
        for n in range(5):
            (tmp_path / "site.yaml").write_text(f"title: t{n}\n")
            time.sleep(0.03)

    writer = threading.Thread(target=writes)
    writer.start()
    settled, changes = watcher.wait(stop)
    writer.join()
    assert changes == {"site.yaml": "changed"}
    assert settled == snapshot(tmp_path)  # only after the last of the burst


def test_a_change_whose_time_has_not_moved_waits_for_quiet(tmp_path: Path) -> None:
    """A file caught between an editor's truncating open and its write can still show
    the time of the save before: its time says nothing of when it changed, so the
    watcher waits for quiet rather than settle on the empty file."""
    config = tmp_path / "site.yaml"
    config.write_text("title: t\n")
    an_hour_ago = time.time_ns() - 3600 * 10**9  # saved long ago: its time alone would settle it
    os.utime(config, ns=(an_hour_ago, an_hour_ago))
    watcher = Watcher(tmp_path, poll=0.01, quiet=0.3, events=False)  # polling alone
    seen = watcher.seen["site.yaml"][0]
    config.write_text("")  # the truncating open, its time then put back as a slow clock leaves it
    os.utime(config, ns=(seen, seen))
    threading.Timer(0.1, lambda: config.write_text("title: the whole save\n")).start()
    settled, changes = watcher.wait(threading.Event())
    assert changes == {"site.yaml": "changed"}
    assert settled["site.yaml"] == snapshot(tmp_path)["site.yaml"]
    assert settled["site.yaml"][1] == len("title: the whole save\n")


# -- incremental rebuilds equal fresh builds -----------------------------------


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _replace(path: Path, old: str, new: str) -> Callable[[], None]:
    return lambda: edit(path, old, new)


def _write(path: Path, text: str) -> Callable[[], None]:
    def write() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    return write


def _rename(path: Path, to: Path) -> Callable[[], None]:
    return lambda: path.rename(to)


def _delete(path: Path) -> Callable[[], None]:
    return lambda: path.unlink()


NOTE = "title: A brief note\ndate: 2025-11-01\ntopics:\n  - us-minerals-ban\nsummary: Short *note*.\n"


@pytest.mark.slow
def test_serve_rebuilds_equal_a_fresh_build_after_every_step(example_site: Path, tmp_path: Path) -> None:
    """serve's long-lived Builder (drafts on) against a fresh full build, step by step."""
    from site_gen.builder import Builder

    site = example_site
    stories = site / "content" / "stories"
    person = site / "content/people/he-lifeng.yaml"
    draft = stories / "2025/general-licence-terms-agreed.yaml"
    template = '{% extends "base.html" %}{% block content %}<h1>{{ story.title }}</h1>{% endblock %}'
    steps: list[tuple[str, Callable[[], None]]] = [
        ("edit a story title", _replace(site / STORY, OLD_TITLE, "Beijing halts gallium sales")),
        ("add a story", _write(stories / "brief-note.yaml", NOTE)),
        ("rename it", _rename(stories / "brief-note.yaml", stories / "2025" / "a-renamed-note.yaml")),
        ("edit a topic", _replace(site / "content/topics/us-minerals-ban.yaml", "title: ", "title: The ")),
        ("rename a person", _replace(person, "name: He Lifeng", "name: Lifeng He")),
        ("publish the draft", _replace(draft, "draft: true\n", "")),
        ("break a story", _replace(site / STORY, "date: 2024-12-03", "date: 2024-13-45")),
        ("fix it", _replace(site / STORY, "date: 2024-13-45", "date: 2024-12-03")),
        ("delete the renamed story", _delete(stories / "2025" / "a-renamed-note.yaml")),
        ("override a template", _write(site / "templates/story.html", template)),
        ("add a static file", _write(site / "static/notes.txt", "one\n")),
        ("change it", _write(site / "static/notes.txt", "two\n")),
        ("drop the template", _delete(site / "templates/story.html")),
        ("delete the static file", _delete(site / "static/notes.txt")),
        ("retitle the site", _replace(site / "site.yaml", "title: Rare Earths", "title: Minerals")),
    ]
    served = tmp_path / "served"
    builder = Builder(site, served, drafts=True)
    assert builder.build("2025-11-20").ok
    for n, (name, step) in enumerate(steps):
        before = _tree(served)
        step()
        time.sleep(0.002)  # distinct mtimes even on coarse clocks
        report = builder.build("2025-11-20")
        if name == "break a story":
            assert not report.ok and _tree(served) == before, name
            continue
        assert report.ok, (name, [str(p) for p in report.errors])
        fresh = Builder(site, tmp_path / f"fresh-{n}", drafts=True, cache=False).build("2025-11-20")
        assert fresh.ok, name
        expected, got = _tree(tmp_path / f"fresh-{n}"), _tree(served)
        assert sorted(got) == sorted(expected), (name, set(got) ^ set(expected))
        assert [p for p in expected if expected[p] != got[p]] == [], name


def test_watcher_keeps_the_files_edited_last_hot(tmp_path: Path) -> None:
    """On a big site whole scans are spaced out; the files edited last are checked every tick."""
    (tmp_path / "site.yaml").write_text("title: t\n")
    story = tmp_path / "content" / "stories" / "a.yaml"
    story.parent.mkdir(parents=True)
    story.write_text("a")
    watcher = Watcher(tmp_path, poll=0.01, quiet=0.02, events=False)  # polling alone
    stop = threading.Event()
    threading.Timer(0.05, lambda: story.write_text("ab")).start()
    settled, changes = watcher.wait(stop)
    watcher.accept(settled)
    assert changes == {"content/stories/a.yaml": "changed"}
    assert watcher.hot == ["content/stories/a.yaml"] and not watcher._hot_moved()
    story.write_text("abc")
    assert watcher._hot_moved()


def test_a_hot_files_change_is_reported_at_once_and_other_changes_at_the_next_look(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text("title: t\n")
    story = tmp_path / "content" / "stories" / "a.yaml"
    other = tmp_path / "content" / "stories" / "b.yaml"
    story.parent.mkdir(parents=True)
    story.write_text("a")
    other.write_text("b")
    watcher = Watcher(tmp_path, poll=0.01, quiet=0.02, events=False)  # polling alone
    stop = threading.Event()
    story.write_text("ab")
    settled, changes = watcher.wait(stop)  # a whole scan finds it: now it is hot
    watcher.accept(settled)
    assert watcher.hot == ["content/stories/a.yaml"]
    time.sleep(0.01)
    # The hot file saved again and, in the same moment, another file deleted and one added.
    story.write_text("abc")
    other.unlink()
    (tmp_path / "content" / "stories" / "c.yaml").write_text("c")
    settled, changes = watcher.wait(stop)
    assert changes == {"content/stories/a.yaml": "changed"}
    assert settled["content/stories/a.yaml"] == snapshot(tmp_path)["content/stories/a.yaml"]
    watcher.accept(settled)
    settled, changes = watcher.wait(stop)  # the next look is a whole scan
    assert changes == {"content/stories/b.yaml": "deleted", "content/stories/c.yaml": "added"}
    watcher.accept(settled)
    assert settled == snapshot(tmp_path)
    # A hot file deleted is reported as such.
    story.unlink()
    settled, changes = watcher.wait(stop)
    assert changes == {"content/stories/a.yaml": "deleted"} and "content/stories/a.yaml" not in settled
