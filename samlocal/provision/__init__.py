"""CloudFormation's part: the template's resources created in moto, with the physical ids
CloudFormation would give them (``stacks`` is the entry point, ``engine`` the dependency order,
``data``/``messaging``/``ses`` the creators by resource type)."""

from samlocal.provision.stack import ProvisionedStack
from samlocal.provision.stacks import (
    DEFAULT_REGION,
    function_environment,
    provision_stack,
    stack_resolver,
)

__all__ = [
    "DEFAULT_REGION",
    "ProvisionedStack",
    "function_environment",
    "provision_stack",
    "stack_resolver",
]
