"""serverless.yml's provider defaults: template.yaml's ``Globals.Function`` as osls provider
settings, so that each function lists only what differs."""

from __future__ import annotations

from typing import Any

from scripts.serverless_stack import SortedStack


def provider_defaults(stack: SortedStack) -> dict[str, Any]:
    """Globals.Function, as osls provider settings (functions list only what differs)."""
    written = stack.sam.get("Globals", {}).get("Function", {})
    used = ("Runtime", "MemorySize", "Timeout", "Architectures", "Tracing", "Environment")
    globals_ = stack.renames.apply({k: v for k, v in written.items() if k in used}, "Globals")
    defaults: dict[str, Any] = {}
    for key, setting in (
        ("Runtime", "runtime"),
        ("MemorySize", "memorySize"),
        ("Timeout", "timeout"),
    ):
        if key in globals_:
            defaults[setting] = globals_[key]
    if "Architectures" in globals_:
        (defaults["architecture"],) = globals_["Architectures"]
    if "Tracing" in globals_:
        defaults["tracing"] = globals_["Tracing"]
    defaults["environment"] = globals_.get("Environment", {}).get("Variables", {})
    return defaults
