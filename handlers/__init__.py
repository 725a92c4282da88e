"""Lambda entry points: thin adapters between API Gateway / streams and the domain."""

from handlers.cold_start import pause_collection

pause_collection()
