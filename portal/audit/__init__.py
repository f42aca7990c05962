"""The audit log: every privileged action (who, what, when, from where, outcome), append-only."""
