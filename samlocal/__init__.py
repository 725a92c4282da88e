"""The local runtime: the whole stack on one laptop, on an embedded moto server."""
