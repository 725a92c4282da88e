"""The local runtime's stream poller and execution environments: binary attributes reach the
function as Lambda sends them, and an event that cannot reach it never costs an environment."""

from __future__ import annotations

import base64
import functools
import json
import threading
from pathlib import Path

from samlocal.functions.in_process import Invoker
from samlocal.functions.pool import WorkerPool
from samlocal.provision.stacks import stack_resolver
from samlocal.stream_mapping import StreamPoller, mappings_from_template
from samlocal.stream_mapping.lambda_record import as_lambda_record
from samlocal.template import load_template
from tests.support.stream_records import stream_record, user_image
from userflow.stack import Stack

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
FUNCTION = "UserStreamProcessorFunction"


def test_given_an_item_with_a_binary_attribute_when_polled_then_it_is_kept_as_poison(
    stack: Stack,
) -> None:
    template = load_template(TEMPLATE)
    [mapping] = [
        m
        for m in mappings_from_template(template, stack_resolver(template, stack))
        if m.function == FUNCTION
    ]
    invoker = Invoker(template, stack)
    poller = StreamPoller(
        mapping,
        invoke=invoker.invoke,
        function_arn=stack.resources[FUNCTION]["arn"],
        streams_client=stack.client("dynamodbstreams"),
        destination_client=functools.cache(stack.client),
        region="us-east-1",
        retry_delay=0,
        stop=threading.Event(),
    )
    image = user_image(id="binary-name")
    image["name"] = {"B": b"\x00\xff"}  # written by some script
    stack.client("dynamodb").put_item(
        TableName=stack.physical_id("UserRegistrationTable"), Item=image
    )

    poller.drain(timeout=20)

    messages = stack.client("sqs").receive_message(
        QueueUrl=stack.physical_id("UserStreamPoisonQueue"), MaxNumberOfMessages=10
    )
    [kept] = [json.loads(m["Body"])["record"] for m in messages.get("Messages", [])]
    assert kept["dynamodb"]["NewImage"]["name"] == {"B": base64.b64encode(b"\x00\xff").decode()}


def test_given_an_event_that_cannot_reach_the_function_when_invoked_then_no_environment_is_lost(
    stack: Stack,
) -> None:
    workers = WorkerPool(load_template(TEMPLATE), stack, max_per_function=1)
    # A record the processor skips (an email claim, not a user): no AWS call is needed.
    skipped = stream_record(
        "INSERT", new={"PK": {"S": "EMAIL#a@example.com"}, "SK": {"S": "EMAIL"}}
    )
    outcomes: list[object] = []

    def invoke_three_times() -> None:
        for event in ({"Records": [{"raw": b"\x00"}]},) * 2 + ({"Records": [skipped]},):
            try:  # with one environment, a lost one makes the next call wait for ever
                outcomes.append(workers.invoke(FUNCTION, event))
            except TypeError as error:
                outcomes.append(type(error))

    calls = threading.Thread(target=invoke_three_times, daemon=True)
    calls.start()
    calls.join(60)
    workers.close()

    assert outcomes == [TypeError, TypeError, {"batchItemFailures": []}]


def test_given_binary_values_when_a_record_is_given_lambdas_shape_then_they_are_base64_text() -> (
    None
):
    record = {
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"PK": {"B": b"\x01"}},
            "NewImage": {
                "set": {"BS": [b"\x02", b"\x03"]},
                "nested": {"M": {"list": {"L": [{"B": b"\x04"}, {"S": "text"}]}}},
            },
        },
    }

    shaped = as_lambda_record(record, "arn:stream")

    assert json.loads(json.dumps(shaped))["dynamodb"] == {
        "Keys": {"PK": {"B": "AQ=="}},
        "NewImage": {
            "set": {"BS": ["Ag==", "Aw=="]},
            "nested": {"M": {"list": {"L": [{"B": "BA=="}, {"S": "text"}]}}},
        },
    }
