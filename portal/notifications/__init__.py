"""In-portal notifications: what happened to a request that concerns a person, read in the portal."""
