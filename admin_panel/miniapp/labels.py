"""The Mini App pages' labels, from the one catalog of the students' words (core.words): rendered by Jinja and
handed to the page scripts as a JSON data block. Status and transaction type names come from core.words.labels,
as the bot's do."""

from __future__ import annotations

from functools import lru_cache

from core.words import N_, gettext_for
from core.words.labels import STATUS_NAMES, TYPE_NAMES

LABELS = {
    "app_title": N_("CodeHub"),
    "balance": N_("Balance"),
    "wallet": N_("Wallet"),
    "platforms": N_("Platforms"),
    "mentorship": N_("Mentorship"),
    "book": N_("Book a session"),
    "top_up": N_("Top up"),
    "topup_intro": N_(
        "Send the money by Vodafone Cash to this number, then tell us the amount and the number you sent from. "
        "An admin checks it and your balance is credited."
    ),
    "receiving_number": N_("Send to"),
    "copy": N_("Copy"),
    "copied": N_("Copied"),
    "amount": N_("Amount (EGP)"),
    "amount_label": N_("Amount"),
    "details": N_("For"),
    "note_label": N_("Your note"),
    "reference_label": N_("Transaction number"),
    "sender_number": N_("Your Vodafone Cash number"),
    "note": N_("Note (optional)"),
    "send_request": N_("Send request"),
    "request_sent": N_("Request sent. We will tell you when it is approved."),
    "transaction_number": N_("Transaction number (optional)"),
    "transaction_number_hint": N_(
        "The number in the SMS you got after sending (رقم العملية), like 022768543034. "
        "It lets us find your transfer at once."
    ),
    "topup_approved": N_("Your transfer was found: your balance is credited."),
    "pending_requests": N_("Pending requests"),
    "none": N_("Nothing yet."),
    "history": N_("History"),
    "all_types": N_("All types"),
    "any_status": N_("Any status"),
    "month": N_("Month"),
    "any_month": N_("Any month"),
    "no_match": N_("No transactions match these filters."),
    "receipt": N_("Receipt"),
    "share": N_("Share"),
    "receipt_copied": N_("Receipt copied: paste it in a chat to share it."),
    "type": N_("Type"),
    "status": N_("Status"),
    "date": N_("Date"),
    "reference": N_("Reference"),
    "balance_after": N_("Balance after"),
    "from_number": N_("From number"),
    "admin_notes": N_("Admin notes"),
    "decided_at": N_("Decided"),
    "close": N_("Close"),
    "more": N_("Load more"),
    "loading": N_("Loading…"),
    "offline": N_("No connection. Check your internet and try again."),
    "failed": N_("Something went wrong on our side. Please try again."),
    "retry": N_("Retry"),
    "price": N_("Price"),
    "free": N_("Free"),
    "enrolled": N_("Enrolled"),
    "expired": N_("Expired"),
    "expires": N_("Expires"),
    "forever": N_("No expiry"),
    "access": N_("Access"),
    "access_days": N_("{days} days of access"),
    "lifetime_access": N_("Lifetime access"),
    "tasks": N_("Tasks"),
    "enroll": N_("Enroll"),
    "renew": N_("Renew"),
    "confirm_enroll": N_("Confirm enrollment"),
    "balance_now": N_("Balance now"),
    "confirm": N_("Confirm"),
    "cancel": N_("Cancel"),
    "done": N_("Done"),
    "mark_done": N_("Mark done"),
    "progress": N_("Progress"),
    "enrolled_ok": N_("Enrolled. Your tasks are open."),
    "mentors": N_("Mentors"),
    "per_hour": N_("per hour"),
    "unavailable": N_("Not available now"),
    "durations": N_("Durations and prices"),
    "minutes": N_("min"),
    "my_bookings": N_("My bookings"),
    "mentor": N_("Mentor"),
    "duration": N_("Duration"),
    "notes": N_("Notes for the mentor (optional)"),
    "cost": N_("Cost"),
    "booked_ok": N_("Booked and paid. An admin will confirm the time."),
    "booked_slot_ok": N_("Booked and paid. The mentor will confirm the time."),
    "booked_confirmed_ok": N_("Booked, paid and confirmed."),
    "confirm_booking": N_("Confirm booking"),
    "short_by": N_("Not enough balance: you need {amount} more."),
    "top_up_difference": N_("Top up the difference"),
    "pick_duration": N_("Choose a duration."),
    "pick_time": N_("Choose a time (Cairo)"),
    "pick_slot": N_("Choose a free time."),
    "no_free_slots": N_("No free times on these days. Try later days."),
    "earlier_days": N_("Earlier days"),
    "later_days": N_("Later days"),
    "when": N_("When"),
    "time_by_admin": N_("An admin sets the time after booking"),
    "policy": N_("Cancellation policy"),
    "change_time": N_("Change time"),
    "move_to": N_("Move to"),
    "confirm_move": N_("Ask to move the session"),
    "move_asked": N_("Asked. The mentor will confirm the new time."),
    "moved_ok": N_("Moved to the new time."),
    "move_waiting": N_("Asked to move to"),
    "refund_now": N_("If you cancel now, {amount} comes back."),
    "meeting_link": N_("Meeting link"),
    "add_to_calendar": N_("Add to calendar"),
    "google_calendar": N_("Google Calendar"),
    "cancel_booking": N_("Cancel booking"),
    "cancelled_ok": N_("Cancelled. {amount} came back to your balance."),
    "cancelled_nothing": N_("Cancelled. Under the cancellation policy nothing came back."),
    "confirm_cancel": N_("Cancel this booking?"),
    "rate": N_("Rate"),
    "rating": N_("Rating"),
    "feedback": N_("Feedback"),
    "send": N_("Send"),
    "rated_ok": N_("Thank you for your feedback."),
    "session_date": N_("Session"),
    "not_scheduled": N_("Time not set yet"),
    "back": N_("Back"),
    "open_in_telegram": N_("Open this page from the CodeHub bot in Telegram."),
    "currency": N_("EGP"),
}


@lru_cache(maxsize=4)
def labels(language: str) -> dict[str, str]:
    """Every label in `language` (en or ar), the status and type names included under their enum names."""
    _ = gettext_for(language)
    return {
        **{key: _(msgid) for key, msgid in LABELS.items()},
        **{name: _(msgid) for name, msgid in (STATUS_NAMES | TYPE_NAMES).items()},
    }


class Words:
    """The labels for a template: `t.copy` is the word "Copy", never a dict's method (a template reading
    `t.copy` off a dict rendered `<built-in method copy of dict object at 0x…>`). Only the labels are reachable,
    as attributes or items; a missing one is Jinja's undefined."""

    __slots__ = ("_words",)

    def __init__(self, words: dict[str, str]):
        self._words = words

    def __getattr__(self, name: str) -> str:
        try:
            return self._words[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> str:
        return self._words[name]


@lru_cache(maxsize=4)
def words(language: str) -> Words:
    return Words(labels(language))
