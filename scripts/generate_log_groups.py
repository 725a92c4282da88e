"""Writes the functions' log groups into template.yaml, one per `AWS::Serverless::Function`.

SAM and CloudFormation have no loops, and each function needs the same block (a log group
CloudFormation owns, so that retention and encryption apply from the first invocation). Each
function names its group in `LoggingConfig.LogGroup` (a test checks): the group's name is the
stack's, not derived from the function's generated name, and the function cannot run before its
group exists. The
`AWS::LanguageExtensions` transform's `Fn::ForEach` would loop, but the local runtime's template
reader and the offline SAM translation that the template tests use do not expand it; so the
blocks are generated between two marker lines, and a test fails when they drift
(`python -m scripts.generate_log_groups` rewrites them).
"""

from __future__ import annotations

import sys

from scripts import sam_template
from scripts.generated_sections import replace_section, rewrite_template

BEGIN = "  # ---- BEGIN generated: function log groups (python -m scripts.generate_log_groups)\n"
END = "  # ---- END generated: function log groups\n"
BLOCK = """  {function}LogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /aws/lambda/${{AWS::StackName}}/{function}
      RetentionInDays: !If [IsProd, 365, 30]
      KmsKeyId: !GetAtt OperationsKey.Arn
"""


def render(text: str) -> str:
    """The template text with its generated section made from its functions."""
    functions = sam_template.resources_of_type(sam_template.parse(text), sam_template.FUNCTION)
    body = "\n".join(BLOCK.format(function=name) for name in functions)
    return replace_section(text, BEGIN, END, body, "log-group")


def main() -> int:
    return rewrite_template(render, "log groups")


if __name__ == "__main__":
    sys.exit(main())
