"""`flowport token create|list|revoke`: API tokens for scripts, CI and webhook callers."""

from __future__ import annotations

import typer

from portal.cli_support import CliError, load_settings, open_engine, reports_errors, require_current_schema

token_app = typer.Typer(help="API tokens: create (shown once), list, revoke.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")


@token_app.command("create")
@reports_errors
def create(
    name: str = typer.Option(..., help="What the token is for, e.g. 'github-actions deploy'"),
    user: str = typer.Option(None, help="A personal token acting as this catalog user (user:default/alice)"),
    group: str = typer.Option(None, help="A service token acting for this group (group:default/platform)"),
    scopes: str = typer.Option("read", help="Comma-separated: read, request, admin"),
    expires: str = typer.Option("90d", help="Lifetime: 12h, 90d, 1y (at most a year)"),
) -> None:
    """Create a token and print it once; Flowport keeps only its hash."""
    from sqlmodel import Session

    from portal.auth.identity import identity_for_user
    from portal.auth.tokens import TokenError, issue_token, parse_lifetime, parse_scopes

    if bool(user) == bool(group):
        raise CliError("give either --user (a personal token) or --group (a service token)")
    settings = load_settings()
    with open_engine(settings) as engine:
        require_current_schema(engine, settings)
        with Session(engine, expire_on_commit=False) as session:
            if user and identity_for_user(session, user) is None:
                raise CliError(f"there is no catalog User {user!r}")
            try:
                issued = issue_token(session, kind="personal" if user else "service", subject_ref=user or group,
                                     name=name, scopes=parse_scopes(scopes), created_by="cli",
                                     lifetime=parse_lifetime(expires))
            except TokenError as error:
                raise CliError(str(error)) from None
            session.commit()
    typer.echo(f"Created token {issued.row.prefix} ({issued.row.kind}, scopes {issued.row.scopes}, "
               f"expires {issued.row.expires_at.date().isoformat()}). Store it now; it is not shown again:", err=True)
    typer.echo(issued.token)


@token_app.command("list")
@reports_errors
def list_command(user: str = typer.Option(None, help="Only the tokens of this user or group")) -> None:
    """Every token (never a secret): id, kind, subject, scopes, expiry, last use."""
    from sqlmodel import Session

    from portal.auth.tokens import list_tokens, token_json

    settings = load_settings()
    with open_engine(settings) as engine:
        require_current_schema(engine, settings)
        with Session(engine, expire_on_commit=False) as session:
            rows = [token_json(row) for row in list_tokens(session, user)]
    if not rows:
        typer.echo("No API tokens.")
    for row in rows:
        state = "revoked" if row["revokedAt"] else f"expires {row['expiresAt'][:10]}"
        used = f"last used {row['lastUsedAt'][:16]}" if row["lastUsedAt"] else "never used"
        typer.echo(f"{row['id']}  {row['kind']:<8}  {row['subject']}  {','.join(row['scopes'])}  {state}  {used}  "
                   f"{row['name']}")


@token_app.command("revoke")
@reports_errors
def revoke(token_id: str = typer.Argument(..., help="The token's id (the part after fpt_)")) -> None:
    """Revoke a token at once."""
    from sqlmodel import Session

    from portal.auth.tokens import revoke_token

    settings = load_settings()
    with open_engine(settings) as engine:
        require_current_schema(engine, settings)
        with Session(engine, expire_on_commit=False) as session:
            row = revoke_token(session, token_id)
            session.commit()
    if row is None:
        raise CliError(f"no API token {token_id!r}")
    typer.echo(f"Revoked token {token_id} ({row.name}).")
