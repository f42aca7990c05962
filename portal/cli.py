"""The `flowport` command: serve, migrate, worker, demo, and the `catalog` subcommands."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import typer

from portal.cli_catalog import catalog_app, open_ingest, print_reports
from portal.cli_inbox import register as register_inbox
from portal.cli_secrets import register as register_secrets
from portal.cli_sync import register as register_sync
from portal.cli_tokens import register as register_tokens
from portal.cli_requests import requests_app
from portal.cli_metrics import metrics_app
from portal.cli_support import (
    CliError,
    http_client,
    load_settings,
    open_engine,
    reports_errors,
    require_current_schema,
    require_safe_keys,
    safe_url,
)

app = typer.Typer(
    name="flowport",
    help="Flowport: an internal developer platform portal that treats the platform as a product.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(catalog_app, name="catalog")
register_inbox(app)
register_sync(app)
register_tokens(app)
register_secrets(app)
app.add_typer(requests_app, name="requests")
app.add_typer(metrics_app, name="metrics")

# The demo organisation and golden paths ship next to the package in a checkout (and in /app in the image).
CHECKOUT_ROOT = Path(__file__).resolve().parent.parent
# A factory, so the app (engine, HTTP client, worker) is built inside the server process, not at import.
APP_FACTORY = "portal.app:create_app"


def _revision_of(engine) -> str:  # noqa: ANN001
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    # Parallel branches of migrations leave several heads; sorted, so the message is stable.
    return ", ".join(sorted(heads)) if heads else "an empty database"


def _migrate(engine) -> tuple[str, str]:  # noqa: ANN001
    """Upgrade to head; returns the revision before and after."""
    from portal.migrate import upgrade

    from portal.planner_statistics import refresh_planner_statistics

    before = _revision_of(engine)
    upgrade(engine)
    refresh_planner_statistics(engine)  # the planner starts with statistics, even on a fresh import
    return before, _revision_of(engine)


@app.command()
@reports_errors
def migrate() -> None:
    """Bring the database schema to the newest revision."""
    settings = load_settings()
    with open_engine(settings) as engine:
        before, after = _migrate(engine)
    where = safe_url(settings.resolved_database_url)
    if before == after:
        typer.echo(f"Database {where} is already at revision {after} (newest)")
    else:
        typer.echo(f"Migrated {where} from {before} to revision {after}")


def _display_url(host: str, port: int) -> str:
    if host in ("0.0.0.0", "::"):
        return f"http://127.0.0.1:{port} (listening on all interfaces)"
    return f"http://{host}:{port}"


@app.command()
@reports_errors
def serve(
    host: str | None = typer.Option(None, help="Interface to listen on [default: FLOWPORT_HOST or 127.0.0.1]"),
    port: int | None = typer.Option(None, help="Port to listen on [default: FLOWPORT_PORT or 8000]"),
    reload: bool = typer.Option(False, help="Restart when the code changes (development only)."),
) -> None:
    """Migrate the database, then serve the portal over HTTP until stopped."""
    import uvicorn

    from portal.logging_setup import configure_logging

    settings = load_settings()
    require_safe_keys(settings)
    host = host or settings.host
    port = port if port is not None else settings.port
    configure_logging(settings.log_level, settings.log_format)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    with open_engine(settings) as engine:
        _migrate(engine)
    # After start-up, Alembic's per-check chatter (readiness probes) is noise in the server log.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    url = _display_url(host, port)
    if reload:
        typer.echo(f"Flowport is starting on {url} (reloading when the code changes)")
        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, reload=True, log_config=None)
        return
    server = _announcing_server(uvicorn.Config(
        # The portal logs each request itself (method, path, status, ms); uvicorn's access log would repeat it.
        APP_FACTORY, factory=True, host=host, port=port, log_config=None, access_log=False,
        **proxy_options(settings),
    ), url)
    server.run()
    if not server.started:
        raise CliError(f"the server did not start on {host}:{port}; see the log above", 3)


def proxy_options(settings: Settings) -> dict:
    """uvicorn's proxy handling: X-Forwarded-Proto and -For are believed only from FLOWPORT_TRUSTED_PROXIES,
    so the scheme (Secure cookies, HSTS, sign-in callback URLs) and client address cannot be forged."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(settings.trusted_proxies)}


def _announcing_server(config, url: str):  # noqa: ANN001, ANN202 - uvicorn is imported lazily
    """A uvicorn server that prints the URL once it is actually listening."""
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets=None) -> None:  # noqa: ANN001
            await super().startup(sockets)
            if self.started:
                typer.echo(f"Flowport is running on {url}")

    return AnnouncingServer(config)


@app.command()
@reports_errors
def worker() -> None:
    """Process webhook deliveries, run scheduled syncs and refresh the catalog, in the foreground until Ctrl-C."""
    from portal.logging_setup import configure_logging

    settings = load_settings()
    require_safe_keys(settings)
    configure_logging(settings.log_level, settings.log_format)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if settings.catalog_refresh_interval <= 0:
        raise CliError("FLOWPORT_CATALOG_REFRESH_INTERVAL must be more than 0 seconds for the worker")
    ingest = open_ingest()
    stopping = threading.Event()
    # SIGTERM is what `docker stop` and Kubernetes send; handle it from the start so none is missed.
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        with open_engine(settings) as engine, http_client(settings) as http:
            require_current_schema(engine, settings)
            from portal.cli_inbox import open_registry
            from portal.webhooks.worker import InboxWorker

            from portal.sync.scheduler import SyncScheduler

            registry = open_registry(engine, settings)
            background = [InboxWorker(engine, registry).start()]
            if settings.sync_interval > 0:
                background.append(SyncScheduler(engine, registry, settings).start())
            if settings.request_follow_interval > 0:
                from portal.requests.follow_flow import FlowFollower

                background.append(FlowFollower(engine, settings.request_follow_interval).start())
            if settings.dora_rollup_interval > 0:
                from portal.metrics.dora_refresher import DoraRollupRefresher

                background.append(DoraRollupRefresher(engine, settings.dora_rollup_interval).start())
            from portal.scaffolder.tasks.runner import TaskRunner

            background.append(TaskRunner(engine, settings, plugins=registry).start())
            try:
                _run_refresher(ingest.CatalogRefresher(engine, settings, http, settings.catalog_refresh_interval),
                               settings, stopping)
            finally:
                for job in background:
                    job.stop()
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def _run_refresher(refresher, settings, stopping: threading.Event) -> None:  # noqa: ANN001
    """One round now (the refresher waits an interval before its first), then rounds until stopped."""
    typer.echo(
        f"Refreshing the catalog every {settings.catalog_refresh_interval:g} s "
        f"in {safe_url(settings.resolved_database_url)}; press Ctrl-C to stop"
    )
    typer.echo(f"Refreshed {refresher.run_once()} location(s)")
    refresher.start()
    try:
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        typer.echo("Stopping the worker")
        refresher.stop()


@app.command()
@reports_errors
def demo(
    seed: int = typer.Option(2026, help="Seed of the demo data: the same seed gives the same rows."),
    days: int = typer.Option(365, help="How many days of flow data and requests to seed, up to today."),
    until: str | None = typer.Option(None, help="End the demo data at this date (YYYY-MM-DD) instead of today."),
    flow_data: bool = typer.Option(True, "--flow-data/--no-flow-data", help="Seed demo flow data."),
    requests: bool = typer.Option(True, "--requests/--no-requests", help="Seed demo orders and ideas."),
    remove: bool = typer.Option(False, "--remove", help="Delete the demo flow data and requests, nothing else."),
    keep_existing: bool = typer.Option(False, "--keep-existing", help="Leave demo data alone if there is some."),
) -> None:
    """Load the bundled demo organisation (catalog/) and golden paths (templates/) into the database,
    then seed a year of labelled demo flow data and requests for it (see docs/demo.md)."""
    from sqlmodel import Session

    settings = load_settings()
    catalog_paths = settings.catalog_paths or _bundled("catalog")
    template_paths = settings.template_paths or _bundled("templates")
    demo_settings = settings.model_copy(update={"catalog_paths": catalog_paths, "template_paths": template_paths})
    ingest = open_ingest()
    with open_engine(settings) as engine, http_client(settings) as http:
        _migrate(engine)
        with Session(engine, expire_on_commit=False) as session:
            # Registers each folder once (refreshing it when it is registered already).
            reports = ingest.ensure_default_locations(session, demo_settings, http)
            session.commit()
        with Session(engine, expire_on_commit=False) as session:
            _demo_data(session, seed=seed, days=days, until=until, flow_data=flow_data, requests=requests,
                       remove=remove, keep_existing=keep_existing)
            session.commit()
    failed = print_reports(reports)
    typer.echo(f"Demo loaded from {', '.join(catalog_paths + template_paths)}; start it with `flowport serve`")
    if failed:
        raise typer.Exit(1)


def _demo_data(session, **options) -> None:  # noqa: ANN001, ANN003
    """Seed, keep or remove the demo year (portal/demo/); a problem is a CliError naming the option."""
    from portal.demo.command import run_demo_data
    from portal.demo.seed import DemoError

    try:
        run_demo_data(session, echo=typer.echo, **options)
    except DemoError as error:
        raise CliError(str(error), 2) from None


def _bundled(folder: str) -> list[str]:
    """The demo folder from the working directory, else from the checkout the package runs from."""
    for base in (Path.cwd(), CHECKOUT_ROOT, Path("/app")):
        if (base / folder).is_dir():
            return [str(base / folder)]
    raise CliError(f"no {folder}/ folder found here or in {CHECKOUT_ROOT}; set FLOWPORT_{folder.upper()}_PATHS")


def main() -> None:
    """Entry point of the `flowport` console script."""
    app()


if __name__ == "__main__":
    main()
