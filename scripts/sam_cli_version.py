"""The SAM CLI version a template's runtime needs, checked before `make deploy` builds anything.

An older CLI fails late and confusingly on a newer runtime: `sam build` refuses it, or
`sam validate --lint` (samconfig.toml turns lint on) rejects it with its bundled cfn-lint.
python3.13 arrived in SAM CLI 1.128.0, whose cfn-lint still rejected it; 1.129.0 fixed that
(aws/aws-sam-cli#7673, #7677).

    python -m scripts.sam_cli_version [sam]   # exit 1 with the reason when too old
"""

from __future__ import annotations

import re
import subprocess
import sys

from scripts import sam_template

# Add a runtime here (from SAM CLI's release notes) before the template uses it.
MINIMUM_FOR_RUNTIME = {"python3.13": (1, 129, 0)}


def required_sam_cli(runtime: str) -> tuple[int, int, int]:
    return MINIMUM_FOR_RUNTIME[runtime]


def installed_version(sam: str) -> tuple[int, ...]:
    output = subprocess.run(  # noqa: S603 - the operator's own `sam`
        [sam, "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", output)
    if not match:
        raise ValueError(f"cannot read a version from {output!r}")
    return tuple(int(part) for part in match.groups())


def main(argv: list[str] | None = None) -> int:
    sam = (argv if argv is not None else sys.argv[1:] or ["sam"])[0]
    runtime = sam_template.load()["Globals"]["Function"]["Runtime"]
    needed = required_sam_cli(runtime)
    have = installed_version(sam)
    if have < needed:
        print(
            f"SAM CLI {'.'.join(map(str, have))} is too old for {runtime}: "
            f"install ≥ {'.'.join(map(str, needed))}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
