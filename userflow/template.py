"""Userflow's `template.yaml`: where it is, read by the emulator's reader (``samlocal.template``).

One reader of the template for the local stack, the CLI, the scripts and the tests, so that
they all see the template as CloudFormation and the emulator do.
"""

from __future__ import annotations

from pathlib import Path

from samlocal.template import Template, load_template

REPOSITORY = Path(__file__).resolve().parents[1]
TEMPLATE = REPOSITORY / "template.yaml"


def default_template() -> Path:
    """The repository's template (beside the package), else ./template.yaml."""
    return TEMPLATE if TEMPLATE.exists() else Path.cwd() / "template.yaml"


def userflow_template(path: Path | None = None) -> Template:
    """The stack's template (default: :func:`default_template`), parsed once per version."""
    return load_template(path or default_template())
