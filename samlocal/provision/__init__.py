"""CloudFormation's part: the template's resources created in moto, with the physical ids
CloudFormation would give them (``stacks`` is the entry point, ``engine`` the dependency order,
``data``/``messaging``/``ses`` the creators by resource type), from parameter values checked
as CloudFormation checks them (``parameters``)."""

from samlocal.provision.parameters import ParameterError, checked_overrides, parse_overrides
from samlocal.provision.stack import ProvisionedStack
from samlocal.provision.stacks import (
    DEFAULT_REGION,
    function_environment,
    provision_stack,
    stack_resolver,
)

__all__ = [
    "DEFAULT_REGION",
    "ParameterError",
    "ProvisionedStack",
    "checked_overrides",
    "function_environment",
    "parse_overrides",
    "provision_stack",
    "stack_resolver",
]
