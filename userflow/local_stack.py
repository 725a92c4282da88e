"""Userflow's local stack: the emulator (``samlocal``) run with Userflow's settings and start-up.

The stack is named ``userflow-local`` and its ``Stage`` parameter is ``local`` (bus, token
issuer), never a deployed stage, whatever the template's ``AllowedValues`` (this is not
CloudFormation). A deployment gets its first token signing key from ``userflow keys ensure``
(``make deploy`` runs it); the local stack gets it from :func:`bootstrap`, once provisioned, so
that ``userflow local`` stays one command. Tests lower the password-hash cost through variables
that reach the functions (:data:`PASSED_THROUGH`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from domain.passwords import COST_ENV, TEST_COST_ENV
from samlocal.provision import (
    ProvisionedStack,
    checked_overrides,
    parse_overrides,
    provision_stack,
)
from samlocal.runtime import RuntimeOptions
from userflow.local_state import fail_rate_file, mail_journal_file
from userflow.stack import Stack
from userflow.template import default_template, userflow_template

STACK_NAME = "userflow-local"
PARAMETERS = {
    "Stage": "local",
    "PasskeyRpId": "localhost",
    "PasskeyOrigins": "http://localhost:3000",
}
"""Parameter values of the local stack, whatever is asked for: it names itself ``local`` (bus,
token issuer), never a deployed stage, whatever the template's ``AllowedValues``; passkeys are
for a web app on http://localhost:3000 (docs/api/passkeys.md)."""
FIXED = {"Stage": "the local stack's stage is always `local`"}
"""Parameters ``--parameter-overrides`` may not set, and why."""
ONE_MACHINE_TRAFFIC = (
    "RegistrationsPerSource=100000",
    "LoginRequestsPerSource=100000",
    "RefreshRequestsPerSource=100000",
    "RecoveryRequestsPerSource=100000",
    "SourceFailureLimit=100000",
    "MailPerSourcePerHour=100000",
    "MailPerRecipientPerHour=1000",
)
"""Overrides for test suites, benchmarks and load runs, which send from one address far more
than one person would: the per-source and mail limits raised out of their way (docs/api/auth.md,
"Policies"). Tests of those limits run with the defaults."""
PASSED_THROUGH = (COST_ENV, TEST_COST_ENV)
"""Variables of the ``userflow local`` process that reach functions (tests lower hash cost)."""


def bootstrap(stack: ProvisionedStack) -> None:
    """Creates the signing key set (and publishes its JWKS) unless the stack already has one."""
    from userflow.signing_keys import ensure_keys

    ensure_keys(Stack.local_of(stack))


def local_parameters(template: Path, overrides: Iterable[str]) -> dict[str, str]:
    """``--parameter-overrides`` (``Key=Value`` items), checked against the template before
    anything starts; raises :class:`samlocal.provision.ParameterError`."""
    return checked_overrides(userflow_template(template), parse_overrides(overrides), FIXED)


def runtime_options(
    template: Path | None = None, parameters: Mapping[str, str] | None = None
) -> RuntimeOptions:
    """The emulator's options for Userflow's local stack (the others, such as the port, at
    their defaults: ``dataclasses.replace`` sets them)."""
    return RuntimeOptions(
        template=(template or default_template()).resolve(),
        stack_name=STACK_NAME,
        parameters={**(parameters or {}), **PARAMETERS},
        rates_file=fail_rate_file(),
        mail_journal=mail_journal_file(),
        passed_through=PASSED_THROUGH,
        on_provisioned=(bootstrap,),
    )


def provision_local_stack(
    template: Path | None = None,
    *,
    endpoint_url: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> Stack:
    """Userflow's stack provisioned as ``userflow local`` provisions it (no keys yet): in this
    process's moto under ``mock_aws`` by default (integration tests)."""
    provisioned = provision_stack(
        template or default_template(),
        stack_name=STACK_NAME,
        endpoint_url=endpoint_url,
        parameters={**(parameters or {}), **PARAMETERS},
    )
    return Stack.local_of(provisioned)
