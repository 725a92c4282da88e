"""One module per `userflow` sub-command group; each exposes ``register(subparsers)``."""
