"""Flowport: an internal developer platform portal that treats the platform as a product."""

__version__ = "0.1.0"
