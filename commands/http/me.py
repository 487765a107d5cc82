"""Commands on the caller's own account: password and second factor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from commands.context import CommandContext
from commands.http.deps import AccountServiceDep, MfaServiceDep
from commands.http.edge import context_for
from commands.http.identity_schemas import (
    CodeConfirm,
    EnrollmentPublic,
    PasswordChange,
    RecoveryCodesPublic,
)
from commands.identity.accounts import ChangePassword
from domain.access import Permission

router = APIRouter(prefix="/me", tags=["my account"])

Self = Annotated[
    CommandContext, Depends(context_for(Permission.SELF_SERVICE, idempotent=False))
]
NO_STORE = "no-store"


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def change_password(
    body: PasswordChange, ctx: Self, svc: AccountServiceDep
) -> Response:
    """Change your password. Every session ends, this one too: log in again."""
    svc.change_password(ctx, ChangePassword(body.current_password, body.new_password))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/mfa/totp", response_model=EnrollmentPublic)
def start_enrollment(
    ctx: Self, svc: MfaServiceDep, response: Response
) -> EnrollmentPublic:
    """Start enrolling an authenticator app: a new secret, its provisioning
    URI and QR code. Nothing changes until ``/me/mfa/totp/confirm`` gets a
    valid first code; starting again replaces the secret."""
    enrollment = svc.start_enrollment(ctx)
    response.headers["Cache-Control"] = NO_STORE
    return EnrollmentPublic(
        secret=enrollment.secret,
        provisioning_uri=enrollment.provisioning_uri,
        qr_svg=enrollment.qr_svg,
        qr_png_base64=enrollment.qr_png_base64,
    )


@router.post("/mfa/totp/confirm", response_model=RecoveryCodesPublic)
def confirm_enrollment(
    body: CodeConfirm, ctx: Self, svc: MfaServiceDep, response: Response
) -> RecoveryCodesPublic:
    """Confirm the enrollment with the app's first code. Answers ten
    recovery codes, shown this once; from now on login asks for a code."""
    issued = svc.confirm_enrollment(ctx, body.code)
    response.headers["Cache-Control"] = NO_STORE
    return RecoveryCodesPublic(recovery_codes=list(issued.recovery_codes))


@router.post("/mfa/recovery-codes", response_model=RecoveryCodesPublic)
def regenerate_recovery_codes(
    body: CodeConfirm, ctx: Self, svc: MfaServiceDep, response: Response
) -> RecoveryCodesPublic:
    """Replace the recovery codes (a current TOTP code is required); the old
    ones stop working."""
    issued = svc.regenerate_recovery_codes(ctx, body.code)
    response.headers["Cache-Control"] = NO_STORE
    return RecoveryCodesPublic(recovery_codes=list(issued.recovery_codes))
