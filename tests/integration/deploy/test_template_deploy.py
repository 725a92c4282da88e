"""template.yaml against what a real deploy meets: another region, a flood, a template update
over runtime-owned values, two stacks in one account, and the stacks that build on this one.

Every check iterates over the template's functions and routes, so ones added later are covered.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cfnlint.api import lint

from adapters.key_store import jwks_parameter_name
from samlocal.intrinsics import Resolver
from samlocal.template import Template, TemplateError
from scripts import sam_template
from scripts.change_set import deploy_settings
from tests.support.template_reading import openapi_body_fields

EXTENSION = re.compile(
    r"arn:aws:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):layer:"
    r"AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:\d+"
)


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return sam_template.load()


def _resolver(sam: dict[str, Any], region: str, stack: str = "userflow-prod") -> Resolver:
    return Resolver(Template(sam_template.TEMPLATE, sam), stack_name=stack, region=region)


def _functions(sam: dict[str, Any]) -> dict[str, dict[str, Any]]:
    template = Template(sam_template.TEMPLATE, sam)
    return {
        name: template.function_properties(name) for name in template.of_type(sam_template.FUNCTION)
    }


# ------------------------------------------------------------------------------ regions


def test_given_a_deploy_to_eu_west_1_then_functions_get_eu_west_1s_extension_layer(
    sam: dict[str, Any],
) -> None:
    cfn = sam_template.translate(sam, region="eu-west-1")
    resolver = _resolver(cfn, "eu-west-1")
    using = {}
    for name, function in sam_template.resources_of_type(cfn, "AWS::Lambda::Function").items():
        for layer in function["Properties"].get("Layers", []):
            if "ParametersSecretsExtension" in json.dumps(layer):
                using[name] = resolver.resolve(layer)

    assert {"AuthorizerFunction", "LoginFunction"} <= set(using)
    for arn in using.values():
        match = EXTENSION.fullmatch(arn)
        assert match, arn
        assert (match["region"], match["account"]) == ("eu-west-1", "015030872274")
    translated = json.dumps(cfn)
    assert [str(m) for m in lint(translated, regions=["eu-west-1"])] == []  # where it deploys


def test_given_the_extension_table_then_each_region_names_its_own_published_layer(
    sam: dict[str, Any],
) -> None:
    table = sam["Mappings"]["ParametersSecretsExtension"]
    assert {"us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"} <= set(table)
    accounts = {}
    for region, row in table.items():
        arn = _resolver(sam, region).resolve(
            {"Fn::Sub": [f"arn:aws:lambda:{region}:${{E}}", {"E": row["Arm64"]}]}
        )
        match = EXTENSION.fullmatch(arn)
        assert match, (region, arn)
        accounts[region] = match["account"]
    # AWS publishes the layer from a different account in every region.
    assert len(set(accounts.values())) == len(accounts)
    assert "ParametersExtensionLayerAccount" not in sam["Parameters"]


# ------------------------------------------------------------------------------ floods


def _password_routes(sam: dict[str, Any]) -> set[str]:
    """Unauthenticated routes whose body carries a password (docs/openapi.json), as the
    template writes them."""
    with_password = {
        (method, path) for method, path, fields in openapi_body_fields() if "password" in fields
    }
    return {
        route
        for route, event in _routes(sam).items()
        if event.get("Auth", {}).get("Authorizer") == "NONE"
        and (route.split()[0], re.sub(r"\{[^}]+\}", "{}", route.split()[1])) in with_password
    }


def _routes(sam: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """ "METHOD /path" -> the HttpApi event's properties."""
    return {
        f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}": event[
            "Properties"
        ]
        for function in _functions(sam).values()
        for event in function.get("Events", {}).values()
        if event["Type"] == "HttpApi"
    }


def test_given_the_http_api_then_every_route_is_throttled_and_password_routes_tighter(
    sam: dict[str, Any],
) -> None:
    api = sam["Resources"]["HttpApi"]["Properties"]
    parameters = sam["Parameters"]
    default = api["DefaultRouteSettings"]
    served = set(_routes(sam))
    password_routes = _password_routes(sam)
    assert {"POST /users", "POST /auth/login", "POST /auth/reset-password"} <= password_routes

    def limit(setting: dict[str, Any], key: str) -> int:
        return int(parameters[setting[key]["Ref"]]["Default"])

    assert limit(default, "ThrottlingRateLimit") > 0
    assert limit(default, "ThrottlingBurstLimit") > 0
    routes = api["RouteSettings"]
    assert set(routes) <= served  # a setting for a route that does not exist fails the deploy
    assert password_routes <= set(routes)
    for route in password_routes:
        for key in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
            assert limit(routes[route], key) < limit(default, key), (route, key)


def test_given_a_flood_then_the_authorizer_has_concurrency_of_its_own(sam: dict[str, Any]) -> None:
    """Reserved concurrency is a parameter (a new account's quota may not allow any: Lambda
    keeps 100 unreserved); prod sets it (samconfig.toml)."""
    authorizer = sam["Resources"]["AuthorizerFunction"]["Properties"]
    condition, reserved, unset = authorizer["ReservedConcurrentExecutions"]["Fn::If"]

    assert reserved == {"Ref": "AuthorizerReservedConcurrency"}
    assert unset == {"Ref": "AWS::NoValue"}
    assert sam["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AuthorizerReservedConcurrency"}, 0]}]
    }
    prod = deploy_settings("prod")["parameter_overrides"]
    assert re.search(r"\bAuthorizerReservedConcurrency=[1-9]\d*", prod)


def test_given_the_optional_waf_then_a_cloudfront_web_acl_with_a_rate_rule_fronts_the_api(
    sam: dict[str, Any],
) -> None:
    """HTTP APIs cannot be associated with AWS WAF: CloudFront carries the web ACL."""
    resources = sam["Resources"]
    acl, distribution = resources["ApiWebAcl"], resources["ApiDistribution"]

    assert acl["Condition"] == distribution["Condition"] == "HasWaf"
    assert acl["Properties"]["Scope"] == "CLOUDFRONT"
    [rule] = acl["Properties"]["Rules"]
    assert rule["Statement"]["RateBasedStatement"]["Limit"] == {"Ref": "WafRateLimit"}
    assert rule["Action"] == {"Block": {}}
    config = distribution["Properties"]["DistributionConfig"]
    assert config["WebACLId"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    assert "${HttpApi}.execute-api" in config["Origins"][0]["DomainName"]["Fn::Sub"]
    assert sam["Parameters"]["WafRateLimit"]["Default"] == 0


# --------------------------------------------------------------------- runtime-owned values


def test_given_any_template_update_then_cloudformation_cannot_touch_the_published_keys(
    sam: dict[str, Any],
) -> None:
    """The JWKS is written by the key rotation only: CloudFormation rewrites an SSM parameter's
    value on any update of its resource (a description, a tag), which would empty the key set
    and answer 401 on every protected route."""
    cfn = sam_template.translate(sam)
    resolver = _resolver(cfn, "us-east-1")
    names = {
        resolver.resolve(function["Properties"]["Environment"]["Variables"]["JWKS_PARAMETER_NAME"])
        for function in sam_template.resources_of_type(cfn, "AWS::Lambda::Function").values()
        if "JWKS_PARAMETER_NAME"
        in function["Properties"].get("Environment", {}).get("Variables", {})
    }
    parameters = sam_template.resources_of_type(cfn, "AWS::SSM::Parameter")

    assert names == {jwks_parameter_name("userflow-prod")}
    assert parameters == {}  # no parameter of the stack, so no update can rewrite one


# ------------------------------------------------------------------- two stacks, one account


def test_given_two_stacks_of_one_stage_in_one_account_then_no_name_collides(
    sam: dict[str, Any],
) -> None:
    names = {}
    for stack in ("userflow-staging", "userflow-alice"):
        resolver = _resolver(sam, "us-east-1", stack)
        resolver.parameters["Stage"] = "staging"
        named = {}
        for logical_id, resource in sam["Resources"].items():
            for key, value in resource.get("Properties", {}).items():
                if (
                    key.endswith("Name")
                    and key not in {"FunctionName", "MetricName"}
                    and ("Fn::Sub" in json.dumps(value) or "Fn::Join" in json.dumps(value))
                ):
                    try:
                        named[f"{logical_id}.{key}"] = resolver.resolve(value)
                    except TemplateError:  # refers to another resource: named by the stack too
                        continue
        names[stack] = named

    shared = {
        k
        for k in names["userflow-staging"]
        if names["userflow-staging"][k] == names["userflow-alice"].get(k)
    }
    assert shared == set()
    assert names["userflow-staging"]  # it did look at the names


def test_given_a_second_stack_with_the_same_sender_then_it_can_leave_the_identity_to_the_first(
    sam: dict[str, Any],
) -> None:
    identity = sam["Resources"]["MailSenderIdentity"]
    assert identity["Condition"] == "ManagesSenderIdentity"
    assert sam["Parameters"]["ManageSenderIdentity"]["AllowedValues"] == ["true", "false"]
    # Nothing else needs the identity resource: the mailer names the address.
    others = json.dumps({k: v for k, v in sam["Resources"].items() if k != "MailSenderIdentity"})
    assert "MailSenderIdentity" not in others


def test_given_the_ses_sandbox_then_the_mailer_may_send_to_the_verified_test_recipients(
    sam: dict[str, Any],
) -> None:
    """In the sandbox SES authorises SendEmail against the recipient's identity too."""
    statements = sam["Resources"]["MailerRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    sending = [s for s in statements if "ses:SendEmail" in json.dumps(s)]

    def ses_resources(recipient: str) -> set[str]:
        resolver = _resolver(sam, "us-east-1")
        resolver.parameters["SandboxRecipientIdentity"] = recipient
        resolver.refs["MailConfigurationSet"] = "userflow-prod-mail"
        found = set()
        for statement in resolver.resolve(sending):
            resources = statement["Resource"]
            found |= {resources} if isinstance(resources, str) else set(resources)
        return found

    sandbox, production = ses_resources("qa.example.com"), ses_resources("")

    assert sandbox - production == {"arn:aws:ses:us-east-1:123456789012:identity/qa.example.com"}
    assert production == {
        "arn:aws:ses:us-east-1:123456789012:identity/no-reply@example.com",
        "arn:aws:ses:us-east-1:123456789012:configuration-set/userflow-prod-mail",
    }


# ------------------------------------------------------------------ stacks built on this one


def test_given_a_subscriber_or_a_token_verifier_stack_then_it_imports_what_it_needs(
    sam: dict[str, Any],
) -> None:
    outputs = sam["Outputs"]
    needed = {
        "UserEventsBusName",
        "UserEventsBusArn",
        "ApiUrl",
        "JwksUrl",
        "TokenIssuer",
        "TokenAudience",
    }
    for name in needed:
        assert outputs[name]["Export"] == {"Name": {"Fn::Sub": f"${{AWS::StackName}}-{name}"}}
    functions = _functions(sam)
    issuer = functions["AuthorizerFunction"]["Environment"]["Variables"]
    assert outputs["TokenIssuer"]["Value"] == issuer["ISSUER"]
    assert outputs["TokenAudience"]["Value"] == issuer["AUDIENCE"]
    assert outputs["JwksUrl"]["Value"]["Fn::Sub"].endswith("/.well-known/jwks.json")
