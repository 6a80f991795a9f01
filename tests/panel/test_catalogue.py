"""Platforms, tasks, enrollments and mentors: forms validate, deletion is guarded, changes are audited."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.models import Enrollment, Platform, Task, User
from tests.panel.helpers import flashes


def _platform(panel, name) -> Platform | None:
    with panel.session() as s:
        return s.scalar(select(Platform).where(Platform.name == name))


def _create(owner, **fields):
    data = {
        "csrf_token": owner.csrf,
        "name": "Rust Basics",
        "description": "Ownership and borrowing",
        "price": "199.50",
        "is_active": "y",
        "access_days": "60",
    }
    data.update(fields)
    return owner.post("/admin/platforms/new/", data=data, follow_redirects=True)


def test_create_and_edit_a_platform(panel, owner):
    r = _create(owner)
    assert r.status_code == 200
    p = _platform(panel, "Rust Basics")
    assert p.price == Decimal("199.50") and p.access_days == 60 and p.is_active
    assert "199.50 EGP" in owner.get("/admin/platforms/").text
    owner.post(
        f"/admin/platforms/edit/?id={p.id}",
        data={"csrf_token": owner.csrf, "name": "Rust Basics", "description": "x", "price": "", "access_days": ""},
    )
    p = _platform(panel, "Rust Basics")
    assert p.price is None and p.access_days is None and not p.is_active
    assert [a.action for a in panel.audits("platform.update")] == ["platform.update"]
    assert panel.audits("platform.create")


def test_platform_and_task_audit_rows_name_the_new_record(panel, owner):
    _create(owner, name="Go Basics")
    p = _platform(panel, "Go Basics")
    [created] = panel.audits("platform.create")
    assert created.entity_type == "platform" and created.entity_id == str(p.id)
    owner.post(
        "/admin/tasks/new/",
        data={
            "csrf_token": owner.csrf,
            "platform": str(p.id),
            "position": "1",
            "title": "Goroutines",
            "body": "go func()",
        },
        follow_redirects=True,
    )
    with panel.session() as s:
        task = s.scalar(select(Task).where(Task.title == "Goroutines"))
    [created] = panel.audits("task.create")
    assert created.entity_type == "task" and created.entity_id == str(task.id)


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"price": "-5"}, "Number must be between 0 and 100000.00"),
        ({"price": "1.999"}, "at most 2 decimal places"),
        ({"price": "abc"}, "Not a valid decimal value"),
        ({"access_days": "0"}, "Number must be between 1 and 3650"),
        ({"name": ""}, "This field is required"),
        ({"name": "n" * 300}, "Field cannot be longer than 120 characters"),
        ({"name": "Python Foundations"}, "Already exists"),
    ],
)
def test_platform_form_refuses_bad_input(panel, owner, fields, message):
    before = panel.count(Platform)
    r = _create(owner, **fields)
    assert r.status_code == 200
    assert message in r.text
    assert panel.count(Platform) == before


def test_platform_with_enrollments_cannot_be_deleted(panel, owner):
    p = _platform(panel, "Python Foundations")
    r = owner.post("/admin/platforms/delete/", data={"csrf_token": owner.csrf, "id": p.id}, follow_redirects=True)
    assert "cannot be deleted. Deactivate it instead" in flashes(r.text)
    assert _platform(panel, "Python Foundations") is not None


def test_platform_without_enrollments_is_deleted_and_audited(panel, owner):
    p = _platform(panel, "Telegram Bots with aiogram")
    owner.post("/admin/platforms/delete/", data={"csrf_token": owner.csrf, "id": p.id})
    assert _platform(panel, "Telegram Bots with aiogram") is None
    assert panel.audits("platform.delete")


def test_tasks_create_with_order(panel, owner):
    p = _platform(panel, "Python Foundations")
    r = owner.post(
        "/admin/tasks/new/",
        data={
            "csrf_token": owner.csrf,
            "platform": str(p.id),
            "position": "6",
            "title": "Classes",
            "body": "Write a class",
        },
        follow_redirects=True,
    )
    assert r.status_code == 200
    with panel.session() as s:
        task = s.scalar(select(Task).where(Task.title == "Classes"))
    assert task.platform_id == p.id and task.position == 6
    before = panel.count(Task)
    owner.post("/admin/tasks/new/", data={"csrf_token": owner.csrf, "platform": "", "position": "1", "title": "X"})
    owner.post(
        "/admin/tasks/new/", data={"csrf_token": owner.csrf, "platform": str(p.id), "position": "-3", "title": "Y"}
    )
    assert panel.count(Task) == before


def _enrollment(panel) -> Enrollment:
    with panel.session() as s:
        return s.scalar(select(Enrollment).where(Enrollment.expires_at.is_not(None)).limit(1))


def test_enrollment_deactivate_and_extend_actions(panel, owner):
    e = _enrollment(panel)
    r = owner.post(
        "/admin/enrollments/action/",
        data={"csrf_token": owner.csrf, "action": "deactivate", "rowid": [e.id]},
        follow_redirects=True,
    )
    assert "Deactivated 1 enrollment(s)." in flashes(r.text)
    with panel.session() as s:
        assert not s.get(Enrollment, e.id).is_active
    r = owner.post(
        "/admin/enrollments/action/",
        data={"csrf_token": owner.csrf, "action": "extend", "rowid": [e.id], "days": "30"},
        follow_redirects=True,
    )
    assert "Extended 1 enrollment(s) by 30 days." in flashes(r.text)
    with panel.session() as s:
        after = s.get(Enrollment, e.id)
        assert after.is_active and after.expires_at == e.expires_at + timedelta(days=30)
    assert panel.audits("enrollment.deactivate") and panel.audits("enrollment.extend")


@pytest.mark.parametrize(
    "days,message", [("", "Enter the number of days"), ("0", "between 1 and 3650"), ("abc", "Enter the number of days")]
)
def test_enrollment_extend_bad_days(panel, owner, days, message):
    e = _enrollment(panel)
    r = owner.post(
        "/admin/enrollments/action/",
        data={"csrf_token": owner.csrf, "action": "extend", "rowid": [e.id], "days": days},
        follow_redirects=True,
    )
    assert message in flashes(r.text)
    with panel.session() as s:
        assert s.get(Enrollment, e.id).expires_at == e.expires_at


def test_enrollments_filter_by_platform(panel, owner):
    html = owner.get("/admin/enrollments/?flt0_platform_equals=Python Foundations").text
    assert "Mariam Adel" in html and "Omar Hassan" not in html


def test_make_a_student_a_mentor_and_edit(panel, owner):
    with panel.session() as s:
        nour = s.scalar(select(User).where(User.full_name == "Nour El-Din"))
    r = owner.post(
        "/admin/mentors/make",
        data={"csrf_token": owner.csrf, "user_id": nour.id, "rate": "120", "bio": "Frontend", "available": "on"},
        follow_redirects=True,
    )
    assert "Mentor profile saved." in flashes(r.text)
    user = panel.user(nour.id)
    assert user.is_mentor and user.mentor_rate == Decimal("120.00") and user.mentor_bio == "Frontend"
    r = owner.post(
        f"/admin/mentors/{nour.id}/save",
        data={"csrf_token": owner.csrf, "rate": "-1", "bio": "x"},
        follow_redirects=True,
    )
    assert "Hourly rate must be above 0" in flashes(r.text)
    assert panel.user(nour.id).mentor_rate == Decimal("120.00")
    owner.post(f"/admin/mentors/{nour.id}/save", data={"csrf_token": owner.csrf, "rate": "130", "bio": "FE"})
    user = panel.user(nour.id)
    assert user.mentor_rate == Decimal("130.00") and not user.mentor_available
    assert (
        owner.post(
            "/admin/mentors/make", data={"csrf_token": owner.csrf, "user_id": "999999"}, follow_redirects=True
        ).status_code
        == 200
    )
    assert owner.post("/admin/mentors/make", data={"csrf_token": owner.csrf, "user_id": "x"}).status_code == 404


def test_mentor_edits_own_profile(panel, mentor):
    html = mentor.get("/admin/my-profile/").text
    assert "Ahmed (CodeHub founder)" in html
    mentor.post("/admin/my-profile/", data={"csrf_token": mentor.csrf, "bio": "New bio", "rate": "350"})
    user = panel.user(panel.founder_id)
    assert user.mentor_bio == "New bio" and user.mentor_rate == Decimal("350.00") and not user.mentor_available
