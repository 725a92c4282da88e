"""Content types the API functions answer with (the names Powertools' ``content_types`` uses)."""

APPLICATION_JSON = "application/json"
TEXT_PLAIN = "text/plain"
TEXT_HTML = "text/html"
