"""Pull sync: an async HTTP client that honours tools' pagination, validators and rate limits,
persisted cursors per connection and resource, and the runner that commits page by page."""
