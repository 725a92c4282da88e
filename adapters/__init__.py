"""AWS implementations of the domain's ports."""
