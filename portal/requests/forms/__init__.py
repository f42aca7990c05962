"""Request forms drawn from JSON Schema: the field model, parsing posted forms back into JSON, errors per field."""
