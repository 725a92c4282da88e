"""What osls zips: the functions' code and the layers, the same files SAM deploys.

scripts/build_artifacts.py stages the functions' code in build/function (Globals.Function.CodeUri)
and the layers in build/layer and build/blocklist-layer. osls packages from the repository root,
so the service-wide patterns select exactly the runtime packages that build/function receives;
each layer is its staged directory, zipped whole. A layer that `sam build` builds through the
Makefile (`Metadata.BuildMethod: makefile`, whose `build-<LogicalId>` target copies what
build_artifacts stages for it) is that staged directory; a layer SAM would build otherwise (a
runtime build method) has no directory osls could zip, and fails generation.
"""

from __future__ import annotations

from typing import Any

from scripts.build_artifacts import LAYERS as STAGED_LAYERS
from scripts.build_artifacts import ROOT, RUNTIME_PACKAGES, STAGING_DIR
from scripts.serverless_naming import GeneratorError, layer_logical_id
from scripts.serverless_params import serverless_string
from scripts.serverless_stack import SortedStack

# Where scripts/build_artifacts.py stages the functions' code (Globals.Function.CodeUri).
STAGED_CODE = "build/function"


def package_patterns() -> list[str]:
    """What scripts/build_artifacts.py stages in build/function, taken from the repository root."""
    return [
        "!**",
        *(f"{package}/**" for package in RUNTIME_PACKAGES),
        "!**/__pycache__/**",
        "!**/*.pyc",
    ]


def layers(stack: SortedStack) -> tuple[dict[str, Any], dict[str, Any]]:
    layers: dict[str, Any] = {}
    extensions: dict[str, Any] = {}
    for name, translated_id in stack.layers.items():
        resource = stack.resource(translated_id)
        properties = stack.renames.apply(resource["Properties"], f"layer {name}")
        layer: dict[str, Any] = {"path": _layer_directory(name, stack.sam["Resources"][name])}
        extra: dict[str, Any] = {}
        layer_name = serverless_string(properties.get("LayerName"), stack.sam.get("Parameters", {}))
        if layer_name is not None:
            layer["name"] = layer_name
        elif "LayerName" in properties:
            extra["LayerName"] = properties["LayerName"]
        for key, setting in (
            ("Description", "description"),
            ("CompatibleRuntimes", "compatibleRuntimes"),
            ("CompatibleArchitectures", "compatibleArchitectures"),
            ("LicenseInfo", "licenseInfo"),
        ):
            if key in properties:
                layer[setting] = properties[key]
        # Everything under `path`, bytecode included: the service-wide patterns below start with
        # "!**" (functions take only the runtime packages) and would otherwise empty the layer.
        layer["package"] = {"patterns": ["**"]}
        layers[name] = layer
        retention: dict[str, Any] = {"Properties": extra} if extra else {}
        if resource.get("DeletionPolicy") == "Retain":
            # RetentionPolicy: Retain. osls keeps one logical ID per layer, so a new version
            # replaces the old one: UpdateReplacePolicy keeps the old version for rollbacks.
            retention.update(DeletionPolicy="Retain", UpdateReplacePolicy="Retain")
        if retention:
            extensions[layer_logical_id(name)] = retention
    return layers, extensions


def _layer_directory(name: str, written: dict[str, Any]) -> str:
    """The directory osls zips for the template's layer ``name``."""
    metadata = written.get("Metadata", {})
    method = metadata.get("BuildMethod")
    if method is None:
        path = written["Properties"]["ContentUri"]
        if not isinstance(path, str):
            raise GeneratorError(f"{name}: ContentUri must be a directory of the repository")
        return path
    if method == "makefile" and metadata.get("ContextPath") == "." and name in STAGED_LAYERS:
        directory, _ = STAGED_LAYERS[name]
        return (STAGING_DIR / directory).relative_to(ROOT).as_posix()
    # osls zips a directory as it is; what `sam build` would make of it is nowhere.
    raise GeneratorError(
        f"{name}: `sam build` builds this layer (BuildMethod {method}) other than through the"
        " Makefile's scripts/build_artifacts.py: serverless.yml has no directory of the built layer"
    )
