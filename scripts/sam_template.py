"""The SAM template as tools see it: parsed as written, and translated to plain CloudFormation.

Parsing is the emulator's (``samlocal.template``, through ``userflow.template``): one reader of the
template for the local stack, the CLI and these scripts.

cfn-lint validates the SAM template against SAM's own schema but does not run the transform, so
the policies, permissions and event wiring that SAM generates are only visible after translation.
Translation here runs offline: local code paths become placeholder S3 URIs (as `sam package` would
make them) and managed-policy names resolve to nothing, so no AWS call is ever made.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from samlocal.template import Template, parse_template_text
from userflow import template as repository

ROOT = repository.REPOSITORY
TEMPLATE = repository.TEMPLATE
FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"
_PLACEHOLDER_URI = "s3://placeholder-bucket/{}.zip"


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as written (short tags such as !Ref become their long dict form); a copy the
    caller may change."""
    return copy.deepcopy(repository.userflow_template(path).body)


def parse(text: str) -> dict[str, Any]:
    """Template text as data, as `load` reads it."""
    return parse_template_text(text)


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return Template(TEMPLATE, template).of_type(resource_type)


def function_property(template: dict[str, Any], logical_id: str, key: str) -> Any:
    """A function's property, falling back to `Globals.Function` as SAM does."""
    return Template(TEMPLATE, template).function_properties(logical_id).get(key)


def translate(template: dict[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    """The CloudFormation that the `AWS::Serverless-2016-10-31` transform would produce for a
    stack in ``region``."""
    sam = copy.deepcopy(template)
    globals_function = sam.get("Globals", {}).get("Function", {})
    if isinstance(globals_function.get("CodeUri"), str):
        globals_function["CodeUri"] = _PLACEHOLDER_URI.format("code")
    for name, resource in sam.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = _PLACEHOLDER_URI.format(name)
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name=region))
    translated: dict[str, Any] = translator.translate(
        sam, parameter_values={}, get_managed_policy_map=dict
    )
    # Round-trip through JSON so that what tools see is plain data, as CloudFormation receives it.
    plain: dict[str, Any] = json.loads(json.dumps(translated))
    return plain
