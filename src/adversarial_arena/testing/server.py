"""Real servers on loopback for tests: an ASGI app under uvicorn, or raw TCP.

Both run in a daemon thread with their own event loop (or none), so a test's own loop
talks to them exactly as it would to a remote bot.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

_LOOPBACK = "127.0.0.1"


def _wait_until(ready: Callable[[], bool], alive: Callable[[], bool], timeout_s: float) -> None:
    """Poll a flag with a deadline (the server exposes no event to wait on)."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if not alive():
            raise RuntimeError(
                "test server thread died during start-up (the server's log says why)"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"test server not listening after {timeout_s} s")
        time.sleep(0.002)


def _bind_loopback() -> socket.socket:
    # Binding here, not in uvicorn, gives the port before the thread starts.
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say TCP,
    # and without it every small reply waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((_LOOPBACK, 0))
    sock.listen(128)
    return sock


@contextlib.contextmanager
def serve_in_thread(
    app: Any, *, start_timeout_s: float = 10.0, stop_timeout_s: float = 5.0
) -> Iterator[str]:
    """Serve an ASGI app on an ephemeral loopback port; yield "http://127.0.0.1:PORT".

    On exit the server stops accepting, gives in-flight requests a moment to finish,
    then cancels them, so a handler that hangs cannot hang the test run.
    """
    sock = _bind_loopback()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="auto",
        timeout_graceful_shutdown=1,
        timeout_keep_alive=5,
    )
    server = uvicorn.Server(config)
    crashed: list[BaseException] = []

    def run() -> None:
        # uvicorn calls sys.exit when the app fails to start: keep it in this thread.
        try:
            server.run(sockets=[sock])
        except BaseException as exc:
            crashed.append(exc)

    thread = threading.Thread(target=run, name=f"asgi:{port}", daemon=True)
    thread.start()
    try:
        _wait_until(lambda: bool(server.started), thread.is_alive, start_timeout_s)
        yield f"http://{_LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        thread.join(stop_timeout_s)
        if thread.is_alive():
            server.force_exit = True
            thread.join(stop_timeout_s)
        sock.close()


RawHandler = Callable[[socket.socket], None]


class _RawServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, handler: RawHandler) -> None:
        self.raw_handler = handler
        super().__init__((_LOOPBACK, 0), _RawRequestHandler)


class _RawRequestHandler(socketserver.BaseRequestHandler):
    server: _RawServer

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # the client hung up: nothing to report
            self.server.raw_handler(self.request)


@contextlib.contextmanager
def run_raw_tcp_server(handler: RawHandler) -> Iterator[str]:
    """Serve raw TCP on an ephemeral loopback port; yield "http://127.0.0.1:PORT".

    `handler(conn)` runs in its own thread for each connection and may do what no
    well-behaved HTTP server does (hang up without answering, send invalid bytes, send
    a huge body). The connection is closed after the handler returns.
    """
    server = _RawServer(handler)
    port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.02},
        name=f"raw:{port}",
        daemon=True,
    )
    thread.start()
    try:
        yield f"http://{_LOOPBACK}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5.0)


def read_http_request(conn: socket.socket, *, limit: int = 16 * 1024 * 1024) -> bytes:
    """Read one HTTP/1.1 request (head and Content-Length body) from a raw connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length":
            length = min(int(value.strip()), limit)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def http_response(
    body: bytes,
    *,
    status: str = "200 OK",
    content_type: str = "application/json",
    content_length: int | None = None,
) -> bytes:
    """The bytes of an HTTP/1.1 response; `content_length` may lie on purpose."""
    length = len(body) if content_length is None else content_length
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body
