"""The REST API's plumbing every app shares: errors, pagination, parsers, throttling, filters, fields."""
