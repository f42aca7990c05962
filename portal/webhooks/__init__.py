"""Webhook intake: verify, store in the inbox before acknowledging, process later in the worker."""
