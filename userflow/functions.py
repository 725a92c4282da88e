"""A stack function's environment as it runs: its Lambda configuration on AWS, the template's on
the local stack (the one it was started with). For commands that act as a function would (mail
replay sends as the mailer) or must know a function's settings (key rotation, its JWKS cache)."""

from __future__ import annotations

from pathlib import Path

from botocore.exceptions import ClientError

from userflow.stack import Stack


def function_environment_of(stack: Stack, logical_id: str) -> dict[str, str]:
    """The function's environment variables; the template's where it is not deployed as a
    Lambda function (the local stack, or a stack without it)."""
    if not stack.local:
        try:
            configuration = stack.client("lambda").get_function_configuration(
                FunctionName=stack.physical_id(logical_id)
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        else:
            variables: dict[str, str] = configuration.get("Environment", {}).get("Variables", {})
            return variables
    from samlocal.provision import function_environment
    from userflow.template import userflow_template

    template = userflow_template(Path(stack.template) if stack.template else None)
    return function_environment(template, logical_id, stack)
