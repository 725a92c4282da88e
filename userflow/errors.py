"""The one way a `userflow` command fails: raise ``CommandError``; ``userflow.cli.main`` prints it
as one line on stderr and exits with its status. Every command shares these exit statuses."""

from __future__ import annotations

EXIT_OK = 0
# The command ran but something is left for the operator: messages not re-driven, alarms
# firing, no signing key yet, an AWS call refused (no credentials, no such stack).
EXIT_FAILED = 1
# Nothing was done: invalid arguments, an unknown name, or no stack to act on.
EXIT_USAGE = 2
EXIT_HUNG_UP = 129  # SIGHUP: the terminal went away (a dropped SSH session)
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_TERMINATED = 143  # SIGTERM
EXIT_BROKEN_PIPE = 141  # the reader went away (`| head`), as for shell tools killed by SIGPIPE

EXIT_STATUS_HELP = """exit status:
  0    done
  1    failed, or something is left to do (the output says what)
  2    nothing done: invalid arguments, an unknown name, or no stack to act on
  129  hung up (SIGHUP), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM): the command
       cleaned up first (and printed its summary, if it has one)"""


class CommandError(Exception):
    """A failure to report to the operator in one line, without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is, so that it cleans up as on Ctrl-C."""


class HungUp(KeyboardInterrupt):
    """SIGHUP (the terminal went away), raised where the command is, so that it cleans up as on
    Ctrl-C."""
