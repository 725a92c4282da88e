"""Lambda's DynamoDB event source mapping, run locally against moto's table stream.

Moto cannot run Lambda code and an event source mapping created in moto silently drops records,
so the runtime runs one :class:`StreamPoller` per mapping of the template (see ``mappings``). A
poller reads the stream (``reader``), cuts batches (``BatchSize``;
``MaximumBatchingWindowInSeconds`` capped at one second locally), delivers them with Lambda's
retry semantics (``retries``) and sends what is given up to the on-failure destination
(``on_failure``). Given the endpoint's ``StreamChanges``, an idle poller sleeps until a record is
appended instead of reading an unchanged stream five times a second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from samlocal.functions import Invoke
from samlocal.stream_mapping.mappings import StreamMapping
from samlocal.stream_mapping.on_failure import GivenUp, OnFailureDestination, failure_record
from samlocal.stream_mapping.reader import Shard, StreamReader
from samlocal.stream_mapping.retries import BatchDelivery, Records

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient


log = logging.getLogger("samlocal")

MAX_LOCAL_BATCHING_WINDOW = 1.0
SHARD_DISCOVERY_INTERVAL_S = 2.0
IDLE_INTERVAL_S = 5.0
"""How long a poller told of new records sleeps on a stream where nothing is appended."""
GATHER_S = 0.02
"""Woken by a record, a poller waits this long for the rest of its write (a registration appends
three) and reads them together: one read per write, not one per record, under load."""


class StreamChanges(Protocol):
    """Counts records appended to the streams (the local endpoint's ``StreamActivity``)."""

    @property
    def count(self) -> int: ...

    def wait(self, seen: int, timeout: float) -> None: ...


class StreamPoller:
    """Polls one mapping's stream, all shards, and invokes its function as Lambda would."""

    def __init__(
        self,
        mapping: StreamMapping,
        *,
        invoke: Invoke,
        function_arn: str,
        streams_client: DynamoDBStreamsClient,
        destination_client: Callable[[str], Any],
        region: str,
        retry_delay: float = 0.05,
        poll_interval: float = 0.2,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.time,
        changes: StreamChanges | None = None,
    ) -> None:
        self.mapping = mapping
        self.function_arn = function_arn
        self.poll_interval = poll_interval
        self.stop = stop or threading.Event()
        self.changes = changes
        self.reader = StreamReader(mapping, streams_client, region)
        self.destination = OnFailureDestination(mapping.on_failure, destination_client)
        self.delivery = BatchDelivery(
            mapping, invoke, self._give_up, retry_delay=retry_delay, stop=self.stop, clock=clock
        )
        self._shard: Shard | None = None
        """The shard whose batch is being delivered (names it in the on-failure record)."""

    def run(self) -> None:
        """Polls until ``stop`` is set; errors reaching AWS are logged and retried."""
        last_discovery = 0.0
        while not self.stop.is_set():
            seen = self.changes.count if self.changes else 0
            try:
                if time.monotonic() - last_discovery > SHARD_DISCOVERY_INTERVAL_S:
                    self.reader.discover()
                    last_discovery = time.monotonic()
                busy = self.poll_once(discover=False)
            except Exception:
                log.exception("stream poller for %s failed; retrying", self.mapping.name)
                self.stop.wait(self.poll_interval)
                continue
            if not busy:
                self._sleep(seen)

    def _sleep(self, seen: int) -> None:
        """Until the next read: ``poll_interval`` while a batching window is open or without
        ``changes``; else until a record is appended (``seen`` was the count before reading)."""
        window_open = any(shard.buffer for shard in self.reader.shards.values())
        if self.changes is None or window_open:
            self.stop.wait(self.poll_interval)
        else:
            self.changes.wait(seen, IDLE_INTERVAL_S)
            self.stop.wait(GATHER_S)

    def poll_once(self, discover: bool = True) -> bool:
        """Reads every shard and processes at most one batch per shard; True if it did work."""
        if discover:
            self.reader.discover()
        busy = False
        for shard in list(self.reader.shards.values()):
            self.reader.read(shard)
            if not shard.buffer or not self._batch_ready(shard):
                continue
            batch = shard.buffer[: self.mapping.batch_size]
            self._shard = shard
            self.delivery.process(batch)
            del shard.buffer[: len(batch)]
            busy = True
        return busy

    def drain(self, timeout: float = 10.0) -> None:
        """Processes until nothing is pending (tests)."""
        deadline = time.monotonic() + timeout
        self.reader.discover()
        while time.monotonic() < deadline:
            busy = self.poll_once(discover=False)
            if not busy and not any(shard.buffer for shard in self.reader.shards.values()):
                return
            if not busy:
                time.sleep(0.01)

    def _batch_ready(self, shard: Shard) -> bool:
        window = min(self.mapping.batching_window_s, MAX_LOCAL_BATCHING_WINDOW)
        if window <= 0 or len(shard.buffer) >= self.mapping.batch_size:
            return True
        return time.monotonic() - shard.waiting_since >= window

    def _give_up(self, records: Records, given_up: GivenUp) -> None:
        shard_id = self._shard.shard_id if self._shard else ""
        log.error(
            "%s gave up %d records (%s) of shard %s",
            self.mapping.name,
            len(records),
            given_up.condition,
            shard_id,
        )
        self.destination.send(
            failure_record(
                records,
                given_up,
                function_arn=self.function_arn,
                shard_id=shard_id,
                stream_arn=self.mapping.stream_arn,
            )
        )
