"""Domain errors: each has a stable code that the bot and the panel translate."""

from __future__ import annotations


class DomainError(Exception):
    code = "DOMAIN_ERROR"
    http_status = 400

    def __init__(self, *args, **details):
        super().__init__(*args)
        self.details = details

    def __str__(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.details.items())
        base = super().__str__() or self.code
        return f"{base} ({extra})" if extra else base

    def to_dict(self) -> dict:
        return {"code": self.code, "message": str(self), **{k: str(v) for k, v in self.details.items()}}


class NotFound(DomainError):
    code = "NOT_FOUND"
    http_status = 404


class InvalidAmount(DomainError):
    code = "INVALID_AMOUNT"

    def __init__(self, reason: str = "NOT_A_NUMBER", **details):
        super().__init__(reason, reason=reason, **details)
        self.reason = reason


class BalanceLimit(DomainError):
    """A credit would take a wallet past the most it may hold."""

    code = "BALANCE_LIMIT"
    http_status = 409


class InvalidWalletNumber(DomainError):
    code = "INVALID_WALLET_NUMBER"


class InvalidInput(DomainError):
    code = "INVALID_INPUT"


class InvalidTransferReference(InvalidInput):
    """The optional Vodafone Cash transaction number a student typed is not one (6 to 20 digits)."""

    code = "INVALID_TRANSACTION_NUMBER"


class WeakPassword(InvalidInput):
    """A panel password that fails the strength rules (core.services.admins.check_password)."""

    code = "WEAK_PASSWORD"


class ReasonRequired(DomainError):
    code = "REASON_REQUIRED"


class InsufficientFunds(DomainError):
    code = "INSUFFICIENT_FUNDS"
    http_status = 409


class AlreadyProcessed(DomainError):
    code = "ALREADY_PROCESSED"
    http_status = 409


class TooManyPendingTopups(DomainError):
    code = "TOO_MANY_PENDING_TOPUPS"
    http_status = 429


class DailyTopupLimit(DomainError):
    code = "DAILY_TOPUP_LIMIT"
    http_status = 429


class UserBlocked(DomainError):
    code = "USER_BLOCKED"
    http_status = 403


class PlatformInactive(DomainError):
    code = "PLATFORM_INACTIVE"
    http_status = 409


class AlreadyEnrolled(DomainError):
    code = "ALREADY_ENROLLED"
    http_status = 409


class AccessDenied(DomainError):
    code = "ACCESS_DENIED"
    http_status = 403


class MentorUnavailable(DomainError):
    code = "MENTOR_UNAVAILABLE"
    http_status = 409


class InvalidDuration(DomainError):
    code = "INVALID_DURATION"


class SlotTaken(DomainError):
    """The slot was free when shown and is not now: another booking or hold overlaps it, or the day is full."""

    code = "SLOT_TAKEN"
    http_status = 409


class SessionOverlap(SlotTaken):
    """Confirming or re-dating would put the session on top of another live one of the mentor (details: booking)."""

    code = "SESSION_OVERLAP"


class SlotUnavailable(DomainError):
    """Not a slot of the mentor's: outside their hours, nearer than their notice or beyond their horizon."""

    code = "SLOT_UNAVAILABLE"
    http_status = 422


class RescheduleRefused(DomainError):
    """A move the policy does not allow: too late (details: hours) or moved as often as allowed (details: limit)."""

    code = "RESCHEDULE_REFUSED"
    http_status = 409


class RefundChanged(DomainError):
    """What a cancellation gives back is not what the student was shown (the session was dated or moved, or a
    bound of the policy passed meanwhile); details: old, new. Nothing was cancelled."""

    code = "REFUND_CHANGED"
    http_status = 409


class PriceChanged(DomainError):
    code = "PRICE_CHANGED"
    http_status = 409


class TooManyPendingBookings(DomainError):
    code = "TOO_MANY_PENDING_BOOKINGS"
    http_status = 429


class DateInPast(DomainError):
    code = "DATE_IN_PAST"


class DateTooFar(InvalidInput):
    """A session date further ahead than the max_session_days_ahead setting allows (details: days)."""

    code = "DATE_TOO_FAR"


class InvalidState(DomainError):
    """The booking or request is not in a state that allows this action."""

    code = "INVALID_STATE"
    http_status = 409


class NotOwner(DomainError):
    code = "NOT_OWNER"
    http_status = 403


class NotAMentor(DomainError):
    """A mentor panel account must point at a user who is a mentor."""

    code = "NOT_A_MENTOR"


class InvalidRating(DomainError):
    code = "INVALID_RATING"


class AlreadyRated(DomainError):
    code = "ALREADY_RATED"
    http_status = 409


class HasEnrollments(DomainError):
    code = "HAS_ENROLLMENTS"
    http_status = 409


class InvalidSetting(InvalidInput):
    code = "INVALID_SETTING"


class TransferAlreadyUsed(DomainError):
    """The Vodafone Cash transfer already settled another top-up."""

    code = "TRANSFER_USED"
    http_status = 409


class ConfirmationRequired(DomainError):
    """Approving without a matching transfer, or rejecting despite one, needs a confirmation and a reason."""

    code = "CONFIRMATION_REQUIRED"
    http_status = 409


class AuthFailed(DomainError):
    code = "AUTH_FAILED"
    http_status = 401


def _codes(cls: type[DomainError]) -> dict[str, type[DomainError]]:
    found = {cls.code: cls}
    for sub in cls.__subclasses__():
        found.update(_codes(sub))
    return found


# Every stable code, for the interfaces' translation tables: a code they map must be in here.
ERROR_CODES: frozenset[str] = frozenset(_codes(DomainError))
