"""template.yaml, checked for what operators and a first deploy depend on: deploy ordering, queue
policies, partition-neutral ARNs, evidence kept on stack deletion, alarms, the dashboard, and the
runbook and deploy-role documents that go with them.

Like tests/integration/deploy/test_template.py, every check iterates over what the template holds.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from scripts import sam_template
from scripts.sam_cli_version import required_sam_cli
from tests.integration.deploy.test_template import (
    RESOURCELESS_ACTIONS,
    _dead_letter_queues,
    _walk,
    policy_statements,
)
from userflow.dlq.discovery import DEAD_LETTER_TAG

RUNBOOK = sam_template.ROOT / "docs" / "operating" / "runbook.md"
EVENTS_DOC = sam_template.ROOT / "docs" / "events.md"
DEPLOY_DOC = sam_template.ROOT / "docs" / "deploy.md"
RETAIN = "Retain"


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return sam_template.load()


@pytest.fixture(scope="module")
def cfn(sam: dict[str, Any]) -> dict[str, Any]:
    return sam_template.translate(sam)


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return sam_template.resources_of_type(template, kind)


def _is_dead_letter_queue(resource: dict[str, Any]) -> bool:
    """Tagged as `userflow dlq` and `userflow status` find dead-letter queues."""
    if resource.get("Type") != "AWS::SQS::Queue":
        return False
    tags = resource.get("Properties", {}).get("Tags", [])
    return any(tag.get("Key") == DEAD_LETTER_TAG for tag in tags)


def _refs(value: Any) -> set[str]:
    """Every resource a value points at through Ref, Fn::GetAtt or ${Name} in Fn::Sub."""
    found: set[str] = set()
    for node in _walk(value):
        if isinstance(node.get("Ref"), str):
            found.add(node["Ref"])
        target = node.get("Fn::GetAtt")
        if target:
            found.add(target[0] if isinstance(target, list) else str(target).split(".")[0])
        text = node.get("Fn::Sub")
        if text:
            text = text if isinstance(text, str) else text[0]
            found.update(re.findall(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}", text))
    return found


def _depends_on(resource: dict[str, Any]) -> set[str]:
    value = resource.get("DependsOn", [])
    return {value} if isinstance(value, str) else set(value)


def _section(path: Any, heading: str) -> str:
    """A markdown section's text, up to the next heading of the same or a higher level."""
    lines = path.read_text().splitlines()
    start = next(
        (i for i, line in enumerate(lines) if re.fullmatch(rf"#+ {re.escape(heading)}", line)),
        None,
    )
    assert start is not None, f"{path.name} has no section {heading!r}"
    level = len(lines[start]) - len(lines[start].lstrip("#"))
    end = next(
        (i for i in range(start + 1, len(lines)) if re.match(rf"#{{1,{level}}} ", lines[i])),
        len(lines),
    )
    return "\n".join(lines[start:end])


# ------------------------------------------------------------------------------ deploy defects


def test_given_a_rotation_schedule_when_created_then_it_waits_for_its_log_group_and_permission(
    sam: dict[str, Any],
) -> None:
    schedules = _of_type(sam, "AWS::SecretsManager::RotationSchedule")
    assert schedules
    for name, schedule in schedules.items():
        function = _refs(schedule["Properties"]["RotationLambdaARN"]).pop().split(".")[0]
        log_groups = _refs(sam["Resources"][function]["Properties"]["LoggingConfig"]["LogGroup"])
        permissions = {
            permission_name
            for permission_name, permission in _of_type(sam, "AWS::Lambda::Permission").items()
            if function
            in {r.split(".")[0] for r in _refs(permission["Properties"]["FunctionName"])}
        }
        assert log_groups
        assert permissions
        assert log_groups | permissions <= _depends_on(schedule), name


def test_given_every_queue_policy_when_read_then_it_covers_one_queue_and_names_only_its_arn(
    sam: dict[str, Any],
) -> None:
    policies = _of_type(sam, "AWS::SQS::QueuePolicy")
    assert policies
    covered: list[str] = []
    for name, policy in policies.items():
        queues = policy["Properties"]["Queues"]
        assert len(queues) == 1, f"{name} covers {len(queues)} queues"
        queue = _refs(queues[0]).pop()
        covered.append(queue)
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert _refs(statement["Resource"]) == {queue}, name
    assert len(covered) == len(set(covered)), "a queue has two policies"


def test_given_the_template_when_read_then_no_arn_names_a_partition_literally() -> None:
    assert re.findall(r".*arn:aws[a-z-]*:.*", sam_template.TEMPLATE.read_text()) == []


def test_given_actions_without_a_resource_type_when_granted_then_on_star_alone(
    cfn: dict[str, Any],
) -> None:
    misplaced = []
    for name, role in _of_type(cfn, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy_statements(policy):
                actions = statement["Action"]
                actions = {actions} if isinstance(actions, str) else set(actions)
                if actions & RESOURCELESS_ACTIONS and statement["Resource"] != "*":
                    misplaced.append(f"{name}: {sorted(actions)} on {statement['Resource']}")

    assert misplaced == []


def test_given_the_table_when_encrypted_then_with_the_aws_managed_key_as_its_comment_says(
    sam: dict[str, Any],
) -> None:
    for table in _of_type(sam, "AWS::DynamoDB::Table").values():
        sse = table["Properties"]["SSESpecification"]
        assert sse == {"SSEEnabled": True, "SSEType": "KMS"}  # no key id: aws/dynamodb
        comment = " ".join(skip["comment"] for skip in table["Metadata"]["checkov"]["skip"])
        assert "AWS managed KMS key" in comment
        assert "AWS owned" not in comment.replace("over the AWS owned", "")


def test_given_the_runtime_when_the_docs_name_a_sam_cli_version_then_it_supports_that_runtime(
    sam: dict[str, Any],
) -> None:
    runtime = sam["Globals"]["Function"]["Runtime"]
    minimum = ".".join(map(str, required_sam_cli(runtime)))
    for document in (DEPLOY_DOC,):
        stated = set(re.findall(r"SAM CLI ≥ (\d+\.\d+\.\d+)", document.read_text()))
        assert stated == {minimum}, document.name


def test_given_evidence_of_failures_when_the_stack_is_deleted_or_replaced_then_it_is_kept(
    cfn: dict[str, Any],
) -> None:
    evidence = _dead_letter_queues(cfn) | {
        name
        for name, resource in cfn["Resources"].items()
        if _is_dead_letter_queue(resource) or resource["Type"] == "AWS::Events::Archive"
    }
    assert {"UserStreamFailureQueue", "UserStreamPoisonQueue", "UserEventsArchive"} <= evidence
    not_kept = {
        name
        for name in evidence
        if cfn["Resources"][name].get("DeletionPolicy") != RETAIN
        or cfn["Resources"][name].get("UpdateReplacePolicy") != RETAIN
    }

    assert not_kept == set()


# ------------------------------------------------------------------------------ alarms


def _watched(alarm: dict[str, Any]) -> set[tuple[str, frozenset[str]]]:
    """(metric name, resources named by its dimensions) for every metric an alarm reads."""
    return {
        (node["MetricName"], frozenset(_refs(node.get("Dimensions", []))))
        for node in _walk(alarm["Properties"])
        if "MetricName" in node
    }


def _alarms(cfn: dict[str, Any]) -> dict[str, set[tuple[str, frozenset[str]]]]:
    return {name: _watched(a) for name, a in _of_type(cfn, "AWS::CloudWatch::Alarm").items()}


def test_given_every_function_when_alarms_are_listed_then_its_errors_and_throttles_are_watched(
    sam: dict[str, Any], cfn: dict[str, Any]
) -> None:
    watched = {
        (metric, resource)
        for metrics in _alarms(cfn).values()
        for metric, resources in metrics
        for resource in resources
    }
    functions = set(_of_type(sam, sam_template.FUNCTION))
    unwatched = {
        (metric, function)
        for function in functions
        for metric in ("Errors", "Throttles")
        if (metric, function) not in watched
    }

    assert unwatched == set()


def test_given_the_authorizer_when_alarmed_then_by_alarms_that_watch_it_alone(
    cfn: dict[str, Any],
) -> None:
    own = {
        metric
        for metrics in _alarms(cfn).values()
        if {resources for _, resources in metrics} == {frozenset({"AuthorizerFunction"})}
        for metric, _ in metrics
    }

    assert {"Errors", "Throttles"} <= own


def test_given_the_api_pipeline_and_logins_when_alarms_are_listed_then_each_signal_is_watched(
    sam: dict[str, Any], cfn: dict[str, Any]
) -> None:
    watched = {pair for metrics in _alarms(cfn).values() for pair in metrics}
    expected = {
        ("5xx", frozenset({"HttpApi"})),
        ("Latency", frozenset({"HttpApi"})),
        ("LoginFailed", frozenset()),
        ("IteratorAge", frozenset({"UserStreamProcessorFunction"})),
        ("IteratorAge", frozenset({"MailerFunction"})),
        ("MailFailed", frozenset()),
        ("Reputation.BounceRate", frozenset()),
        ("Reputation.ComplaintRate", frozenset()),
    }
    assert expected - watched == set()
    failed_invocations_of = {
        json.dumps(dimension["Value"])
        for alarm in _of_type(cfn, "AWS::CloudWatch::Alarm").values()
        for node in _walk(alarm["Properties"])
        if node.get("MetricName") == "FailedInvocations"
        for dimension in node["Dimensions"]
        if dimension["Name"] == "RuleName"
    }
    for name, rule in _of_type(sam, "AWS::Events::Rule").items():
        assert "Name" in rule["Properties"], f"{name}: unnamed, so no alarm can name it"
        assert json.dumps(rule["Properties"]["Name"]) in failed_invocations_of, name
    latency = _of_type(cfn, "AWS::CloudWatch::Alarm")["HttpApiLatencyP99Alarm"]["Properties"]
    assert latency["ExtendedStatistic"] == "p99"


# ------------------------------------------------------------------------------ dashboard


def _dashboard(sam: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The dashboard's body as JSON (placeholders for its ${...}) and its raw text."""
    (dashboard,) = _of_type(sam, "AWS::CloudWatch::Dashboard").values()
    text = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    return json.loads(re.sub(r"\$\{[^}]+\}", "x", text)), text


def _metric_names_the_code_emits() -> set[str]:
    from domain import auth_service
    from handlers.handle_user_stream import METRIC_NAMES

    literal = set()
    for path in (sam_template.ROOT / "handlers").glob("*.py"):
        literal |= set(re.findall(r'add_metric\(name="(\w+)"', path.read_text()))
    constants = {
        value
        for name, value in vars(auth_service).items()
        if name.startswith(("LOGIN_", "REFRESH_")) and isinstance(value, str)
    }
    return literal | constants | set(METRIC_NAMES.values()) | {"ColdStart"}


def test_given_the_dashboard_when_rendered_then_it_shows_every_signal_an_operator_needs(
    sam: dict[str, Any], cfn: dict[str, Any]
) -> None:
    body, text = _dashboard(sam)
    assert body["widgets"]
    alarms_widget = next(w for w in body["widgets"] if w["type"] == "alarm")
    assert len(alarms_widget["properties"]["alarms"]) == len(
        _of_type(cfn, "AWS::CloudWatch::Alarm")
    )
    assert set(_of_type(cfn, "AWS::CloudWatch::Alarm")) <= _refs({"Fn::Sub": text})
    dead_letters = {
        name
        for name, queue in _of_type(sam, "AWS::SQS::Queue").items()
        if _is_dead_letter_queue(queue)
    }
    assert {f"${{{queue}.QueueName}}" for queue in dead_letters} <= set(
        re.findall(r"\$\{\w+\.QueueName\}", text)
    )
    for metric in ("Count", "4xx", "5xx", "Latency"):  # per route (SEARCH over route metrics)
        route_metrics = "{AWS/ApiGateway,ApiId,Method,Resource,Stage}"
        assert f'{route_metrics} ApiId=\\"${{HttpApi}}\\" MetricName=\\"{metric}\\"' in text
    assert '"IteratorAge", "FunctionName", "${UserStreamProcessorFunction}"' in text
    missing = {
        name
        for name in _metric_names_the_code_emits()
        if f'"{name}"' not in text and f'MetricName=\\"{name}\\"' not in text
    }
    assert missing == set()
    detailed = sam["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"]
    assert detailed["DetailedMetricsEnabled"] is True


# ------------------------------------------------------------------------------ runbook


def test_given_every_alarm_when_the_runbook_is_read_then_it_says_what_to_do(
    cfn: dict[str, Any],
) -> None:
    runbook = _section(RUNBOOK, "Operator runbook")
    missing = {
        name for name in _of_type(cfn, "AWS::CloudWatch::Alarm") if f"`{name}`" not in runbook
    }

    assert missing == set()


def test_given_synthetic_smoke_users_when_the_example_subscriber_listens_then_it_skips_them(
    sam: dict[str, Any],
) -> None:
    from domain.mail import SYNTHETIC_EMAIL_DOMAIN

    pattern = sam["Resources"]["ExampleSubscriberRule"]["Properties"]["EventPattern"]

    assert pattern["detail"]["email_domain"] == [{"anything-but": [SYNTHETIC_EMAIL_DOMAIN]}]
    assert f'[{{"anything-but": ["{SYNTHETIC_EMAIL_DOMAIN}"]}}]' in EVENTS_DOC.read_text()


# ------------------------------------------------------------------------------ generated blocks


def test_given_the_template_when_its_log_groups_are_regenerated_then_nothing_changes() -> None:
    from scripts.generate_log_groups import render

    text = sam_template.TEMPLATE.read_text()

    assert render(text) == text, "run `python -m scripts.generate_log_groups`"


def test_given_a_new_function_when_log_groups_are_generated_then_it_gets_one() -> None:
    from scripts.generate_log_groups import render

    text = sam_template.TEMPLATE.read_text().replace(
        "  JwksFunction:\n",
        "  MailerFunction:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      Handler: handlers.mail.handler\n\n  JwksFunction:\n",
        1,
    )

    rendered = render(text)

    groups = sam_template.resources_of_type(sam_template.parse(rendered), "AWS::Logs::LogGroup")
    assert groups["MailerFunctionLogGroup"]["Properties"]["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/${AWS::StackName}/MailerFunction"
    }


def test_given_an_alarm_email_when_deployed_then_it_alone_is_subscribed_to_the_alarm_topic(
    sam: dict[str, Any],
) -> None:
    parameter = sam["Parameters"]["AlarmEmail"]
    [subscription] = _of_type(sam, "AWS::SNS::Subscription").values()

    assert parameter["Default"] == ""  # optional: chat and pagers subscribe some other way
    assert re.fullmatch(parameter["AllowedPattern"], "oncall@example.com")
    assert not re.fullmatch(parameter["AllowedPattern"], "not an address")
    assert subscription["Condition"] == "HasAlarmEmail"
    assert sam["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
