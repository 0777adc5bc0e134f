"""Tell the open preview pages to reload: the livereload protocol behind one class.

`serve` only calls `LiveReload.routes()`, `.snippet(generation)` and
`.reload()`, so how the browser learns about a rebuild can change without
touching the server or the builder.

We speak the livereload wire protocol (version 7: `hello`, then `reload`
messages over a WebSocket at /livereload), so livereload.js and the browser
extensions can connect too; but the endpoint is ours rather than the
livereload package's `LiveReloadHandler`, because that one accepts any web
origin, sends the changed file's absolute path, keeps its clients in a
class-wide set, and has no way to tell a page that connects late that it is
already stale. Ours checks the Origin, never sends a path (always "*"), and
compares the generation baked into the page with the current one on connect,
so a rebuild that finished while a page was loading still reloads it.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from tornado.websocket import WebSocketClosedError, WebSocketHandler

PROTOCOL = "http://livereload.com/protocols/official-7"
SOCKET_PATH = "/livereload"
MAX_MESSAGE_BYTES = 64 * 1024

OriginCheck = Callable[[str, str], bool]


class LiveReload:
    """The connected pages and the way to reload them (IOLoop thread only)."""

    def __init__(self, origin_allowed: OriginCheck, generation: Callable[[], int]) -> None:
        self.origin_allowed = origin_allowed
        self.generation = generation
        self.clients: set[ReloadSocket] = set()

    def routes(self) -> list[tuple[str, type, dict[str, Any]]]:
        return [(SOCKET_PATH, ReloadSocket, {"hub": self})]

    def settings(self) -> dict[str, Any]:
        """Tornado application settings the socket needs."""
        return {"websocket_ping_interval": 20, "websocket_max_message_size": MAX_MESSAGE_BYTES}

    def snippet(self, generation: int) -> str:
        """The script injected into every served page: connect, reload when told."""
        return (
            "<script data-site-gen-reload>(function(){"
            f"var generation={int(generation)},delay=300;"
            "function connect(){"
            "var ws=new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+"
            f"{json.dumps(SOCKET_PATH)});"
            "ws.onopen=function(){delay=300;ws.send(JSON.stringify("
            f"{{command:'hello',protocols:[{json.dumps(PROTOCOL)}],generation:generation}}));}};"
            "ws.onmessage=function(event){var m;try{m=JSON.parse(event.data);}catch(e){return;}"
            "if(m.command==='reload'){location.reload();}};"
            "ws.onclose=function(){setTimeout(connect,delay);delay=Math.min(delay*2,5000);};"
            "}"
            "connect();})();</script>"
        )

    def reload(self) -> None:
        """Tell every connected page to reload."""
        for client in list(self.clients):
            client.send_reload()


class ReloadSocket(WebSocketHandler):
    """One page's connection: livereload's handshake, then reload messages."""

    def initialize(self, hub: LiveReload) -> None:
        self.hub = hub

    def check_origin(self, origin: str) -> bool:
        # Called only when the browser sends an Origin: a page of any other
        # site open in the same browser must not learn when files change.
        return self.hub.origin_allowed(origin, self.request.host)

    def on_message(self, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except (ValueError, UnicodeDecodeError):
            return
        if not isinstance(data, dict) or data.get("command") != "hello":
            return  # "info" and anything else need no answer
        self._send({"command": "hello", "protocols": [PROTOCOL], "serverName": "site-gen"})
        self.hub.clients.add(self)
        seen = data.get("generation")
        if isinstance(seen, int) and seen != self.hub.generation():
            self.send_reload()  # rebuilt while the page was loading

    def on_close(self) -> None:
        self.hub.clients.discard(self)

    def send_reload(self) -> None:
        self._send({"command": "reload", "path": "*", "liveCSS": False, "liveImg": False})

    def _send(self, message: dict[str, Any]) -> None:
        try:
            self.write_message(json.dumps(message))
        except WebSocketClosedError:
            self.hub.clients.discard(self)
