"""The local HTTP API's edges over raw sockets: API Gateway's limits and framing errors.

Every refusal is JSON in API Gateway's shape, never a 5xx or an HTML page, and no function runs.
"""

from __future__ import annotations

import json
import select
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.support.local_stack import LocalStack

pytestmark = pytest.mark.e2e

TEN_MB = 10 * 1024 * 1024


def _connect(stack: LocalStack) -> socket.socket:
    url = urlsplit(stack.api_url)
    assert url.hostname is not None
    assert url.port is not None
    return socket.create_connection((url.hostname, url.port), timeout=20)


def _exchange(stack: LocalStack, head: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Sends raw bytes, reads until the server closes: (status, headers, body)."""
    with _connect(stack) as connection:
        connection.sendall(head.replace("\n", "\r\n").encode() + body)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head_bytes, _, payload = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, payload


def _post(path: str, *headers: str) -> str:
    return "\n".join(
        [f"POST {path} HTTP/1.1", "Host: local", "Connection: close", *headers, "", ""]
    )


@pytest.mark.parametrize(
    ("framing", "body"),
    [
        ("Content-Length: abc", b"{}"),
        ("Content-Length: -1", b"{}"),
        ("Content-Length: 1, 2", b"{}"),
        ("Transfer-Encoding: chunked", b"zz\r\n{}\r\n0\r\n\r\n"),
        ("Transfer-Encoding: chunked", b"2\r\n{}XX0\r\n\r\n"),
        ("Transfer-Encoding: gzip", b"{}"),
    ],
)
def test_given_malformed_framing_when_posting_then_400_json_and_no_function_runs(
    probe_stack: LocalStack, framing: str, body: bytes
) -> None:
    status, headers, payload = _exchange(probe_stack, _post("/echo", framing), body)

    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(payload) == {"message": "Bad Request"}


def test_given_a_declared_body_over_10_mb_when_posting_then_413_before_any_function_runs(
    probe_stack: LocalStack,
) -> None:
    status, _, payload = _exchange(probe_stack, _post("/echo", f"Content-Length: {TEN_MB + 1}"))

    assert status == 413
    assert json.loads(payload) == {"message": "Request Entity Too Large"}


def test_given_a_chunked_body_growing_over_10_mb_when_posting_then_413(
    probe_stack: LocalStack,
) -> None:
    chunk = b"100000\r\n" + b"a" * (1024 * 1024) + b"\r\n"
    received = b""
    with _connect(probe_stack) as connection:
        head = _post("/echo", "Transfer-Encoding: chunked").replace("\n", "\r\n")
        connection.sendall(head.encode())
        for _ in range(11):  # stops sending as soon as the server answers, as clients do
            if select.select([connection], [], [], 0)[0]:
                break
            connection.sendall(chunk)
        while select.select([connection], [], [], 10)[0]:
            try:
                data = connection.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data

    assert received.startswith(b"HTTP/1.1 413 ")
    assert json.loads(received.partition(b"\r\n\r\n")[2]) == {"message": "Request Entity Too Large"}


def test_given_a_body_of_exactly_10_mb_when_posting_then_the_function_gets_all_of_it(
    probe_stack: LocalStack,
) -> None:
    response = probe_stack.request(
        "POST", "/echo", body=b"a" * TEN_MB, headers={"Content-Type": "text/plain"}
    )

    assert response.status == 200
    assert response.json()["body_length"] == TEN_MB


def test_given_a_well_formed_chunked_body_when_posting_then_the_function_gets_it_whole(
    probe_stack: LocalStack,
) -> None:
    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"

    status, _, payload = _exchange(
        probe_stack, _post("/echo", "Transfer-Encoding: chunked", "Content-Type: text/plain"), body
    )

    assert status == 200
    assert json.loads(payload)["body_length"] == len("hello world")


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "FOO"])
def test_given_an_unknown_method_when_requesting_then_404_like_any_unmatched_route(
    probe_stack: LocalStack, method: str
) -> None:
    head = f"{method} /echo2 HTTP/1.1\nHost: local\nConnection: close\n\n"

    status, headers, payload = _exchange(probe_stack, head)

    assert status == 404
    assert headers["content-type"] == "application/json"
    assert json.loads(payload) == {"message": "Not Found"}


def test_given_headers_over_10240_bytes_when_requesting_then_431_json(
    probe_stack: LocalStack,
) -> None:
    head = f"GET /echo HTTP/1.1\nHost: local\nX-Big: {'a' * 11000}\nConnection: close\n\n"

    status, _, payload = _exchange(probe_stack, head)

    assert status == 431
    assert json.loads(payload) == {"message": "Request Header Fields Too Large"}


def test_given_an_idle_connection_when_the_client_timeout_passes_then_the_server_closes_it(
    probe_stack: LocalStack,
) -> None:
    with _connect(probe_stack) as connection:
        assert connection.recv(1) == b""  # the server closed it (2 s timeout, 20 s socket limit)


def _receive_until_closed(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset counts as closed)."""
    received = b""
    while True:
        try:
            chunk = connection.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def test_given_a_request_trickling_in_when_the_client_timeout_passes_then_408_and_closed(
    probe_stack: LocalStack,
) -> None:
    with _connect(probe_stack) as connection:
        connection.sendall(b"GET /echo HTTP/1.1\r\nHost: local\r\n")
        for _ in range(40):  # 20 s at most; the stack's client timeout is 2 s
            if select.select([connection], [], [], 0)[0]:
                break
            connection.sendall(b"X-Slow: 1\r\n")
            time.sleep(0.5)
        received = _receive_until_closed(connection)

    assert received.startswith(b"HTTP/1.1 408 ")
    assert json.loads(received.partition(b"\r\n\r\n")[2]) == {"message": "Request Timeout"}


@pytest.mark.parametrize(
    "head",
    [
        "POST /echo HTTP/1.1\r\nHost: local\r\nContent-Length: 10\r\n\r\n12345",
        "GET /echo HTTP/1.1\r\nHost: local\r\n",
    ],
    ids=["short body", "unfinished headers"],
)
def test_given_a_request_that_stops_arriving_when_the_client_timeout_passes_then_408_and_closed(
    probe_stack: LocalStack, head: str
) -> None:
    with _connect(probe_stack) as connection:
        connection.sendall(head.encode())
        received = _receive_until_closed(connection)  # the 20 s socket limit fails a hang

    assert received.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in received.lower()


SMUGGLED = "GET /other HTTP/1.1\r\nHost: local\r\n\r\n"


@pytest.mark.parametrize(
    "framing",
    [
        "Content-Length: 5\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: chunked\r\nContent-Length: 5",
    ],
)
def test_given_content_length_with_transfer_encoding_then_400_and_the_connection_closes(
    probe_stack: LocalStack, framing: str
) -> None:
    """The request smuggling shape: the second request in the body never runs."""
    request = f"POST /echo HTTP/1.1\r\nHost: local\r\n{framing}\r\n\r\n0\r\n\r\n{SMUGGLED}"
    with _connect(probe_stack) as connection:
        connection.sendall(request.encode())
        received = _receive_until_closed(connection)

    assert received.startswith(b"HTTP/1.1 400 ")
    assert received.count(b"HTTP/1.1 ") == 1  # nothing answered the smuggled request
    assert json.loads(received.partition(b"\r\n\r\n")[2]) == {"message": "Bad Request"}
    assert b"connection: close" in received.lower()


@pytest.mark.parametrize(
    "head",
    [
        b"GET /echo HTTP/1.1\nHost: local\n\n",
        b"GET /echo HTTP/1.1\r\nHost: local\nX-A: 1\r\n\r\n",
        b"GET /echo\x00 HTTP/1.1\r\nHost: local\r\n\r\n",
        b"GET /ec\tho HTTP/1.1\r\nHost: local\r\n\r\n",
        b"GET /echo\x1b[2J HTTP/1.1\r\nHost: local\r\n\r\n",
        b"GET /echo\x7f HTTP/1.1\r\nHost: local\r\n\r\n",
    ],
    ids=["bare LF", "one bare LF", "NUL", "TAB", "ANSI escape", "DEL"],
)
def test_given_bare_lf_or_control_characters_in_the_head_then_400_at_once_and_closed(
    probe_stack: LocalStack, head: bytes
) -> None:
    with _connect(probe_stack) as connection:
        connection.sendall(head)
        received = _receive_until_closed(connection)

    assert received.startswith(b"HTTP/1.1 400 ")
    assert json.loads(received.partition(b"\r\n\r\n")[2]) == {"message": "Bad Request"}
    output = probe_stack.output()
    assert not any(control in output for control in ("\x00", "\x1b", "\x7f", "\t"))


@pytest.mark.parametrize(
    ("chunks", "status"),
    [
        (b"ffffffffffff\r\n", 413),
        (b"-5\r\nhello\r\n", 400),
        (b"5\nhello\r\n0\r\n\r\n", 400),
        (b"0" * 4096, 400),
    ],
    ids=["size past 10 MB", "negative size", "bare LF", "endless size line"],
)
def test_given_chunk_sizes_no_body_can_have_then_answered_at_once_and_closed(
    probe_stack: LocalStack, chunks: bytes, status: int
) -> None:
    head = _post("/echo", "Transfer-Encoding: chunked").replace("Connection: close\n", "")
    with _connect(probe_stack) as connection:
        connection.sendall(head.replace("\n", "\r\n").encode() + chunks)
        received = _receive_until_closed(connection)

    assert received.startswith(f"HTTP/1.1 {status} ".encode())


def test_given_an_absolute_form_target_then_it_is_routed_by_its_path_and_host(
    probe_stack: LocalStack,
) -> None:
    head = "GET http://api.example.com/echo?x=1 HTTP/1.1\nHost: local\nConnection: close\n\n"

    status, _, payload = _exchange(probe_stack, head)

    assert status == 200
    assert json.loads(payload)["count"] >= 1


def test_given_120_idle_connections_when_a_new_client_calls_then_it_is_served_at_once(
    local_stack: LocalStack,
) -> None:
    """waitress's default of 100 connections made the 101st client wait for an idle one to
    time out (30 s here): the limit is now far above a browser's needs."""
    local_stack.request("GET", "/.well-known/jwks.json")  # warm
    idle = [_connect(local_stack) for _ in range(120)]
    try:
        with _connect(local_stack) as newcomer:
            newcomer.settimeout(15)  # half the stack's 30 s client timeout
            newcomer.sendall(
                b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n"
            )
            received = _receive_until_closed(newcomer)
    finally:
        for connection in idle:
            connection.close()

    assert received.startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize(
    "head",
    [
        "GARBAGE\n\n",
        "GET /echo HTTP/1.1\nHost: local\nBroken header line\nConnection: close\n\n",
        "GET /echo HTTP/1.1\nHost: local\nX-Bin: \xff\xfe\x01\nConnection: close\n\n",
    ],
)
def test_given_a_malformed_request_head_when_sent_then_a_4xx_json_answer_never_a_5xx(
    probe_stack: LocalStack, head: str
) -> None:
    status, headers, payload = _exchange(probe_stack, head)

    assert 400 <= status < 500
    assert headers["content-type"] == "application/json"
    assert "message" in json.loads(payload)
