"""Routes that let a person in: login (and its second step), refresh,
logout, accepting an invitation, resetting a password.

All but logout are public: they take a secret (a password, a one-time or
refresh token) instead of a caller. Their answers never say whether an
e-mail has an account.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Request, Response, status
from starlette.concurrency import run_in_threadpool

from commands.context import CommandContext
from commands.http.answer_floor import with_floor
from commands.http.deps import AccountServiceDep, SessionServiceDep
from commands.http.edge import (
    RequestId,
    TooManyRequestsError,
    context_for,
)
from commands.http.identity_schemas import (
    InvitationAccept,
    LoginCreate,
    MfaChallengePublic,
    MfaLoginCreate,
    PasswordResetConfirm,
    PasswordResetCreate,
    RefreshCreate,
    TokenPairPublic,
)
from commands.http.schemas import CommandAccepted
from commands.identity.accounts import AcceptInvitation, ResetPassword
from commands.identity.errors import LoginRefusedError
from commands.identity.sessions import (
    LoginAttempt,
    MfaAttempt,
    TokenPair,
)
from domain.access import Permission

router = APIRouter(prefix="/auth", tags=["authentication"])

PUBLIC = {"x-permission": "public"}
NO_STORE = "no-store"

Self = Annotated[
    CommandContext, Depends(context_for(Permission.SELF_SERVICE, idempotent=False))
]


class AttemptLimits(Protocol):
    """Counts anonymous attempts per address and subject (``app.state``)."""

    def retry_after(self, step: str, address: str, subject: str) -> int | None: ...


def client_address(request: Request) -> str:
    """The client's address as the server sees it (no proxy headers are
    trusted)."""
    return request.client.host if request.client else "unknown"


def limit_attempt(request: Request, step: str, subject: str) -> None:
    """Count an anonymous attempt; 429 past the limit."""
    limits: AttemptLimits = request.app.state.attempt_limits
    wait = limits.retry_after(step, client_address(request), subject)
    if wait is not None:
        raise TooManyRequestsError(wait)


def _pair(pair: TokenPair, response: Response) -> TokenPairPublic:
    response.headers["Cache-Control"] = NO_STORE
    return TokenPairPublic(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        refresh_expires_in=pair.refresh_expires_in,
        mfa_enrollment_required=pair.mfa_enrollment_required,
    )


@router.post(
    "/login",
    response_model=TokenPairPublic | MfaChallengePublic,
    openapi_extra=PUBLIC,
)
async def login(
    body: LoginCreate,
    request: Request,
    response: Response,
    svc: SessionServiceDep,
    rid: RequestId,
) -> TokenPairPublic | MfaChallengePublic:
    """Log in with the tenant, e-mail and password. Answers the session's
    tokens, or, for an account with MFA, a challenge to answer at
    ``POST /auth/login/mfa``. Any wrong detail is the same 401; repeated
    failures lock the account (and the address) for a growing time (429).
    A refusal takes at least half a second, whether or not the e-mail has an
    account."""
    attempt = LoginAttempt(
        body.tenant, body.email, body.password, client_address(request)
    )
    outcome = await with_floor(
        lambda: svc.login(attempt, rid),
        pad=lambda error: isinstance(error, LoginRefusedError),
    )
    if isinstance(outcome, TokenPair):
        return _pair(outcome, response)
    response.headers["Cache-Control"] = NO_STORE
    return MfaChallengePublic(
        mfa_token=outcome.mfa_token, expires_in=outcome.expires_in
    )


@router.post("/login/mfa", response_model=TokenPairPublic, openapi_extra=PUBLIC)
def login_mfa(
    body: MfaLoginCreate,
    request: Request,
    response: Response,
    svc: SessionServiceDep,
    rid: RequestId,
) -> TokenPairPublic:
    """The second login step: a TOTP code (each accepted once) or one of the
    recovery codes (each usable once)."""
    attempt = MfaAttempt(
        body.mfa_token, body.code, body.recovery_code, client_address(request)
    )
    return _pair(svc.verify_mfa(attempt, rid), response)


@router.post("/refresh", response_model=TokenPairPublic, openapi_extra=PUBLIC)
def refresh(
    body: RefreshCreate, response: Response, svc: SessionServiceDep, rid: RequestId
) -> TokenPairPublic:
    """Exchange the refresh token for a new pair. Each refresh token works
    once: presenting one that was already exchanged ends the session."""
    return _pair(svc.refresh(body.refresh_token, rid), response)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def logout(ctx: Self, svc: SessionServiceDep) -> Response:
    """End the caller's session now: its access and refresh tokens stop
    working on their next use."""
    svc.logout(ctx)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/invitations/accept", response_model=CommandAccepted, openapi_extra=PUBLIC
)
def accept_invitation(
    body: InvitationAccept, request: Request, svc: AccountServiceDep, rid: RequestId
) -> CommandAccepted:
    """Accept an invitation with the token from its e-mail and choose a
    password (at least 12 characters, not a common one); then log in."""
    limit_attempt(request, "invitation", body.token[-16:])
    accepted = svc.accept_invitation(AcceptInvitation(body.token, body.password), rid)
    return CommandAccepted(
        id=accepted.id, version=accepted.version, position=accepted.position
    )


@router.post(
    "/password-resets",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    openapi_extra=PUBLIC,
)
async def request_password_reset(
    body: PasswordResetCreate, request: Request, svc: AccountServiceDep, rid: RequestId
) -> Response:
    """Ask for a password-reset e-mail. Always 202, after at least half a
    second, whether or not the e-mail has an account."""
    subject = f"{body.tenant}:{body.email.lower()}"
    await run_in_threadpool(limit_attempt, request, "reset", subject)
    await with_floor(
        lambda: svc.request_password_reset(body.tenant, body.email, rid),
        pad=lambda error: error is None,
    )
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/password-resets/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    openapi_extra=PUBLIC,
)
def reset_password(
    body: PasswordResetConfirm, request: Request, svc: AccountServiceDep, rid: RequestId
) -> Response:
    """Set a new password with the token from the reset e-mail; every
    session of the account ends."""
    limit_attempt(request, "reset-confirm", body.token[-16:])
    svc.reset_password(ResetPassword(body.token, body.new_password), rid)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
