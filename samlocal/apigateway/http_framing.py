"""Strict HTTP/1.1 framing in front of waitress, as API Gateway and RFC 9112 would have it.

Waitress parses requests leniently where a front end must not: it takes a request with both
``Content-Length`` and ``Transfer-Encoding`` (RFC 9112 §6.1: the way to smuggle a second request
past a proxy), lets control characters and TAB through in the request target, waits for a
``CRLF`` that a bare-LF client never sends, and trusts any chunk size. This module tightens its
parser and connection handling without replacing it:

- :class:`StrictRequestParser` (waitress's ``parser_class``) refuses with 400, and the connection
  closes, a request line that is not ``METHOD SP target SP HTTP/x.y`` with a target free of
  control characters, spaces and TABs; a bare LF anywhere in the head or the chunked framing;
  ``Content-Length`` together with ``Transfer-Encoding``, or ``Transfer-Encoding`` in HTTP/1.0;
  a chunk size or extension line over 1 KiB. A chunk that would take the body past the limit is
  refused with 413 as soon as its size arrives, as an oversize ``Content-Length`` is.
- :func:`answer_stalled` answers 408 (and closes) a request whose head or body has not fully
  arrived ``timeout`` seconds after its first byte: a short body or unfinished headers.
- :func:`make_room` closes the longest-idle keep-alive connection when the connection limit is
  reached, so that a newcomer is served at once.
"""

from __future__ import annotations

import re
import resource
from typing import Any

from waitress.parser import HTTPRequestParser, ParsingError
from waitress.receiver import ChunkedReceiver
from waitress.utilities import BadRequest, Error, RequestEntityTooLarge, find_double_newline

REQUEST_LINE = re.compile(
    rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"  # method: a token
    rb" [^\x00-\x20\x7f]+"  # request target: no control character, space or TAB
    rb" HTTP/[0-9]\.[0-9]"
)
BARE_LF = re.compile(rb"(?<!\r)\n")
MAX_CONTROL_LINE = 1024
"""Bytes of a chunk-size line (size and extensions); a real client sends a few."""
MAX_CONNECTIONS = 1000
"""Open connections at most: a browser opens 6 per host; the rest is for tools and tests."""


class RequestTimeout(Error):  # type: ignore[misc]
    code = 408
    reason = "Request Timeout"


class LimitedChunkedReceiver(ChunkedReceiver):  # type: ignore[misc]
    """Waitress's chunked decoder, refusing bare LFs, endless size lines and oversize chunks
    as soon as they arrive instead of waiting for bytes that will never come."""

    def __init__(self, buf: Any, max_body: int) -> None:
        super().__init__(buf)
        self.max_body = max_body

    def received(self, s: bytes) -> int:
        consumed: int = super().received(s)
        if self.error is not None or self.completed:
            return consumed
        if any(BARE_LF.search(part) for part in (self.control_line, self.chunk_end, self.trailer)):
            self._refuse(BadRequest("Bare LF in chunked framing"))
        elif len(self.control_line) > MAX_CONTROL_LINE:
            self._refuse(BadRequest("Chunk size line too long"))
        elif len(self.buf) + self.chunk_remainder >= self.max_body:
            self._refuse(RequestEntityTooLarge(f"chunk exceeds max_body of {self.max_body}"))
        return consumed

    def _refuse(self, error: Error) -> None:
        self.error = error
        self.all_chunks_received = True


class StrictRequestParser(HTTPRequestParser):  # type: ignore[misc]
    """Waitress's parser with RFC 9112's rules for a front end (module docstring)."""

    version = "1.1"  # of the refusal sent when the head never parsed
    body_rcv: Any = None
    completed = False

    def received(self, data: bytes) -> int:
        if self.body_rcv is None and not self.completed:
            head = self.header_plus + data
            end = find_double_newline(head)
            if BARE_LF.search(head if end < 0 else head[:end]):
                self.error = BadRequest("Bare LF in the request head")
                self.completed = True
                return len(data)
        consumed: int = super().received(data)
        return consumed

    def parse_header(self, header_plus: bytes) -> None:
        request_line, _, fields = header_plus.partition(b"\r\n")
        if not REQUEST_LINE.fullmatch(request_line):
            raise ParsingError("Invalid request line")
        names = {line.split(b":", 1)[0].strip().lower() for line in fields.split(b"\r\n")}
        if b"transfer-encoding" in names:
            if b"content-length" in names:
                raise ParsingError("Content-Length with Transfer-Encoding")
            if request_line.endswith(b"HTTP/1.0"):
                raise ParsingError("Transfer-Encoding in an HTTP/1.0 request")
        super().parse_header(header_plus)
        if self.chunked:
            self.body_rcv = LimitedChunkedReceiver(
                self.body_rcv.buf, self.adj.max_request_body_size
            )


def answer_stalled(server: Any, now: float, timeout: float) -> None:
    """Answers 408 to every request not fully received ``timeout`` s after its first byte
    (the answer closes the connection). Runs in waitress's main loop, as ``received`` does."""
    cutoff = now - timeout
    for channel in list(server.active_channels.values()):
        started = getattr(channel, "request_started", None)
        if started is None or started >= cutoff:
            continue
        with channel.requests_lock:
            request = channel.request
            if request is None or channel.requests or channel.will_close:
                continue
            request.error = RequestTimeout(f"request not received in {timeout:g} s")
            request.completed = True
            channel.request = None
            channel.request_started = None
            channel.requests.append(request)
            server.add_task(channel)


def make_room(server: Any) -> None:
    """Closes the longest-idle connection (nothing being received, served or sent) when
    waitress's connection limit is reached, so that it keeps accepting."""
    if len(server._map) < server.adj.connection_limit:
        return
    idle = [
        channel
        for channel in list(server.active_channels.values())
        if channel.request is None
        and not channel.requests
        and not channel.total_outbufs_len
        and not channel.will_close
    ]
    if idle:
        min(idle, key=lambda channel: channel.last_activity).will_close = True


def connection_limit() -> int:
    """:data:`MAX_CONNECTIONS`, or fewer if this process may not open that many files (each
    connection is one; worker pipes and moto need some too)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(32, min(MAX_CONNECTIONS, soft // 2))
