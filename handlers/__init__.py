"""Lambda entry points: thin adapters between API Gateway / streams and the domain."""
