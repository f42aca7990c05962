"""Platform products and capabilities: the catalog seen as a shelf of products."""
