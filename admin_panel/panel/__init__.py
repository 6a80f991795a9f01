"""Every Flask-Admin view, registered in menu order."""

from __future__ import annotations

import warnings

from admin_panel.panel.analytics import AnalyticsView
from admin_panel.panel.bookings import BookingView
from admin_panel.panel.broadcasts import BroadcastView
from admin_panel.panel.catalogue import EnrollmentView, PlatformView, TaskView
from admin_panel.panel.mentors import MentorsView, MyProfileView
from admin_panel.panel.owner import AdminAccountsView, AuditView, ReportsView, SettingsView
from admin_panel.panel.students import StudentView
from admin_panel.panel.topups import TopupView
from admin_panel.panel.transactions import TransactionView
from core.models import Admin, AuditLog, Enrollment, MentorshipBooking, Platform, Task, Transaction, User


def register_views(admin, panel) -> None:
    # Flask-Admin 2.2 prefers a Flask-SQLAlchemy object; a scoped session is still supported and
    # keeps the panel free of Flask-SQLAlchemy's own engine management.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Passing a session object directly", DeprecationWarning)
        _register(admin, panel)


def _register(admin, panel) -> None:
    s = panel.scoped
    admin.add_view(TopupView(Transaction, s, name="Top-ups", endpoint="topups", url="topups", category="Money"))
    admin.add_view(
        TransactionView(
            Transaction, s, name="Transactions", endpoint="transactions", url="transactions", category="Money"
        )
    )
    admin.add_view(StudentView(User, s, name="Students", endpoint="students", url="students", category="Money"))
    from admin_panel.panel.transfers import TransfersView

    admin.add_view(
        TransfersView(name="Vodafone Cash transfers", endpoint="transfers", url="transfers", category="Money")
    )
    admin.add_view(
        BookingView(MentorshipBooking, s, name="Bookings", endpoint="bookings", url="bookings", category="Mentorship")
    )
    admin.add_view(MentorsView(name="Mentors", endpoint="mentors", url="mentors", category="Mentorship"))
    admin.add_view(
        MyProfileView(name="My mentor profile", endpoint="my_profile", url="my-profile", category="Mentorship")
    )
    admin.add_view(
        PlatformView(Platform, s, name="Platforms", endpoint="platforms", url="platforms", category="Catalogue")
    )
    admin.add_view(TaskView(Task, s, name="Tasks", endpoint="tasks", url="tasks", category="Catalogue"))
    admin.add_view(
        EnrollmentView(
            Enrollment, s, name="Enrollments", endpoint="enrollments", url="enrollments", category="Catalogue"
        )
    )
    admin.add_view(AnalyticsView(name="Analytics", endpoint="analytics", url="analytics"))
    admin.add_view(ReportsView(name="Reports", endpoint="reports", url="reports"))
    admin.add_view(BroadcastView(name="Broadcasts", endpoint="broadcasts", url="broadcasts", category="Owner"))
    admin.add_view(SettingsView(name="Settings", endpoint="settings", url="settings", category="Owner"))
    admin.add_view(AuditView(AuditLog, s, name="Audit log", endpoint="audit", url="audit", category="Owner"))
    admin.add_view(
        AdminAccountsView(Admin, s, name="Panel accounts", endpoint="accounts", url="accounts", category="Owner")
    )
    from admin_panel.panel.account import AccountView
    from admin_panel.panel.api_tokens import ApiTokensView

    admin.add_view(ApiTokensView(name="API tokens", endpoint="api_tokens", url="api-tokens", category="Owner"))
    admin.add_view(AccountView(name="My password", endpoint="account", url="account"))
