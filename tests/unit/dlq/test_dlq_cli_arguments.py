"""`userflow dlq replay --since/--limit` read what operators type, and refuse the rest clearly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from userflow.cli import build_parser
from userflow.dlq.dead_letters import PENDING_KEY, StreamBatch


def _replay_args(*arguments: str) -> object:
    argv = ["dlq", "replay", *arguments]
    return build_parser(argv).parse_args(argv)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T09:30:00Z", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        ("2026-03-01T09:30:00", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        ("2026-03-01T10:30:00+01:00", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
    ],
)
def test_given_an_iso_time_when_parsed_then_since_is_that_instant(
    text: str, expected: datetime
) -> None:
    assert _replay_args("--since", text).since == expected  # type: ignore[attr-defined]


def test_given_a_duration_when_parsed_then_since_is_that_long_ago() -> None:
    since = _replay_args("--since", "2h").since  # type: ignore[attr-defined]

    assert abs(datetime.now(UTC) - timedelta(hours=2) - since) < timedelta(seconds=5)


@pytest.mark.parametrize(
    "arguments",
    [
        ("--since", "yesterday"),
        ("--since", "2w"),
        ("--since", "99999999999d"),
        ("--limit", "0"),
        ("--limit", "-3"),
        ("--limit", "x"),
    ],
)
def test_given_a_bad_since_or_limit_when_parsed_then_usage_error(
    arguments: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _replay_args(*arguments)

    assert exit_info.value.code == 2
    assert arguments[0] in capsys.readouterr().err


def test_given_part_of_a_batch_left_when_narrowed_then_the_message_holds_only_that() -> None:
    batch = StreamBatch(
        {
            "DDBStreamBatchInfo": {
                "shardId": "s",
                "startSequenceNumber": "100",
                "endSequenceNumber": "900",
                "batchSize": 9,
            },
            "timestamp": "t",
        }
    )

    narrowed = StreamBatch(json.loads(batch.narrowed(["700", "300"])))

    assert narrowed.pending == frozenset({"300", "700"})
    assert narrowed.body[PENDING_KEY] == ["300", "700"]
    assert narrowed.info["startSequenceNumber"] == "300"
    assert narrowed.info["endSequenceNumber"] == "700"
    assert narrowed.info["batchSize"] == 2
    assert batch.pending is None


def test_given_a_stack_without_a_userflow_resource_when_named_then_a_usage_error() -> None:
    from userflow.errors import EXIT_USAGE, CommandError
    from userflow.stack import Stack

    stack = Stack(name="someone-elses", region="us-east-1", endpoint_url=None, resources={})

    with pytest.raises(CommandError) as refused:
        stack.physical_id("UserEventsBus")

    assert refused.value.exit_code == EXIT_USAGE
    assert "someone-elses has no UserEventsBus" in str(refused.value)
