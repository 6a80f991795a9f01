"""Every Flask-Admin view, registered in menu order."""

from __future__ import annotations

import warnings

from flask_babel import lazy_gettext as _l

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
    admin.add_view(TopupView(Transaction, s, name=_l("Top-ups"), endpoint="topups", url="topups", category=_l("Money")))
    admin.add_view(
        TransactionView(
            Transaction, s, name=_l("Transactions"), endpoint="transactions", url="transactions", category=_l("Money")
        )
    )
    admin.add_view(StudentView(User, s, name=_l("Students"), endpoint="students", url="students", category=_l("Money")))
    from admin_panel.panel.transfers import TransfersView

    admin.add_view(
        TransfersView(name=_l("Vodafone Cash transfers"), endpoint="transfers", url="transfers", category=_l("Money"))
    )
    admin.add_view(
        BookingView(
            MentorshipBooking, s, name=_l("Bookings"), endpoint="bookings", url="bookings", category=_l("Mentorship")
        )
    )
    admin.add_view(MentorsView(name=_l("Mentors"), endpoint="mentors", url="mentors", category=_l("Mentorship")))
    admin.add_view(
        MyProfileView(name=_l("My mentor profile"), endpoint="my_profile", url="my-profile", category=_l("Mentorship"))
    )
    admin.add_view(
        PlatformView(Platform, s, name=_l("Platforms"), endpoint="platforms", url="platforms", category=_l("Catalogue"))
    )
    admin.add_view(TaskView(Task, s, name=_l("Tasks"), endpoint="tasks", url="tasks", category=_l("Catalogue")))
    admin.add_view(
        EnrollmentView(
            Enrollment, s, name=_l("Enrollments"), endpoint="enrollments", url="enrollments", category=_l("Catalogue")
        )
    )
    admin.add_view(AnalyticsView(name=_l("Analytics"), endpoint="analytics", url="analytics"))
    admin.add_view(ReportsView(name=_l("Reports"), endpoint="reports", url="reports"))
    admin.add_view(BroadcastView(name=_l("Broadcasts"), endpoint="broadcasts", url="broadcasts", category=_l("Owner")))
    admin.add_view(SettingsView(name=_l("Settings"), endpoint="settings", url="settings", category=_l("Owner")))
    admin.add_view(AuditView(AuditLog, s, name=_l("Audit log"), endpoint="audit", url="audit", category=_l("Owner")))
    admin.add_view(
        AdminAccountsView(
            Admin, s, name=_l("Panel accounts"), endpoint="accounts", url="accounts", category=_l("Owner")
        )
    )
    from admin_panel.panel.account import AccountView
    from admin_panel.panel.api_tokens import ApiTokensView

    admin.add_view(ApiTokensView(name=_l("API tokens"), endpoint="api_tokens", url="api-tokens", category=_l("Owner")))
    admin.add_view(AccountView(name=_l("My profile"), endpoint="account", url="account"))
