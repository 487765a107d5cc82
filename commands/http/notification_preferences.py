"""Commands on notification preferences: a person's own, and the tenant's
defaults (tenant administrators)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from commands.context import CommandContext
from commands.http.deps import NotificationPreferencesServiceDep
from commands.http.edge import context_for
from commands.http.schemas import StrictBody
from commands.notification_preferences import Preferences
from domain.access import Permission
from domain.notifications import NotificationKind

router = APIRouter(tags=["notifications"])

Self = Annotated[
    CommandContext, Depends(context_for(Permission.SELF_SERVICE, idempotent=False))
]
Admin = Annotated[
    CommandContext,
    Depends(context_for(Permission.TENANT_SETTINGS_MANAGE, idempotent=False)),
]

_EXAMPLE: dict[str, Any] = {
    "language": "de",
    "kinds": [
        {"kind": "finding_raised", "enabled": True},
        {"kind": "certificate_expiring", "enabled": False},
    ],
    "always_sent": ["invitation", "password_reset", "new_login"],
}


class KindChoice(BaseModel):
    kind: NotificationKind
    enabled: bool


class NotificationPreferencesPublic(BaseModel):
    """Which notifications are sent, and in which language."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    language: Literal["en", "de"] | None = Field(
        description="The language of the e-mails (English when not chosen);"
        " always null for the tenant's defaults"
    )
    kinds: list[KindChoice] = Field(
        description="Every kind that may be switched off, with its state"
    )
    always_sent: list[NotificationKind] = Field(
        description="Security messages, which cannot be switched off"
    )


class PreferencesChange(StrictBody):
    """Kinds to switch on or off (others keep their state), and the language."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"kinds": {"certificate_expiring": False}, "language": "de"}]
        }
    )

    kinds: dict[str, bool] = Field(default_factory=dict, max_length=64)
    language: Literal["en", "de"] | None = None


class DefaultsChange(StrictBody):
    """Kinds to switch on or off by default for the tenant."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"kinds": {"team_assigned": False}}]}
    )

    kinds: dict[str, bool] = Field(default_factory=dict, max_length=64)


def preferences_public(preferences: Preferences) -> NotificationPreferencesPublic:
    """The answer for ``preferences``."""
    language = preferences.language
    return NotificationPreferencesPublic(
        language="de" if language == "de" else "en" if language == "en" else None,
        kinds=[KindChoice(kind=k, enabled=v) for k, v in preferences.kinds.items()],
        always_sent=[k for k in NotificationKind if not k.optional],
    )


@router.put(
    "/me/notification-preferences", response_model=NotificationPreferencesPublic
)
def change_my_preferences(
    body: PreferencesChange, ctx: Self, svc: NotificationPreferencesServiceDep
) -> NotificationPreferencesPublic:
    """Switch notification kinds on or off for yourself and choose the
    language of your e-mails. Security messages cannot be switched off."""
    return preferences_public(svc.change_mine(ctx, body.kinds, body.language))


@router.put(
    "/notification-preferences/defaults", response_model=NotificationPreferencesPublic
)
def change_default_preferences(
    body: DefaultsChange, ctx: Admin, svc: NotificationPreferencesServiceDep
) -> NotificationPreferencesPublic:
    """Set which kinds the tenant's people receive unless they chose
    otherwise (tenant administrators)."""
    return preferences_public(svc.change_defaults(ctx, body.kinds))
