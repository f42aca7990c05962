"""Demo data: a deterministic, clearly labelled, removable year of flow data and requests for the
demo organisation in catalog/, so every chart has something real-looking to show (`flowport demo`)."""
