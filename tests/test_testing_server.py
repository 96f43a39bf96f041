"""The loopback servers that tests (ours and users') run bots on."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from adversarial_arena.testing import (
    http_response,
    read_http_request,
    run_raw_tcp_server,
    serve_in_thread,
)


def port_is_open(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) == 0


def test_served_app_answers_until_the_block_ends() -> None:
    app = Starlette(routes=[Route("/", lambda _: PlainTextResponse("hi"))])
    with serve_in_thread(app) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/").text == "hi"
    assert not port_is_open(url)


def test_handler_that_never_returns_does_not_hang_shutdown() -> None:
    async def forever(_: Request) -> Response:
        await asyncio.Event().wait()
        return Response(b"")

    app = Starlette(routes=[Route("/", forever)])
    with (
        serve_in_thread(app) as url,
        socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) as conn,
    ):
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
    assert time.monotonic() - started < 4


def test_app_that_fails_to_start_raises_instead_of_hanging() -> None:
    @contextlib.asynccontextmanager
    async def broken(_: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    with (
        pytest.raises(RuntimeError, match="died during start-up"),
        serve_in_thread(Starlette(lifespan=broken)),
    ):
        pass


def test_raw_server_sends_exactly_what_the_handler_writes() -> None:
    def teapot(conn: socket.socket) -> None:
        request = read_http_request(conn)
        assert request.endswith(b"ping")
        conn.sendall(http_response(b"pong", status="418 I'm a teapot", content_type="text/plain"))

    with run_raw_tcp_server(teapot) as url:
        response = httpx.post(url, content=b"ping")
    assert (response.status_code, response.text) == (418, "pong")
