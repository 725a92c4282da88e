"""Operator tooling: the `userflow` CLI, and Userflow's local stack run on the emulator
(``samlocal``) with Userflow's settings and start-up."""
