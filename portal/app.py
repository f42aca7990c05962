"""The application factory: everything is built here from Settings, nothing at import time."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from portal import __version__
from portal.audit.recorder import AuditMiddleware
from portal.auth.identity import DefaultPolicy
from portal.auth.keys import require_safe_keys
from portal.catalog.generation import install_cache
from portal.db import ReadOnlyDatabase, build_engine, build_read_engine
from portal.errors import install_error_handlers
from portal.logging_setup import configure_logging, get_logger
from portal.memory import limit_malloc_arenas
from portal.net import guarded_client
from portal.observability import install_observability
from portal.plugins.registry import build_registry
from portal.webhooks.inbox_writer import InboxWriter
from portal.settings import Settings
from portal.web.guards import install_request_guards
from portal.web.rendering import STATIC_DIR, build_templates


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build a portal app: engine, HTTP client, templates, routes and background jobs."""
    settings = settings or Settings()
    require_safe_keys(settings)  # before anything is built: production never runs on a public or missing key
    limit_malloc_arenas(settings.malloc_arenas)  # before any other thread allocates
    configure_logging(settings.log_level, settings.log_format)
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from portal.catalog import lifecycle

        await _load_stored_connections(app)
        await lifecycle.on_startup(app)
        _start_inbox_worker(app)
        _start_task_runner(app)
        # What start-up built lives as long as the app: keep it out of the collector's full passes,
        # which otherwise walk all of it again and again under load (webhook intake). Thawed at shutdown.
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            _stop_inbox_worker(app)
            _stop_task_runner(app)
            await lifecycle.on_shutdown(app)
            await app.state.inbox_writer.close()
            app.state.http.close()
            app.state.engine.dispose()
            app.state.read_database.engine.dispose()

    app = FastAPI(
        title="Flowport",
        version=__version__,
        description="Internal developer platform portal: a Backstage-compatible catalog, "
        "self-service and value-stream tracking for platform products.",
        lifespan=lifespan,
        # The explorer is served from the portal's own static files (portal/web/api_docs.py), not a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = build_engine(settings.resolved_database_url)
    install_cache(app.state.engine, settings.catalog_count_cache_entries)
    app.state.read_database = ReadOnlyDatabase(build_read_engine(settings.resolved_database_url, app.state.engine),
                                               session_engine=app.state.engine)
    app.state.http = guarded_client(settings.url_timeout, settings.url_allow_private_networks)
    app.state.templates = build_templates()
    app.state.plugins = build_registry()
    app.state.inbox_writer = InboxWriter(app.state.engine)
    app.state.policy = DefaultPolicy(allow_anonymous_changes=settings.env != "production")
    app.state.task_secrets = _task_secrets()

    install_request_guards(app, settings)  # before the session middleware, so inside it: CSRF reads the session
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, same_site="lax",
                       https_only=settings.env == "production", max_age=settings.session_max_age_hours * 3600)
    install_error_handlers(app)
    app.add_middleware(AuditMiddleware, engine=app.state.engine)
    _install_webhook_fast_path(app)  # inside observability: deliveries are still counted and logged
    install_observability(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _include_routes(app)
    return app


def _install_webhook_fast_path(app: FastAPI) -> None:
    from portal.webhooks.fast_path import WebhookFastPath
    from portal.webhooks.intake import intake_routes

    app.add_middleware(WebhookFastPath, routes=intake_routes())


async def _load_stored_connections(app: FastAPI) -> None:
    """Connections saved through the API; a database without the schema yet must not stop start-up."""
    from fastapi.concurrency import run_in_threadpool
    from sqlalchemy.exc import SQLAlchemyError

    from portal.plugins.connections import load_stored_connections

    try:
        await run_in_threadpool(load_stored_connections, app.state.engine, app.state.plugins, app.state.settings)
    except SQLAlchemyError as error:
        get_logger(__name__).warning("stored connections not loaded", error=str(error).splitlines()[0])


def _start_inbox_worker(app: FastAPI) -> None:
    """Normalize webhook deliveries and run scheduled syncs in this process, unless a separate worker does."""
    from portal.sync.scheduler import SyncScheduler
    from portal.webhooks.worker import InboxWorker

    from portal.requests.follow_flow import FlowFollower

    from portal.metrics.dora_refresher import DoraRollupRefresher

    app.state.inbox_worker = app.state.sync_scheduler = app.state.flow_follower = app.state.dora_refresher = None
    settings = app.state.settings
    if settings.run_worker:
        app.state.inbox_worker = InboxWorker(app.state.engine, app.state.plugins).start()
        if settings.sync_interval > 0:
            app.state.sync_scheduler = SyncScheduler(app.state.engine, app.state.plugins, settings).start()
        if settings.request_follow_interval > 0:
            app.state.flow_follower = FlowFollower(app.state.engine, settings.request_follow_interval).start()
        if settings.dora_rollup_interval > 0:
            app.state.dora_refresher = DoraRollupRefresher(app.state.engine, settings.dora_rollup_interval).start()


def _stop_inbox_worker(app: FastAPI) -> None:
    for name in ("inbox_worker", "sync_scheduler", "flow_follower", "dora_refresher"):
        worker = getattr(app.state, name, None)
        if worker is not None:
            worker.stop()
            setattr(app.state, name, None)


def _task_secrets():  # noqa: ANN202 - imported lazily like the other domains
    from portal.scaffolder.tasks.secrets import TaskSecrets

    return TaskSecrets()


def _start_task_runner(app: FastAPI) -> None:
    """Run scaffolder tasks in this process (with the secrets its API was given), unless a separate worker does."""
    from portal.scaffolder.tasks.runner import TaskRunner

    app.state.task_runner = None
    if app.state.settings.run_worker:
        app.state.task_runner = TaskRunner(app.state.engine, app.state.settings, secrets=app.state.task_secrets,
                                           plugins=app.state.plugins).start()


def _stop_task_runner(app: FastAPI) -> None:
    runner = getattr(app.state, "task_runner", None)
    if runner is not None:
        runner.stop()
        app.state.task_runner = None


def _include_routes(app: FastAPI) -> None:
    from portal import health
    from portal.plugins import api as plugins_api
    from portal.plugins import admin as connections_admin
    from portal.plugins import connections_api
    from portal.webhooks import intake as webhook_intake
    from portal.catalog import api as catalog_api
    from portal.catalog import views as catalog_views
    from portal.auth import views as auth_views
    from portal.auth import sign_in
    from portal.auth import tokens_api
    from portal.auth import sessions_api
    from portal.products import api as product_api
    from portal.products import views as product_views
    from portal.products import settings_views as product_settings_views
    from portal.web import home as home_views
    from portal.flow import api as flow_api
    from portal.flow import cards as flow_cards
    from portal.webhooks import admin as webhook_admin
    from portal.web import api_docs
    from portal.audit import api as audit_api
    from portal.requests import api as requests_api
    from portal.metrics import api_flow as metrics_flow_api
    from portal.metrics import api_dora as metrics_dora_api
    from portal.metrics import api_value as metrics_value_api
    from portal.requests import order_pages
    from portal.scaffolder import backstage_api as scaffolder_api

    # FastAPI tries routers in this order, route by route, for every request: the busiest paths
    # (health checks, Backstage clients on the catalog API, tool webhooks) come first.
    app.include_router(health.router)
    app.include_router(catalog_api.router)
    app.include_router(webhook_intake.router)
    app.include_router(plugins_api.router)
    app.include_router(connections_api.router)
    app.include_router(connections_admin.router)
    app.include_router(catalog_views.router)
    app.include_router(catalog_views.api_router)
    app.include_router(home_views.router)
    app.include_router(product_views.router)
    app.include_router(product_settings_views.router)
    app.include_router(product_api.router)
    app.include_router(auth_views.router)
    app.include_router(sign_in.router)
    app.include_router(tokens_api.router)
    app.include_router(sessions_api.router)
    app.include_router(flow_api.router)
    app.include_router(flow_cards.router)
    app.include_router(webhook_admin.api_router)
    app.include_router(webhook_admin.pages_router)
    app.include_router(api_docs.router)
    app.include_router(audit_api.api_router)
    app.include_router(audit_api.pages_router)
    app.include_router(requests_api.router)
    app.include_router(metrics_flow_api.router)
    app.include_router(metrics_dora_api.router)
    app.include_router(metrics_value_api.router)
    from portal.metrics.pages import component as metrics_component_page
    app.include_router(metrics_component_page.router)
    from portal.metrics.pages import team as metrics_team_page
    app.include_router(metrics_team_page.router)
    app.include_router(order_pages.pages)
    app.include_router(order_pages.api)
    from portal.requests.pages import ideas as request_ideas, lists as request_lists
    from portal.requests.pages import queues as request_queues, request_page
    from portal.notifications import api as notifications_api, views as notifications_views

    app.include_router(request_lists.router)  # before request_page: /requests/mine is not a REQ-<n>
    app.include_router(request_page.router)
    app.include_router(request_queues.router)
    app.include_router(request_ideas.router)
    app.include_router(notifications_api.router)
    app.include_router(notifications_views.router)
    # The header's bell asks for the unread count of whoever is signed in (portal/notifications/api.py).
    app.state.templates.env.globals["notification_count"] = notifications_api.unread_for
    app.include_router(scaffolder_api.router)
    from portal.metrics.pages import product as metrics_product_page

    app.include_router(metrics_product_page.router)
    from portal.metrics.pages import portfolio as metrics_portfolio_page

    app.include_router(metrics_portfolio_page.router)
