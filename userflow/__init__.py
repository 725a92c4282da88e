"""Operator tooling: the `userflow` CLI and the local runtime."""
