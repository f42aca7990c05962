"""Imports every table module so SQLModel.metadata is complete (for Alembic and tests)."""

from portal.catalog import models as catalog_models  # noqa: F401
from portal.webhooks import models as webhook_models  # noqa: F401
from portal.flow import models as flow_models  # noqa: F401
from portal.plugins import models as plugin_models  # noqa: F401
from portal.sync import models as sync_models  # noqa: F401
from portal.audit import models as audit_models  # noqa: F401
from portal.auth import token_models  # noqa: F401
from portal.requests import models as request_models  # noqa: F401
from portal.auth import session_rules  # noqa: F401
from portal.products import settings as product_settings  # noqa: F401
from portal.requests import history_import_models  # noqa: F401
from portal.notifications import models as notification_models  # noqa: F401
from portal.scaffolder.tasks import models as scaffolder_task_models  # noqa: F401
from portal.flow import link_changes as flow_link_change_models  # noqa: F401
from portal.metrics import dora_rollup_models as metrics_dora_rollup_models  # noqa: F401
from portal.requests import passes_models as request_passes_models  # noqa: F401
