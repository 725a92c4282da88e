"""Developer and deployment scripts (run as `python -m scripts.<name>`)."""
