"""A plugin module that fails on import, as a half-installed plugin would."""

raise ImportError("flowport_sample.broken needs a library that is not installed")
