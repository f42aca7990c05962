"""Server-rendered web UI plumbing: Jinja2 environment, static files, error pages."""
