"""Mentors (owner): make a student a mentor, edit bio, rate, availability; a mentor's own profile."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from admin_panel.panel.base import SecureView, fmt_money, parse_int
from admin_panel.web.context import actor, service_session
from admin_panel.web.errors import admin_message
from core.errors import DomainError
from core.models import AdminRole
from core.services import mentorship


def _save(user_id: int, *, make_mentor: bool = False) -> None:
    form = request.form
    rate = (form.get("rate") or "").strip() or None
    bio = form.get("bio")
    if bio is not None and len(bio) > 2000:
        flash(_("The bio is too long (at most 2000 characters); nothing was changed."), "error")
        return
    try:
        with service_session() as s:
            mentorship.update_mentor(
                s,
                user_id,
                actor=actor(),
                is_mentor=True if make_mentor else None,
                bio=bio,
                rate=rate,
                available=form.get("available") == "on",
            )
    except DomainError as err:
        flash(_("Not saved: %(problem)s", problem=admin_message(err)), "error")
    else:
        flash(_("Mentor profile saved."), "success")


class MentorsView(SecureView):
    roles = frozenset({AdminRole.OWNER})

    @expose("/")
    def index(self):
        with service_session() as s:
            mentors = mentorship.list_mentors(s)
            candidates = mentorship.mentor_candidates(s)
        return self.render("admin_panel/mentors.html", mentors=mentors, candidates=candidates, fmt_money=fmt_money)

    @expose("/<id>/save", methods=["POST"])
    def save(self, id):
        _save(parse_int(id))
        return redirect(url_for(".index"))

    @expose("/make", methods=["POST"])
    def make(self):
        user_id = parse_int(request.form.get("user_id"))
        _save(user_id, make_mentor=True)
        return redirect(url_for(".index"))

    @expose("/<id>/remove", methods=["POST"])
    def remove(self, id):
        try:
            with service_session() as s:
                mentorship.update_mentor(s, parse_int(id), actor=actor(), is_mentor=False)
        except DomainError as err:
            flash(admin_message(err), "error")
        else:
            flash(_("No longer a mentor (existing bookings are kept)."), "success")
        return redirect(url_for(".index"))


class MyProfileView(SecureView):
    """A mentor account edits its own mentor profile."""

    roles = frozenset({AdminRole.MENTOR})

    @expose("/", methods=["GET", "POST"])
    def index(self):
        user_id = current_user.mentor_user_id
        if not user_id:
            return self.render("admin_panel/my_profile.html", mentor=None, fmt_money=fmt_money)
        if request.method == "POST":
            _save(user_id)
            return redirect(url_for(".index"))
        with service_session() as s:
            try:
                mentor = mentorship.get_mentor(s, user_id)
            except DomainError:
                mentor = None
        return self.render("admin_panel/my_profile.html", mentor=mentor, fmt_money=fmt_money)
