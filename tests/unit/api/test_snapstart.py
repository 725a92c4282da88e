"""SnapStart runtime hooks: registered only on SnapStart; a restore leaves nothing of the
snapshot's INIT that environments must not share."""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable

import pytest

from adapters.aws_clients import client
from handlers import dependencies, snapstart


def _runtime_module(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[], None]]:
    registered: list[Callable[[], None]] = []
    module = types.ModuleType("snapshot_restore_py")
    module.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return registered


def test_given_no_snapstart_when_hooks_are_registered_then_the_runtime_module_is_not_touched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registered = _runtime_module(monkeypatch)
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)

    snapstart.register_hooks()

    assert registered == []


def test_given_snapstart_when_hooks_are_registered_then_restore_runs_after_each_restore(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registered = _runtime_module(monkeypatch)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")

    snapstart.register_hooks()

    assert registered == [snapstart.restore]


def test_given_state_from_init_when_restored_then_clients_are_new_and_random_is_reseeded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("TABLE_NAME", "users")
    snapshot_client = client("dynamodb")
    dependencies.user_repository.cache_clear()
    repository = dependencies.user_repository()
    random.seed(1234)
    from_snapshot = [random.random() for _ in range(3)]
    restored_callbacks: list[str] = []
    monkeypatch.setattr(
        snapstart,
        "_after_restore",
        [*snapstart._after_restore, lambda: restored_callbacks.append("ran")],
    )
    random.seed(1234)

    snapstart.restore()

    assert client("dynamodb") is not snapshot_client
    assert dependencies.user_repository() is not repository
    assert [random.random() for _ in range(3)] != from_snapshot
    assert restored_callbacks == ["ran"]
    dependencies.user_repository.cache_clear()


def test_given_snapstart_when_a_key_is_read_then_the_sdk_reads_it_with_no_extension_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A restored environment has container credentials, no AWS_SESSION_TOKEN, which is all the
    Parameters and Secrets extension accepts: going through it would fail every read and warn
    on every invocation."""
    from adapters import parameters_extension

    calls: list[str] = []
    monkeypatch.setenv(parameters_extension.PORT_ENV, "2773")
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")

    def read(name: str, port: int) -> str:
        calls.append(name)
        return "value"

    assert parameters_extension.through_extension(read, "/stack/auth/jwks") is None
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    assert parameters_extension.through_extension(read, "/stack/auth/jwks") is None
    assert calls == []
    assert caplog.records == []

    monkeypatch.setenv("AWS_SESSION_TOKEN", "token")
    assert parameters_extension.through_extension(read, "/stack/auth/jwks") == "value"
