"""Requests: orders for capabilities and ideas for platform products, tracked through their stages."""
