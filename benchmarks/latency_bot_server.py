"""Bots with a fixed reply latency, served by uvicorn in a process of their own.

One raw ASGI app answers every path, so many bots can share one server as distinct
URLs (http://127.0.0.1:PORT/a0/, .../d3/): POST replies after the latency, GET answers
200 at once (health). It prints the port it listens on as its first line of output.

    .venv/bin/python benchmarks/latency_bot_server.py --latency-ms 100
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

REPLY = b'{"content": "Here is one more harmless question.", "end": false, "metadata": {}}'
HEALTH = b'{"status": "ok", "protocol": "arena/1"}'


def make_app(latency_s: float) -> Callable[[dict[str, Any], Receive, Send], Awaitable[None]]:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            await _answer(send, HEALTH)
            return
        while (await receive()).get("more_body", False):
            pass  # the request itself does not matter: read it to the end
        await asyncio.sleep(latency_s)
        await _answer(send, REPLY)

    return app


async def _answer(send: Send, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def bind_loopback() -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say TCP,
    # and without it every small reply waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, required=True)
    args = parser.parse_args()
    sock = bind_loopback()
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(
        make_app(args.latency_ms / 1000.0),
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_keep_alive=60,
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
