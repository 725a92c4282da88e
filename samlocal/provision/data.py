"""Creates the template's data resources in moto: tables (with stream and TTL), secrets (with
GenerateSecretString as Secrets Manager does it) and SSM parameters."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from samlocal.provision.engine import Creator, Provisioner


def _table(p: Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    name = p.name(logical_id, properties.get("TableName"), limit=255)
    dynamodb = p.client("dynamodb")
    arguments: dict[str, Any] = {
        "TableName": name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    for key in ("ProvisionedThroughput", "LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        if key in properties:
            arguments[key] = properties[key]
    if "StreamSpecification" in properties:
        arguments["StreamSpecification"] = {
            "StreamEnabled": True,
            **properties["StreamSpecification"],
        }
    if arguments["BillingMode"] == "PROVISIONED" and "ProvisionedThroughput" not in arguments:
        arguments["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    description = dynamodb.create_table(**arguments)["TableDescription"]
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    stream_arn = description.get("LatestStreamArn", "")
    p.record(logical_id, name, description["TableArn"], StreamArn=stream_arn)
    p.records[logical_id]["stream_arn"] = stream_arn


def generate_secret_string(spec: dict[str, Any]) -> str:
    """A random secret as Secrets Manager's GenerateSecretString would make it."""
    alphabet = ""
    if not spec.get("ExcludeLowercase"):
        alphabet += string.ascii_lowercase
    if not spec.get("ExcludeUppercase"):
        alphabet += string.ascii_uppercase
    if not spec.get("ExcludeNumbers"):
        alphabet += string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    if spec.get("IncludeSpace"):
        alphabet += " "
    excluded = set(spec.get("ExcludeCharacters", ""))
    alphabet = "".join(c for c in alphabet if c not in excluded)
    value = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    if "SecretStringTemplate" in spec:
        document = json.loads(spec["SecretStringTemplate"])
        document[spec["GenerateStringKey"]] = value
        return json.dumps(document)
    return value


def _secret(p: Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    name = p.name(logical_id, properties.get("Name"), limit=512)
    arguments: dict[str, Any] = {"Name": name}
    # Neither value given: CloudFormation creates the secret empty (a later step writes it).
    if "SecretString" in properties:
        arguments["SecretString"] = str(properties["SecretString"])
    elif "GenerateSecretString" in properties:
        arguments["SecretString"] = generate_secret_string(properties["GenerateSecretString"])
    if "Description" in properties:
        arguments["Description"] = properties["Description"]
    arn = p.client("secretsmanager").create_secret(**arguments)["ARN"]
    p.record(logical_id, arn, arn, Id=arn)


def _parameter(p: Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    name = p.name(logical_id, properties.get("Name"), limit=1011)
    kind = properties.get("Type", "String")
    value = str(properties["Value"])
    p.client("ssm").put_parameter(Name=name, Type=kind, Value=value, Overwrite=True)
    p.record(
        logical_id, name, p.arn("ssm", f"parameter/{name.lstrip('/')}"), Type=kind, Value=value
    )


CREATORS: dict[str, Creator] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SSM::Parameter": _parameter,
}
