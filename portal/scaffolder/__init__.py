"""The scaffolder: Backstage-compatible software templates, their expressions, actions and dry runs."""
