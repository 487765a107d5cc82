"""Wire models of the identity API (login, accounts, MFA, API tokens)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from commands.http.schemas import StrictBody
from commands.http.text import Secret, Text
from domain.principal import Role

_TENANT = r"^[a-z0-9][a-z0-9-]{2,39}$"
_EMAIL_MAX = 254
_SECRET_MAX = 512
_CODE = Field(
    min_length=6,
    max_length=16,
    description="The six digits your authenticator app shows",
    examples=["492039"],
)


class LoginCreate(StrictBody):
    """Body of ``POST /auth/login``."""

    tenant: Text = Field(pattern=_TENANT, examples=["acme-cert"])
    email: Text = Field(min_length=3, max_length=_EMAIL_MAX, examples=["ada@acme.test"])
    password: Secret = Field(min_length=1, max_length=_SECRET_MAX)


class MfaLoginCreate(StrictBody):
    """Body of ``POST /auth/login/mfa``: the second step, with a TOTP code or
    one of the recovery codes (exactly one of the two)."""

    mfa_token: Secret = Field(
        min_length=10, max_length=_SECRET_MAX, examples=["ah_mfa_Jd8w...q1"]
    )
    code: Secret | None = Field(
        default=None, min_length=6, max_length=16, examples=["492039"]
    )
    recovery_code: Secret | None = Field(
        default=None, min_length=16, max_length=32, examples=["7K3M-Q9TX-2B8D-WJ4P"]
    )

    @model_validator(mode="after")
    def _one_factor(self) -> MfaLoginCreate:
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send exactly one of code and recovery_code")
        return self


class RefreshCreate(StrictBody):
    """Body of ``POST /auth/refresh``."""

    refresh_token: Secret = Field(
        min_length=10, max_length=_SECRET_MAX, examples=["ah_rt_5q0V...Xk"]
    )


class TokenPairPublic(BaseModel):
    """A login session's tokens. The refresh token is single-use: each refresh
    returns a new one, and presenting a used one ends the session."""

    status: Literal["authenticated"] = "authenticated"
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name
    expires_in: int = Field(description="Seconds the access token is valid")
    refresh_token: str
    refresh_expires_in: int
    mfa_enrollment_required: bool = Field(
        description="The tenant requires MFA: enroll (POST /me/mfa/totp) before "
        "anything else"
    )


class MfaChallengePublic(BaseModel):
    """The password was right and the account has MFA: send a code with this
    token to ``POST /auth/login/mfa``."""

    status: Literal["mfa_required"] = "mfa_required"
    mfa_token: str
    expires_in: int


class InvitationAccept(StrictBody):
    """Body of ``POST /auth/invitations/accept``."""

    token: Secret = Field(
        min_length=10,
        max_length=_SECRET_MAX,
        description="The token from the invitation e-mail",
        examples=["ah_inv_Wm3...Q"],
    )
    password: Secret = Field(
        min_length=1,
        max_length=_SECRET_MAX,
        description="At least 12 characters; common passwords are refused",
    )


class PasswordResetCreate(StrictBody):
    """Body of ``POST /auth/password-resets``."""

    tenant: Text = Field(pattern=_TENANT, examples=["acme-cert"])
    email: Text = Field(min_length=3, max_length=_EMAIL_MAX, examples=["ada@acme.test"])


class PasswordResetConfirm(StrictBody):
    """Body of ``POST /auth/password-resets/confirm``."""

    token: Secret = Field(
        min_length=10,
        max_length=_SECRET_MAX,
        description="The token from the reset e-mail",
        examples=["ah_reset_c2V...Z"],
    )
    new_password: Secret = Field(
        min_length=1, max_length=_SECRET_MAX, examples=["correct horse battery staple"]
    )


class PasswordChange(StrictBody):
    """Body of ``POST /me/password``."""

    current_password: Secret = Field(min_length=1, max_length=_SECRET_MAX)
    new_password: Secret = Field(
        min_length=1, max_length=_SECRET_MAX, examples=["correct horse battery staple"]
    )


class CodeConfirm(StrictBody):
    """A TOTP code (``POST /me/mfa/totp/confirm``, ``/me/mfa/recovery-codes``)."""

    code: Secret = _CODE


class EnrollmentPublic(BaseModel):
    """A TOTP secret to add to an authenticator app: scan ``qr_svg`` (or the
    PNG) or type ``secret``, then confirm with the first code it shows."""

    secret: str
    provisioning_uri: str
    qr_svg: str
    qr_png_base64: str


class RecoveryCodesPublic(BaseModel):
    """Shown once: each code logs in once instead of a TOTP code."""

    recovery_codes: list[str]


class AdministratorCreate(StrictBody):
    email: Text = Field(min_length=3, max_length=_EMAIL_MAX, examples=["ada@acme.test"])
    name: Text = Field(min_length=1, max_length=200, examples=["Ada Admin"])


class TenantCreate(StrictBody):
    """Body of ``POST /platform/tenants``."""

    tenant_id: Text = Field(pattern=_TENANT, examples=["acme-cert"])
    name: Text = Field(min_length=1, max_length=200, examples=["Acme Certification"])
    administrator: AdministratorCreate


class TenantCreated(BaseModel):
    tenant_id: str
    administrator_id: UUID
    position: int
    certificate_code: str = Field(
        description="Prefix of the tenant's certificate numbers, unique across "
        "the platform",
        examples=["ACMECERT"],
    )


class InvitationCreate(StrictBody):
    """Body of ``POST /users/invitations``."""

    email: Text = Field(min_length=3, max_length=_EMAIL_MAX, examples=["rui@acme.test"])
    name: Text = Field(min_length=1, max_length=200, examples=["Rui Reviewer"])
    roles: list[Role] = Field(min_length=1, max_length=10, examples=[["auditor"]])
    organization_ids: list[UUID] = Field(
        default_factory=list,
        max_length=100,
        description="Client roles only: the organizations the user belongs to",
    )


class RolesChange(StrictBody):
    """Body of ``POST /users/{id}/roles``: the account's roles from now on."""

    roles: list[Role] = Field(
        min_length=1, max_length=10, examples=[["auditor", "technical_reviewer"]]
    )
    organization_ids: list[UUID] = Field(default_factory=list, max_length=100)


class LegalHoldSet(StrictBody):
    """Body of ``PUT /users/{id}/legal-hold``."""

    reason: Text = Field(
        min_length=1,
        max_length=500,
        description="The matter the data is held for; name no person here "
        "(the reason is not erased with the person).",
        examples=["Dispute 2026-114 with the accreditation body"],
    )


class MfaPolicySet(StrictBody):
    """Body of ``POST /tenant/settings/mfa-policy``."""

    required_for_all: bool = Field(examples=[False])
    required_roles: list[Role] = Field(
        default_factory=list, max_length=10, examples=[["tenant_admin"]]
    )


class ApiTokenCreate(StrictBody):
    """Body of ``POST /api-tokens``."""

    name: Text = Field(min_length=1, max_length=100, examples=["ERP certificate sync"])
    roles: list[Role] = Field(
        min_length=1, max_length=10, examples=[["compliance_officer"]]
    )
    scopes: list[Text] = Field(
        default_factory=list,
        max_length=50,
        description="Permissions the token is limited to (empty: all its roles allow)",
        examples=[["certificate:read"]],
    )
    expires_in_days: int | None = Field(default=90, ge=1, le=730)


class ApiTokenIssued(BaseModel):
    """Shown once: store ``token`` now; only its digest is kept."""

    id: UUID
    token: str
    version: int
    position: int
