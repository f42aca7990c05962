"""What a product's owners set in the portal rather than in its descriptor: whether it takes ideas now,
an announcement on its page, and where its customers get support.

The descriptor stays the source of what the product *is* (owner, capabilities, value stream); these
settings are what owners change day to day without a pull request. Only the product's owner group
(members, also through child groups) and admins may change them; every change is in the audit log
through the policy gate.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import HTTPException, Request as HttpRequest
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Field as ColumnField, Session, SQLModel

from portal.auth.identity import Identity, authorize
from portal.catalog.refs import RefError, parse_ref
from portal.web.links import safe_href

CHANGE_ACTION = "products.settings.change"
MAX_ANNOUNCEMENT_CHARS = 2_000
MAX_URL_CHARS = 2_000


class ProductSettingsRow(SQLModel, table=True):
    """One row per product whose owners changed a setting; products without one use the defaults."""

    __tablename__ = "product_settings"

    product_ref: str = ColumnField(primary_key=True, max_length=400)
    ideas_open: bool = True
    announcement: str | None = ColumnField(default=None, max_length=MAX_ANNOUNCEMENT_CHARS)
    support_url: str | None = ColumnField(default=None, max_length=MAX_URL_CHARS)
    updated_at: datetime
    updated_by: str = ColumnField(max_length=400)


class ProductSettings(BaseModel):
    """The settings as the API takes and answers them (`PUT` replaces all of them)."""

    model_config = ConfigDict(extra="forbid")

    ideasOpen: bool = True  # noqa: N815 - the API's field names
    announcement: str | None = Field(default=None, max_length=MAX_ANNOUNCEMENT_CHARS)
    supportUrl: str | None = Field(default=None, max_length=MAX_URL_CHARS)  # noqa: N815

    @field_validator("announcement", "supportUrl")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("supportUrl")
    @classmethod
    def _linkable(cls, value: str | None) -> str | None:
        # Shown as a link on the product page: only what safe_href would link (http(s), mailto).
        if value is not None and (safe_href(value) is None or value.startswith("/")):
            raise ValueError("must be an http(s) or mailto URL")
        return value


def product_ref_of(product: dict) -> str:
    metadata = product["metadata"]
    return f"platformproduct:{metadata.get('namespace', 'default')}/{metadata['name']}".lower()


def owner_ref_of(product: dict) -> str | None:
    owner = (product.get("spec") or {}).get("owner")
    try:
        return parse_ref(owner, default_kind="group",
                         default_namespace=product["metadata"].get("namespace", "default")).key
    except (RefError, TypeError, ValueError):
        return None


def settings_of(session: Session, product: dict) -> ProductSettings:
    row = session.get(ProductSettingsRow, product_ref_of(product))
    if row is None:
        return ProductSettings()
    return ProductSettings(ideasOpen=row.ideas_open, announcement=row.announcement, supportUrl=row.support_url)


def ideas_open(session: Session, product_ref: str) -> bool:
    row = session.get(ProductSettingsRow, product_ref.lower())
    return True if row is None else row.ideas_open


def may_change(http: HttpRequest, user: Identity, product: dict) -> bool:
    """Whether the caller may change the settings (for showing the form), without recording a decision."""
    if user.is_admin:
        return True
    if not user.is_authenticated:
        return bool(getattr(http.app.state.policy, "allow_anonymous_changes", False))
    owner = owner_ref_of(product)
    return owner is not None and owner in user.ownership_refs


def check_may_change(http: HttpRequest, user: Identity, product: dict) -> None:
    """403 with the reason unless the caller is one of the product's owners or an admin."""
    ref = product_ref_of(product)
    authorize(http, user, CHANGE_ACTION, ref)
    if not may_change(http, user, product):
        owner = owner_ref_of(product) or "its owner group (the descriptor names none)"
        raise HTTPException(403, f"Only members of {owner} (or admins) may change the settings of {ref}; "
                                 f"{user.display_name} is not one")


def save_settings(session: Session, product: dict, wanted: ProductSettings, actor: str) -> ProductSettings:
    ref = product_ref_of(product)
    row = session.get(ProductSettingsRow, ref) or ProductSettingsRow(product_ref=ref, updated_at=datetime.now(UTC),
                                                                       updated_by=actor)
    row.ideas_open = wanted.ideasOpen
    row.announcement = wanted.announcement
    row.support_url = wanted.supportUrl
    row.updated_at = datetime.now(UTC)
    row.updated_by = actor
    session.add(row)
    session.flush()
    return wanted
