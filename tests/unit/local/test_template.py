"""Intrinsic functions resolve as CloudFormation resolves them, in short and long forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from samlocal.intrinsics import Resolver, references
from samlocal.template import TemplateError, load_template

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: staging}
Mappings:
  Sizes:
    staging: {Memory: 256}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition NotProd, {"Fn::Equals": ["a", "a"]}]
  Either: {"Fn::Or": [!Condition IsProd, !Condition Both]}
Globals:
  Function:
    MemorySize: 512
    Environment:
      Variables: {TABLE: !Ref Table, LEVEL: INFO}
Resources:
  Table: {Type: AWS::DynamoDB::Table}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: 1024
      Environment:
        Variables: {LEVEL: DEBUG, OWN: x}
"""


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    resolver = Resolver(load_template(path), stack_name="userflow-local", region="eu-west-1")
    resolver.refs["Table"] = "userflow-local-Table"
    resolver.attributes["Table"] = {
        "Arn": "arn:aws:dynamodb:eu-west-1:123456789012:table/userflow-local-Table",
        "StreamArn": "arn:stream",
    }
    return resolver


def test_given_parameter_default_and_pseudo_parameters_when_substituting_then_values_filled(
    resolver: Resolver,
) -> None:
    value = {
        "Fn::Sub": "${AWS::StackName}-${Stage}-${AWS::Region}-${AWS::AccountId}.${AWS::URLSuffix}"
    }

    assert resolver.resolve(value) == "userflow-local-staging-eu-west-1-123456789012.amazonaws.com"


def test_given_sub_with_attribute_variables_and_literals_when_resolving_then_each_kind_filled(
    resolver: Resolver,
) -> None:
    value = {"Fn::Sub": ["${Table.Arn}/index/${Name} ${!Literal}", {"Name": {"Ref": "Table"}}]}

    assert resolver.resolve(value) == (
        "arn:aws:dynamodb:eu-west-1:123456789012:table/userflow-local-Table"
        "/index/userflow-local-Table ${Literal}"
    )


def test_given_conditions_when_resolving_if_then_the_branch_follows_the_condition(
    resolver: Resolver,
) -> None:
    assert resolver.resolve({"Fn::If": ["IsProd", 365, 30]}) == 30
    assert resolver.condition("NotProd") is True
    assert resolver.condition("Either") is True


def test_given_prod_parameter_when_resolving_if_then_the_prod_branch(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    prod = Resolver(load_template(path), stack_name="s", region="r", parameters={"Stage": "prod"})

    assert prod.resolve({"Fn::If": ["IsProd", 365, 30]}) == 365


def test_given_list_intrinsics_when_resolving_then_join_select_split_findinmap_work(
    resolver: Resolver,
) -> None:
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-staging"
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}) == "y"
    assert resolver.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}) == 256
    assert resolver.resolve({"Fn::GetAtt": ["Table", "StreamArn"]}) == "arn:stream"


def test_given_novalue_when_resolving_then_the_key_and_list_item_disappear(
    resolver: Resolver,
) -> None:
    value = {"Keep": 1, "Drop": {"Ref": "AWS::NoValue"}, "List": [1, {"Ref": "AWS::NoValue"}]}

    assert resolver.resolve(value) == {"Keep": 1, "List": [1]}


def test_given_short_tags_when_loading_then_they_become_long_forms(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("A: !GetAtt Table.Arn\nB: !Sub x\nC: !If [C, !Ref D, !Ref E]\n")

    body = load_template(path).body

    assert body == {
        "A": {"Fn::GetAtt": ["Table", "Arn"]},
        "B": {"Fn::Sub": "x"},
        "C": {"Fn::If": ["C", {"Ref": "D"}, {"Ref": "E"}]},
    }


def test_given_an_unknown_ref_when_resolving_then_template_error(resolver: Resolver) -> None:
    with pytest.raises(TemplateError, match="Missing"):
        resolver.resolve({"Ref": "Missing"})


def test_given_globals_when_reading_function_properties_then_merged_and_function_wins(
    resolver: Resolver,
) -> None:
    properties = resolver.template.function_properties("Fn")

    assert properties["MemorySize"] == 1024
    assert resolver.resolve(properties["Environment"]["Variables"]) == {
        "TABLE": "userflow-local-Table",
        "LEVEL": "DEBUG",
        "OWN": "x",
    }


def test_given_refs_getatts_and_subs_when_collecting_references_then_logical_ids_found() -> None:
    value = {"A": {"Ref": "X"}, "B": {"Fn::GetAtt": "Y.Arn"}, "C": {"Fn::Sub": "${Z.Arn}/${!No}"}}

    assert references(value) == {"X", "Y", "Z"}


EVENTS = """
Conditions:
  Off: !Equals [a, b]
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get: {Type: HttpApi, Properties: {Method: GET, Path: /a}}
        Changes: {Type: DynamoDB, Properties: {Stream: !GetAtt Table.StreamArn}}
        Post: {Type: HttpApi, Properties: {Method: POST, Path: /a}}
  Quiet:
    Type: AWS::Serverless::Function
    Properties: {}
  Disabled:
    Type: AWS::Serverless::Function
    Condition: Off
    Properties:
      Events:
        Get: {Type: HttpApi, Properties: {Method: GET, Path: /b}}
  Table: {Type: AWS::DynamoDB::Table}
"""


def test_given_functions_with_events_when_reading_one_type_then_those_of_enabled_functions(
    tmp_path: Path,
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(EVENTS)
    template = load_template(path)
    resolver = Resolver(template, stack_name="s", region="us-east-1")

    routes = [(e.function, e.name) for e in template.function_events("HttpApi")]
    enabled = [
        (e.function, e.name) for e in template.function_events("HttpApi", resolver.resource_enabled)
    ]
    streams = list(template.function_events("DynamoDB"))

    assert routes == [("Api", "Get"), ("Api", "Post"), ("Disabled", "Get")]
    assert enabled == [("Api", "Get"), ("Api", "Post")]
    assert [(e.function, e.name) for e in streams] == [("Api", "Changes")]
    assert streams[0].properties == {"Stream": {"Fn::GetAtt": ["Table", "StreamArn"]}}
    assert sorted(template.functions()) == ["Api", "Disabled", "Quiet"]


def test_given_the_repository_template_when_read_by_libyaml_then_it_is_what_pure_python_reads() -> (
    None
):
    """The template is read with libyaml's loader where PyYAML has it: the same data."""
    import yaml

    from samlocal import template

    text = (Path(__file__).resolve().parents[3] / "template.yaml").read_text()

    class PurePython(yaml.SafeLoader):
        pass

    PurePython.add_multi_constructor("!", template._construct_tag)
    assert issubclass(template._TemplateLoader, yaml.CSafeLoader)
    assert template.parse_template_text(text) == yaml.load(text, Loader=PurePython)  # noqa: S506
