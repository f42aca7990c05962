"""Logged errors never show local variables: they can hold secrets and whole payloads."""

import logging

import pytest

from portal.logging_setup import configure_logging


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_a_logged_exception_shows_its_traceback_but_not_local_variables(fmt, capsys):
    configure_logging("INFO", fmt)
    try:
        webhook_secret = "s3cr3t-value"  # noqa: F841 - the local that must not leak
        raise ValueError("signature check failed")
    except ValueError:
        logging.getLogger("portal.test").exception("delivery rejected")
    output = capsys.readouterr().err
    assert "signature check failed" in output and "Traceback" in output
    assert "s3cr3t-value" not in output
