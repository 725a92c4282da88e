"""A template of small functions that echo, sleep, fail and crash, to watch the local runtime
itself rather than Userflow's functions.
"""

from __future__ import annotations

from pathlib import Path

PROBE_HANDLERS = """
import os
import time

COUNT = 0


def echo(event, context):
    global COUNT
    COUNT += 1
    return {
        "pid": os.getpid(),
        "count": COUNT,
        "env": {name: os.environ.get(name) for name in ("ONLY_ECHO", "ONLY_OTHER")},
        "body_length": len(event.get("body") or ""),
    }


def slow(event, context):
    time.sleep(float((event.get("queryStringParameters") or {}).get("s", "1")))
    return {"pid": os.getpid()}


def fail(event, context):
    print("about to fail")
    raise ValueError("probe failure")


def crash(event, context):
    os._exit(3)
"""


PROBE_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 5
Resources:
  HttpApi:
    Type: AWS::Serverless::HttpApi
  SigningKeySecret:
    Type: AWS::SecretsManager::Secret
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: probe_handlers.echo
      Environment: {Variables: {ONLY_ECHO: echo}}
      Events: {Echo: {Type: HttpApi, Properties: {Path: /echo, Method: ANY}}}
  OtherFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: probe_handlers.echo
      Environment: {Variables: {ONLY_OTHER: other}}
      Events: {Other: {Type: HttpApi, Properties: {Path: /other, Method: GET}}}
  SlowFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: probe_handlers.slow
      Timeout: 2
      Events: {Slow: {Type: HttpApi, Properties: {Path: /slow, Method: GET}}}
  FailFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: probe_handlers.fail
      Events: {Fail: {Type: HttpApi, Properties: {Path: /fail, Method: GET}}}
  CrashFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: probe_handlers.crash
      Events: {Crash: {Type: HttpApi, Properties: {Path: /crash, Method: GET}}}
  VictimFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: probe_handlers.echo
      Events: {Victim: {Type: HttpApi, Properties: {Path: /victim, Method: GET}}}
  BrokenFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: probe_missing_module.handler
      Events: {Broken: {Type: HttpApi, Properties: {Path: /broken, Method: GET}}}
"""


def write_probe_template(directory: Path) -> Path:
    """A template of small functions that echo, sleep and fail, to watch the runtime itself."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "probe_handlers.py").write_text(PROBE_HANDLERS)
    template = directory / "template.yaml"
    template.write_text(PROBE_TEMPLATE)
    return template
