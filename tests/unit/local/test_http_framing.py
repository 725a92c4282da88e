"""Strict HTTP/1.1 framing: what waitress's parser accepts or waits for, and what it does here.

Parser-level tests feed bytes as a connection would; the last ones run a real ``GatewayServer``
on loopback (with a stub gateway) to see timeouts and the connection limit.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest
from waitress.adjustments import Adjustments
from waitress.parser import HTTPRequestParser

from samlocal.apigateway import server as server_module
from samlocal.apigateway.gateway import Gateway
from samlocal.apigateway.http_framing import MAX_CONNECTIONS, StrictRequestParser, connection_limit
from samlocal.apigateway.responses import Response, json_response
from samlocal.apigateway.server import MAX_BODY_BYTES, GatewayServer

ADJ = Adjustments(max_request_body_size=MAX_BODY_BYTES + 1, max_request_header_size=10240)


def feed(parser: HTTPRequestParser, *pieces: bytes) -> HTTPRequestParser:
    for piece in pieces:
        rest = piece
        while rest and not parser.completed:
            rest = rest[parser.received(rest) :]
    return parser


def strict(*pieces: bytes) -> HTTPRequestParser:
    return feed(StrictRequestParser(ADJ), *pieces)


def lenient(*pieces: bytes) -> HTTPRequestParser:
    return feed(HTTPRequestParser(ADJ), *pieces)


def status(parser: HTTPRequestParser) -> int | None:
    """The refusal's status, None for a request accepted (or still arriving)."""
    return None if parser.error is None else int(parser.error.code)


CL_TE = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"


def test_given_waitress_as_released_then_it_takes_cl_with_te_and_waits_on_bare_lf() -> None:
    """What the strict parser exists for: if these fail, waitress changed (check the module)."""
    assert lenient(CL_TE, b"0\r\n\r\n").completed
    assert lenient(CL_TE, b"0\r\n\r\n").error is None
    assert not lenient(b"GET /echo HTTP/1.1\nHost: x\n\n").completed  # waits for CRLF CRLF
    assert lenient(b"GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n").error is None
    chunked = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert lenient(chunked, b"ffffffffffff\r\nabc").error is None  # waits for 280 TB


@pytest.mark.parametrize(
    "head",
    [
        CL_TE,
        b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n",
        b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET /echo HTTP/1.1\nHost: x\n\n",
        b"GET /echo HTTP/1.1\r\nHost: x\n\r\n",
        b"GET /echo HTTP/1.1\nHost: x\r\n",  # refused before the head is even complete
        b"GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /a\x1b[31m HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /a\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /echo HTTP/1.1 \r\nHost: x\r\n\r\n",
        b"GET  /echo HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /echo\r\nHost: x\r\n\r\n",  # HTTP/0.9 form
    ],
)
def test_given_bad_framing_in_the_head_when_parsed_then_400(head: bytes) -> None:
    parser = strict(head)

    assert parser.completed
    assert status(parser) == 400


CHUNKED = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"zz\r\n", 400),
        (b"-1\r\n", 400),
        (b"0x5\r\n", 400),
        (b"5\nhello", 400),  # bare LF after the size
        (b"5\r\nhello\n", 400),  # bare LF after the data
        (b"0" * 2000, 400),  # a size line that never ends
        (b"ffffffffffff\r\n", 413),
        (b"a00001\r\n", 413),  # 10 MB + 1 in one chunk
        (b"500000\r\n" + b"a" * 10 + b"\r\n", None),  # 5 MB announced: still arriving
    ],
)
def test_given_a_chunked_body_when_its_framing_arrives_then_it_is_judged_at_once(
    body: bytes, expected: int | None
) -> None:
    parser = strict(CHUNKED, body)

    assert status(parser) == expected
    assert parser.completed == (expected is not None)


def test_given_chunks_adding_up_past_10_mb_then_413_when_the_chunk_that_crosses_is_announced() -> (
    None
):
    five_mb = b"500000\r\n" + b"a" * 0x500000 + b"\r\n"

    parser = strict(CHUNKED, five_mb, five_mb, b"1\r\n")

    assert status(parser) == 413


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET http://example.com/echo?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /caf%C3%A9 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
        CHUNKED + b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n",
        b"\r\nGET /echo HTTP/1.1\r\nHost: x\r\n\r\n",  # a stray CRLF between requests
    ],
)
def test_given_well_formed_requests_then_they_parse_as_waitress_parses_them(
    request_bytes: bytes,
) -> None:
    parser, reference = strict(request_bytes), lenient(request_bytes)

    assert parser.completed
    assert parser.error is None
    assert (parser.command, parser.path, parser.query, parser.headers) == (
        reference.command,
        reference.path,
        reference.query,
        reference.headers,
    )
    assert parser.get_body_stream().read() == reference.get_body_stream().read()


def test_given_the_file_limit_then_the_connection_limit_stays_far_above_a_browsers_needs() -> None:
    assert 100 < connection_limit() <= MAX_CONNECTIONS


class _Ok:
    """A gateway that answers every request 200."""

    def handle(self, method: str, path: str, **_: Any) -> Response:
        return json_response(200, f"{method} {path}")


@pytest.fixture
def small_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, int]]:
    """A GatewayServer allowing 10 connections, with a 2 s client timeout."""
    monkeypatch.setattr(server_module, "connection_limit", lambda: 10)
    server = GatewayServer(cast(Gateway, _Ok()), port=0, client_timeout=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.url.removeprefix("http://").split(":")
    try:
        yield host, int(port)
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _read_all(connection: socket.socket) -> bytes:
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def test_given_idle_connections_at_the_limit_when_a_newcomer_connects_then_it_is_served(
    small_server: tuple[str, int],
) -> None:
    idle = [socket.create_connection(small_server, timeout=10) for _ in range(12)]
    try:
        with socket.create_connection(small_server, timeout=1.5) as newcomer:
            newcomer.sendall(b"GET /new HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = _read_all(newcomer)  # a timeout here: not served before the idle ones
    finally:
        for connection in idle:
            connection.close()

    assert answer.startswith(b"HTTP/1.1 200 ")


def test_given_a_body_shorter_than_declared_when_the_client_timeout_passes_then_408_and_closed(
    small_server: tuple[str, int],
) -> None:
    with socket.create_connection(small_server, timeout=10) as connection:
        connection.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
        started = time.monotonic()
        answer = _read_all(connection)

    assert answer.startswith(b"HTTP/1.1 408 ")
    assert answer.endswith(b'{"message":"Request Timeout"}')
    assert time.monotonic() - started < 10  # 2 s timeout, swept every second; a busy machine
