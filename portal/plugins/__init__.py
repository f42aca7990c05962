"""The plugin system: one contract (contract.py), discovery through entry points (registry.py)."""
