"""Where a running `userflow local` records itself, read and written here, with the files beside
that record: the mail journal (``userflow mail``) and the fail-rate control file (``userflow
fail-rate``).

State is kept per checkout, in ``.userflow/`` next to the template (git ignores it), so that
stacks started from two checkouts never share a journal or fault rates; an installed (not
checked-out) Userflow keeps it in ``$XDG_STATE_HOME/userflow``, and ``$USERFLOW_STATE_DIR``
overrides both. The record names the stack's endpoints and resources so that the other
`userflow` commands reach the running stack with no flags; a record left by a process that has
ended is ignored, and ``userflow local`` removes its own when it stops.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from userflow.template import REPOSITORY, TEMPLATE

if TYPE_CHECKING:
    import subprocess

    from samlocal.provision import ProvisionedStack


def state_dir() -> Path:
    configured = os.environ.get("USERFLOW_STATE_DIR")
    if configured:
        return Path(configured)
    if TEMPLATE.exists():
        return REPOSITORY / ".userflow"
    user_state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(user_state) / "userflow"


def state_file() -> Path:
    return state_dir() / "local.json"


def mail_journal_file() -> Path:
    return state_dir() / "mail.jsonl"


def fail_rate_file() -> Path:
    return state_dir() / "fail-rate"


def running_local_state() -> dict[str, Any] | None:
    """The state of a running `userflow local`; a file left by a killed one is ignored."""
    try:
        state: dict[str, Any] = json.loads(state_file().read_text())
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return state


def record_local_state(stack: ProvisionedStack) -> Path:
    """Records the running stack (this process's) for the other commands; the file's path."""
    state = {
        "stack_name": stack.name,
        "region": stack.region,
        "endpoint_url": stack.endpoint_url,
        "api_url": stack.api_url,
        "resources": stack.resources,
        "parameters": stack.parameters,
        "pid": os.getpid(),
        # Operator commands that act as a function would read its settings from here.
        "template": stack.template,
    }
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2))
    return path


def remove_local_state(path: Path) -> None:
    """Removes the state file if it still describes this process's stack."""
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def wait_for_local_state(
    process: subprocess.Popen[bytes], state_path: Path, timeout_s: float, poll_s: float = 0.1
) -> dict[str, Any]:
    """The state that `userflow local` started as ``process`` records once it serves requests
    (benchmarks and end-to-end tests start it with ``--port 0`` and learn its ports here)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"userflow local exited with {process.returncode}")
        if state_path.exists():
            try:
                state: dict[str, Any] = json.loads(state_path.read_text())
            except ValueError:
                state = {}
            if state.get("pid") == process.pid:
                return state
        time.sleep(poll_s)
    raise RuntimeError("userflow local did not start in time")
