"""The HTTP API's settings in serverless.yml: authorizers, and what osls cannot set itself.

osls builds the API (`HttpApi`), its `$default` stage (`HttpApiStage`), routes, integrations and
authorizers. Authorizers come from the translated OpenAPI body, where SAM resolved them; CORS
(conditional on a parameter here), the access log into the template's own encrypted log group,
route metrics and throttling are CloudFormation properties that osls either lacks or would set
differently, so they extend osls' resources (`resources.extensions`) with the template's values.
"""

from __future__ import annotations

from typing import Any

from scripts.serverless_naming import HTTP_API, HTTP_API_STAGE, GeneratorError
from scripts.serverless_stack import SortedStack

# SAM HttpApi properties this generator carries; anything else fails generation.
_CARRIED = {
    "Auth",
    "CorsConfiguration",
    "AccessLogSettings",
    "DefaultRouteSettings",
    "RouteSettings",
    "StageVariables",
    "StageName",
    "DisableExecuteApiEndpoint",
}
_API_PROPERTIES = ("CorsConfiguration", "DisableExecuteApiEndpoint")
# Stage properties osls sets itself.
_OSLS_STAGE_PROPERTIES = {"ApiId", "StageName", "AutoDeploy", "Tags"}
_REQUEST_AUTHORIZER = {
    "type",
    "authorizerUri",
    "identitySource",
    "authorizerResultTtlInSeconds",
    "authorizerPayloadFormatVersion",
    "enableSimpleResponses",
}


def http_api_settings(stack: SortedStack) -> tuple[dict[str, Any], dict[str, Any]]:
    """(`provider.httpApi`, extensions of osls' HttpApi and HttpApiStage resources)."""
    if stack.http_api is None:
        return {}, {}
    source = stack.sam["Resources"][stack.http_api].get("Properties", {})
    unknown = set(source) - _CARRIED
    if unknown:
        raise GeneratorError(f"{stack.http_api}: {sorted(unknown)} are not generated yet")
    if source.get("StageName", "$default") != "$default":
        raise GeneratorError(f"{stack.http_api}: osls serves the $default stage only")
    body = stack.resource(stack.http_api)["Properties"]["Body"]
    schemes = body.get("components", {}).get("securitySchemes", {})
    authorizers = {name: _authorizer(name, scheme, stack) for name, scheme in schemes.items()}
    extensions: dict[str, Any] = {}
    api = {key: source[key] for key in _API_PROPERTIES if key in source}
    if api:
        extensions[HTTP_API] = {"Properties": stack.renames.apply(api, stack.http_api)}
    if stack.http_api_stage is not None:
        stage = stack.resource(stack.http_api_stage)["Properties"]
        settings = {k: v for k, v in stage.items() if k not in _OSLS_STAGE_PROPERTIES}
        if settings:
            extensions[HTTP_API_STAGE] = {
                "Properties": stack.renames.apply(settings, stack.http_api_stage)
            }
    return ({"authorizers": authorizers} if authorizers else {}), extensions


def _authorizer(name: str, scheme: dict[str, Any], stack: SortedStack) -> dict[str, Any]:
    settings = scheme["x-amazon-apigateway-authorizer"]
    kind = settings.get("type")
    if kind == "jwt":
        jwt = settings["jwtConfiguration"]
        return {
            "type": "jwt",
            "identitySource": settings["identitySource"],
            "issuerUrl": jwt["issuer"],
            "audience": jwt["audience"],
        }
    if kind != "request" or set(settings) - _REQUEST_AUTHORIZER:
        raise GeneratorError(f"authorizer {name}: {settings} is not generated yet")
    authorizer: dict[str, Any] = {"type": "request"}
    target = settings["authorizerUri"]["Fn::Sub"][1]["__FunctionArn__"]
    function = None
    if isinstance(target, dict):
        # The function, or SAM's alias of it (osls invokes its own alias when SnapStart is on).
        function = target.get("Fn::GetAtt", [None])[0] or stack.aliases.get(target.get("Ref", ""))
    if function in stack.functions:
        authorizer["functionName"] = function
    else:
        authorizer["functionArn"] = stack.renames.apply(target, f"authorizer {name}")
    authorizer["identitySource"] = settings.get("identitySource", [])
    for key, setting in (
        ("authorizerPayloadFormatVersion", "payloadVersion"),
        ("enableSimpleResponses", "enableSimpleResponses"),
        ("authorizerResultTtlInSeconds", "resultTtlInSeconds"),
    ):
        if key in settings:
            authorizer[setting] = settings[key]
    return authorizer
