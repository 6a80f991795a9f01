"""Every Flask-Admin view, registered in menu order."""
from __future__ import annotations

from core.models import MentorshipBooking, Transaction, User


def register_views(admin, panel) -> None:
    from admin_panel.views.bookings import BookingView
    from admin_panel.views.students import StudentView
    from admin_panel.views.topups import TopupView
    from admin_panel.views.transactions import TransactionView

    s = panel.scoped
    admin.add_view(TopupView(Transaction, s, name="Top-ups", endpoint="topups", url="/topups",
                             category="Money"))
    admin.add_view(TransactionView(Transaction, s, name="Transactions", endpoint="transactions",
                                   url="/transactions", category="Money"))
    admin.add_view(StudentView(User, s, name="Students", endpoint="students", url="/students",
                               category="Money"))
    admin.add_view(BookingView(MentorshipBooking, s, name="Bookings", endpoint="bookings", url="/bookings",
                               category="Mentorship"))
    _optional(admin, panel)


def _optional(admin, panel) -> None:
    """Views added in later steps."""
    try:
        from admin_panel.views import more
    except ImportError:
        return
    more.register(admin, panel)
