"""AWS's Parameters and Secrets Lambda Extension, as the local runtime serves it to functions.

The same HTTP interface on 127.0.0.1 (its own free port, given to functions in
``PARAMETERS_SECRETS_EXTENSION_HTTP_PORT``): ``GET /systemsmanager/parameters/get?name=`` (with
``version``, ``label``, ``withDecryption``) answers GetParameter's JSON, ``GET
/secretsmanager/get?secretId=`` (with ``versionId``, ``versionStage``) GetSecretValue's; the
``X-Aws-Parameters-Secrets-Token`` header must carry the functions' session token (401
otherwise). Values are cached as the extension caches them: parameters for
``SSM_PARAMETER_STORE_TTL``, secrets for ``SECRETS_MANAGER_TTL`` (300 s by default). Each
function has its own extension on AWS; this one server serves them all, so it keeps each kind for
the shortest TTL any function sets (``ttls_from_template``), never longer than one would.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from samlocal.template import Template

PORT_ENV = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
"""The extension's port (2773 on Lambda), as functions that use it have it set."""
TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"  # noqa: S105 - a header name
DEFAULT_TTL_SECONDS = 300.0
PARAMETER_PATH = "/systemsmanager/parameters/get"
SECRET_PATH = "/secretsmanager/get"  # noqa: S105 - a path
TTL_VARIABLES = {PARAMETER_PATH: "SSM_PARAMETER_STORE_TTL", SECRET_PATH: "SECRETS_MANAGER_TTL"}
Fetch = Callable[[dict[str, str]], dict[str, Any]]


def ttls_from_template(
    template: Template, resolve: Callable[[Any], Any] | None = None
) -> dict[str, float]:
    """Per path, the shortest TTL that a function using the extension configures; ``resolve``
    gives a value set by an intrinsic (``!Ref JwksCacheSeconds``) as the stack has it (default:
    the parameters' defaults)."""
    if resolve is None:
        from samlocal.intrinsics import Resolver

        resolve = Resolver(template, stack_name="", region="").resolve
    ttls = dict.fromkeys(TTL_VARIABLES, DEFAULT_TTL_SECONDS)
    for logical_id in template.functions():
        variables = template.function_properties(logical_id).get("Environment", {})
        variables = variables.get("Variables", {})
        if PORT_ENV not in variables:
            continue
        for path, name in TTL_VARIABLES.items():
            if name in variables:
                ttls[path] = min(ttls[path], float(resolve(variables[name])))
    return ttls


class ParametersExtension(ThreadingHTTPServer):
    """The extension's local server; ``start()`` serves it in a daemon thread."""

    daemon_threads = True

    def __init__(
        self,
        client: Callable[[Any], Any],
        *,
        session_token: str,
        ttl_seconds: Mapping[str, float] | None = None,
        port: int = 0,
    ) -> None:
        """``ttl_seconds``: per path (``ttls_from_template``); 300 s where not given."""
        super().__init__(("127.0.0.1", port), _Handler)
        self.session_token = session_token
        self.ttl_seconds = {
            **dict.fromkeys(TTL_VARIABLES, DEFAULT_TTL_SECONDS),
            **(ttl_seconds or {}),
        }
        # Query arguments are passed through as the extension does: the calls stay untyped.
        ssm: Any = client("ssm")
        secrets: Any = client("secretsmanager")
        self.routes: dict[str, tuple[Fetch, dict[str, str]]] = {
            PARAMETER_PATH: (
                lambda args: ssm.get_parameter(**args),
                {"name": "Name", "withDecryption": "WithDecryption"},
            ),
            SECRET_PATH: (
                lambda args: secrets.get_secret_value(**args),
                {"secretId": "SecretId", "versionId": "VersionId", "versionStage": "VersionStage"},
            ),
        }
        self._cache: dict[tuple[str, str], tuple[float, bytes]] = {}
        self._lock = threading.Lock()
        self.requests_served: Counter[str] = Counter()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def function_environment(self) -> dict[str, str]:
        """What a function needs to reach this server instead of port 2773."""
        return {PORT_ENV: str(self.port)}

    def start(self) -> None:
        threading.Thread(
            target=self.serve_forever, name="parameters-extension", daemon=True
        ).start()

    def stop(self) -> None:
        """Stops serving (after :meth:`start`) and closes the port."""
        self.shutdown()
        self.server_close()

    def answer(self, path: str, query: str) -> tuple[int, bytes]:
        """Status and body for one request (the token already checked)."""
        if path not in self.routes:
            return 404, b"not found"
        fetch, names = self.routes[path]
        self.requests_served[path] += 1
        arguments = _arguments(parse_qs(query), names)
        if arguments is None:
            return 400, b"missing or repeated query parameter"
        key = (path, json.dumps(arguments, sort_keys=True))
        with self._lock:
            cached = self._cache.get(key)
            if cached and cached[0] > time.monotonic():
                return 200, cached[1]
        try:
            value = fetch(arguments)
        except Exception as error:  # reported to the function, as the extension does
            return 400, str(error).encode()
        value.pop("ResponseMetadata", None)
        body = json.dumps(value, default=_json_default).encode()
        with self._lock:
            self._cache[key] = (time.monotonic() + self.ttl_seconds[path], body)
        return 200, body


def _arguments(query: dict[str, list[str]], names: dict[str, str]) -> dict[str, Any] | None:
    """The API's arguments from the query string (``version``/``label`` become ``name:...``)."""
    if any(len(values) != 1 for values in query.values()):
        return None
    flat = {key: values[0] for key, values in query.items()}
    first = next(iter(names))
    if not flat.get(first):
        return None
    qualifier = flat.pop("version", None) or flat.pop("label", None)
    if qualifier:
        flat[first] += f":{qualifier}"
    arguments: dict[str, Any] = {names[k]: v for k, v in flat.items() if k in names}
    if "WithDecryption" in arguments:
        arguments["WithDecryption"] = arguments["WithDecryption"].lower() == "true"
    return arguments


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    raise TypeError(type(value).__name__)


class _Handler(BaseHTTPRequestHandler):
    server: ParametersExtension

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if self.headers.get(TOKEN_HEADER) != self.server.session_token:
            status, body = 401, b"missing or invalid X-Aws-Parameters-Secrets-Token"
        else:
            status, body = self.server.answer(url.path, url.query)
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: functions call it on every request."""
