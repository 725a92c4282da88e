"""Provisioning creates what the template declares, with CloudFormation's physical ids."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from samlocal.provision import ProvisionedStack, function_environment, provision_stack
from samlocal.template import load_template

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: staging}
Globals:
  Function:
    Environment:
      Variables: {TABLE_NAME: !Ref Table, STAGE: !Ref Stage}
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: PK, AttributeType: S}
        - {AttributeName: G, AttributeType: S}
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
      GlobalSecondaryIndexes:
        - IndexName: GSI1
          KeySchema: [{AttributeName: G, KeyType: HASH}]
          Projection: {ProjectionType: ALL}
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
      TimeToLiveSpecification: {AttributeName: expires_at, Enabled: true}
  DeadLetters:
    Type: AWS::SQS::Queue
    Properties: {MessageRetentionPeriod: 1209600}
  Work:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt DeadLetters.Arn, maxReceiveCount: 3}
  Bus:
    Type: AWS::Events::EventBus
    Properties: {Name: !Sub "bus-${Stage}"}
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern: {source: [app]}
      Targets:
        - {Id: work, Arn: !GetAtt Work.Arn, DeadLetterConfig: {Arn: !GetAtt DeadLetters.Arn}}
  WorkPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Work]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: events.amazonaws.com}
            Action: sqs:SendMessage
            Resource: !GetAtt Work.Arn
            Condition: {ArnEquals: {"aws:SourceArn": !GetAtt Rule.Arn}}
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties:
      GenerateSecretString: {PasswordLength: 40, ExcludePunctuation: true}
  Parameter:
    Type: AWS::SSM::Parameter
    Properties: {Name: !Sub "/${AWS::StackName}/p", Type: String, Value: v}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Environment:
        Variables: {QUEUE_URL: !Ref Work, SECRET: !Ref Secret, BUS_ARN: !GetAtt Bus.Arn}
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties: {Dimensions: [{Name: F, Value: !Ref Fn}]}
"""


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Path, ProvisionedStack]]:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    with mock_aws():
        yield (
            path,
            provision_stack(
                path, stack_name="app-local", region="us-east-1", parameters={"Stage": "local"}
            ),
        )


def test_given_a_template_when_provisioning_then_physical_ids_follow_cloudformation(
    stack: tuple[Path, ProvisionedStack],
) -> None:
    _, provisioned = stack

    assert provisioned.physical_id("Table") == "app-local-Table"
    assert provisioned.physical_id("Work").endswith("/123456789012/app-local-Work")
    assert provisioned.physical_id("Bus") == "bus-local"
    assert provisioned.physical_id("Rule") == "bus-local|app-local-Rule"
    assert provisioned.physical_id("Secret").startswith("arn:aws:secretsmanager:")
    assert provisioned.physical_id("Parameter") == "/app-local/p"
    assert provisioned.resources["Fn"]["arn"].endswith(":function:app-local-Fn")
    assert provisioned.resources["Alarm"]["type"] == "AWS::CloudWatch::Alarm"


def test_given_a_template_when_provisioning_then_resources_have_their_properties(
    stack: tuple[Path, ProvisionedStack],
) -> None:
    _, provisioned = stack
    dynamodb = provisioned.client("dynamodb")

    table = dynamodb.describe_table(TableName="app-local-Table")["Table"]
    ttl = dynamodb.describe_time_to_live(TableName="app-local-Table")
    work = provisioned.client("sqs").get_queue_attributes(
        QueueUrl=provisioned.physical_id("Work"), AttributeNames=["RedrivePolicy", "Policy"]
    )
    targets = provisioned.client("events").list_targets_by_rule(
        Rule="app-local-Rule", EventBusName="bus-local"
    )["Targets"]
    secret = provisioned.client("secretsmanager").get_secret_value(
        SecretId=provisioned.physical_id("Secret")
    )["SecretString"]

    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "GSI1"
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    assert '"maxReceiveCount": 3' in work["Attributes"]["RedrivePolicy"]
    (statement,) = json.loads(work["Attributes"]["Policy"])["Statement"]
    assert (
        statement["Condition"]["ArnEquals"]["aws:SourceArn"] == provisioned.resources["Rule"]["arn"]
    )
    assert targets[0]["DeadLetterConfig"]["Arn"].endswith(":app-local-DeadLetters")
    assert len(secret) == 40
    assert secret.isalnum()


def test_given_a_provisioned_stack_when_reading_function_environment_then_globals_merged(
    stack: tuple[Path, ProvisionedStack],
) -> None:
    path, provisioned = stack

    environment = function_environment(load_template(path), "Fn", provisioned)

    assert environment == {
        "TABLE_NAME": "app-local-Table",
        "STAGE": "local",
        "QUEUE_URL": provisioned.physical_id("Work"),
        "SECRET": provisioned.physical_id("Secret"),
        "BUS_ARN": "arn:aws:events:us-east-1:123456789012:event-bus/bus-local",
    }
