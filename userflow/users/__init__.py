"""`userflow users`: import, export and index backfill of a stack's users."""
