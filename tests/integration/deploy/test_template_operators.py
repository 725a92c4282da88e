"""What the operators' tools rely on in template.yaml, checked offline (the emulator would not
show these defects): dead-letter queues tagged with the stack's name, and key rotation waiting at
least as long as any verifier may cache the JWKS."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.key_store import AUTHORIZER_CACHE_SECONDS, CACHE_SECONDS
from samlocal.template import Template, load_template
from scripts import sam_template
from userflow.dlq.discovery import DEAD_LETTER_TAG, PURPOSE_TAG

# The Parameters and Secrets extension caches at most this long, whatever it is told.
EXTENSION_MAX_TTL_SECONDS = 300
CACHE_REF = {"Ref": "JwksCacheSeconds"}


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(sam_template.ROOT / "template.yaml")


def _variables(template: Template, logical_id: str) -> dict[str, Any]:
    variables: dict[str, Any] = (
        template.function_properties(logical_id).get("Environment", {}).get("Variables", {})
    )
    return variables


def test_given_every_dead_letter_queue_then_tagged_with_the_stack_name_and_its_purpose(
    template: Template,
) -> None:
    tagged = {}
    for logical_id in template.of_type("AWS::SQS::Queue"):
        tags = {
            tag["Key"]: tag["Value"]
            for tag in template.resources[logical_id].get("Properties", {}).get("Tags", [])
        }
        if DEAD_LETTER_TAG in tags:
            tagged[logical_id] = tags

    assert set(tagged) >= {
        "UserStreamFailureQueue",
        "UserStreamPoisonQueue",
        "MailDeadLetterQueue",
        "WebhookDeadLetterQueue",
    }
    for logical_id, tags in tagged.items():
        # `userflow dlq` finds a DLQ outside the stack by this value: the stack's own carry it too
        assert tags[DEAD_LETTER_TAG] == {"Ref": "AWS::StackName"}, logical_id
        assert isinstance(tags[PURPOSE_TAG], str), logical_id
        assert tags[PURPOSE_TAG], logical_id


def test_given_the_jwks_cache_parameter_then_within_what_the_extension_can_cache(
    template: Template,
) -> None:
    parameter = template.body["Parameters"]["JwksCacheSeconds"]

    assert parameter["Default"] == CACHE_SECONDS
    assert parameter["MinValue"] == 0
    assert parameter["MaxValue"] <= EXTENSION_MAX_TTL_SECONDS


def test_given_every_jwks_reader_then_it_caches_as_long_as_rotation_waits_and_no_longer(
    template: Template,
) -> None:
    """A verifier caching the JWKS longer than the rotation function waits before a staged key
    signs would refuse that key's first tokens: on AWS only, where nothing shows it before."""
    readers = [
        logical_id
        for logical_id in template.of_type("AWS::Serverless::Function")
        if "JWKS_PARAMETER_NAME" in _variables(template, logical_id)
    ]

    assert {"AuthorizerFunction", "JwksFunction", "KeyRotationFunction"} <= set(readers)
    for logical_id in readers:
        variables = _variables(template, logical_id)
        assert variables["JWKS_CACHE_SECONDS"] == CACHE_REF, logical_id
        if "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT" in variables:
            assert variables["SSM_PARAMETER_STORE_TTL"] == CACHE_REF, logical_id


def test_given_the_authorizer_then_its_verdicts_are_cached_no_longer_than_rotation_allows(
    template: Template,
) -> None:
    api = next(iter(template.of_type("AWS::Serverless::HttpApi")))
    authorizers = template.resources[api]["Properties"]["Auth"]["Authorizers"]

    for name, authorizer in authorizers.items():
        ttl = authorizer.get("Identity", {}).get("ReauthorizeEvery", 300)  # SAM's default: 300
        assert ttl <= AUTHORIZER_CACHE_SECONDS, name
