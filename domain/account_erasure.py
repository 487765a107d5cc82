"""Erasure and legal hold of an account (a person).

Erasing destroys the person's data key (the store does it in the erasure's
transaction), so every personal field the account's events hold reads
``[erased]`` from then on; the aggregate itself forgets the e-mail and name
and stops the account. A legal hold, set and cleared by tenant
administrators, refuses the erasure while it stands. Mixed into
:class:`domain.account.Account`, which defines the events triggered here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from domain.errors import RuleViolationError
from domain.events import EventMeta
from domain.values import bounded_text

if TYPE_CHECKING:
    from domain.account import Account

HOLD_REASON_MAX = 500


class ErasureCommands:
    """Commands that set and clear a legal hold, and erase the person."""

    if TYPE_CHECKING:
        # The events, defined on Account so that their topics stay
        # domain.account:Account.<Name>; declared for mypy only.
        LegalHoldSet: ClassVar[type[Account.LegalHoldSet]]
        LegalHoldCleared: ClassVar[type[Account.LegalHoldCleared]]
        Erased: ClassVar[type[Account.Erased]]
        id: UUID
        legal_hold: str | None
        erased: bool

        def trigger_event(self, event_class: type, **kwargs: object) -> None: ...

    def _refuse_erased(self, action: str) -> None:
        if self.erased:
            raise RuleViolationError(
                "account.erased", f"account {self.id} was erased; cannot {action}"
            )

    def set_legal_hold(self, meta: EventMeta, reason: str) -> None:
        """Keep the person's data until the hold is cleared (a dispute, an
        investigation): an erasure is refused meanwhile.

        Args:
            reason: Why, naming the matter and no person (it is not sealed).

        Raises:
            InvalidValueError: blank or over-long reason.
            RuleViolationError: ``account.erased``, ``account.legal_hold_set``.
        """
        self._refuse_erased("be put on legal hold")
        text = bounded_text(reason, "reason", HOLD_REASON_MAX)
        if self.legal_hold is not None:
            raise RuleViolationError(
                "account.legal_hold_set", f"account {self.id} is on legal hold already"
            )
        self.trigger_event(self.LegalHoldSet, meta=meta, reason=text)

    def clear_legal_hold(self, meta: EventMeta) -> None:
        """End the legal hold.

        Raises:
            RuleViolationError: ``account.no_legal_hold``.
        """
        if self.legal_hold is None:
            raise RuleViolationError(
                "account.no_legal_hold", f"account {self.id} is not on legal hold"
            )
        self.trigger_event(self.LegalHoldCleared, meta=meta)

    def erase(self, meta: EventMeta) -> None:
        """Forget the person: their key is destroyed with this event, the
        account is deactivated and its e-mail and name read ``[erased]``.

        Raises:
            RuleViolationError: ``account.legal_hold``, ``account.erased``,
                ``account.cannot_erase_self``.
        """
        self._refuse_erased("be erased again")
        if meta.actor_id == str(self.id):
            raise RuleViolationError(
                "account.cannot_erase_self", f"account {self.id} cannot erase itself"
            )
        if self.legal_hold is not None:
            raise RuleViolationError(
                "account.legal_hold",
                f"account {self.id} is on legal hold ({self.legal_hold}); "
                "clear the hold first",
            )
        self.trigger_event(self.Erased, meta=meta)
