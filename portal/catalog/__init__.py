"""The Backstage-compatible software catalog: descriptors, ingestion, storage, query, pages."""
