"""SES resources of the template, created in moto: configuration sets and sender identities.

On AWS the owner of the sender address confirms the identity; locally it is verified at once
(moto accepts mail from an identity once it exists), so the local stack sends mail with no step
of yours. Hooked into provisioning through :data:`CREATORS`.
"""

from __future__ import annotations

from typing import Any

from samlocal.provision.engine import Creator, Provisioner


def _configuration_set(p: Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    name = p.name(logical_id, properties.get("Name"), limit=64)
    p.client("sesv2").create_configuration_set(ConfigurationSetName=name)
    p.record(logical_id, name, p.arn("ses", f"configuration-set/{name}"))


def _email_identity(p: Provisioner, logical_id: str, properties: dict[str, Any]) -> None:
    identity = str(properties["EmailIdentity"])
    arguments: dict[str, Any] = {"EmailIdentity": identity}
    configuration_set = properties.get("ConfigurationSetAttributes", {}).get("ConfigurationSetName")
    if configuration_set:
        arguments["ConfigurationSetName"] = configuration_set
    p.client("sesv2").create_email_identity(**arguments)
    p.record(logical_id, identity, p.arn("ses", f"identity/{identity}"))


CREATORS: dict[str, Creator] = {
    "AWS::SES::ConfigurationSet": _configuration_set,
    "AWS::SES::EmailIdentity": _email_identity,
}
