"""`flowport secrets generate-key|rotate`: keys for connection secrets (FLOWPORT_SECRETS_KEY) and their rotation."""

from __future__ import annotations

import typer

from portal.cli_support import (
    CliError,
    load_settings,
    open_engine,
    reports_errors,
    require_current_schema,
    require_safe_keys,
)

secrets_app = typer.Typer(help="Keys that encrypt connection secrets: generate one, re-encrypt with the newest.",
                          no_args_is_help=True)


@secrets_app.command("generate-key")
@reports_errors
def generate_key() -> None:
    """Print a new random key for FLOWPORT_SECRETS_KEY (put it first in the list to start using it)."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


@secrets_app.command("derived-key")
@reports_errors
def derived_key() -> None:
    """Print the key derived from FLOWPORT_SECRET_KEY, which encrypted connection secrets while
    FLOWPORT_SECRETS_KEY was unset; list it after a new key, then run `flowport secrets rotate`."""
    from portal.plugins.secrets import derived_key as derive

    typer.echo(derive(load_settings().secret_key))


@secrets_app.command("rotate")
@reports_errors
def rotate() -> None:
    """Re-encrypt every stored connection secret with the first key of FLOWPORT_SECRETS_KEY."""
    from sqlmodel import Session

    from portal.plugins.connections import rotate_stored_secrets

    settings = load_settings()
    require_safe_keys(settings)
    secrets = failed = connections = 0
    with open_engine(settings) as engine:
        require_current_schema(engine, settings)
        with Session(engine) as session:
            for plugin, name, outcome in rotate_stored_secrets(session, settings):
                connections += 1
                if isinstance(outcome, str):
                    failed += 1
                    typer.echo(f"{plugin}/{name}: not rotated: {outcome}", err=True)
                    continue
                session.commit()  # one connection at a time: an interrupted run leaves every row readable
                secrets += outcome
                typer.echo(f"{plugin}/{name}: re-encrypted {outcome} secret(s)")
    typer.echo(f"Re-encrypted {secrets} secret(s) in {connections - failed} of {connections} connection(s) "
               "with the first key of FLOWPORT_SECRETS_KEY")
    if failed:
        raise CliError(f"{failed} connection(s) could not be decrypted by any key in FLOWPORT_SECRETS_KEY; "
                       "add the key they were encrypted with (after the new one) and run this again")
    if connections:
        typer.echo("Older keys may now be removed from FLOWPORT_SECRETS_KEY")


def register(app: typer.Typer) -> None:
    """Add `flowport secrets` to the main command."""
    app.add_typer(secrets_app, name="secrets")
