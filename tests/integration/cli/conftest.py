"""Operator commands against a provisioned moto stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.operator_stack import record_as_local
from userflow.stack import Stack


@pytest.fixture
def local(stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """The moto stack, recorded as the running local stack: commands need no flags."""
    record_as_local(stack, tmp_path, monkeypatch)
    return stack
