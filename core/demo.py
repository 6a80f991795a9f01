"""Demo data for trying the panel and the bot: platforms with tasks, mentors, students with history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.models import Platform, Task, User
from core.services import availability, enrollment, mentorship, students, topups
from core.services.common import Actor
from core.timeutil import utcnow

PLATFORMS = [
    (
        "Python Foundations",
        "Variables to functions, with daily exercises.",
        None,
        None,
        ["Install Python", "Variables and types", "Control flow", "Functions", "Lists and dicts"],
    ),
    (
        "Web Development with Flask",
        "Build and deploy a real web app.",
        Decimal("250.00"),
        90,
        ["Routing", "Templates", "Forms", "Databases", "Deployment"],
    ),
    (
        "Data Structures & Algorithms",
        "Interview-grade problem solving.",
        Decimal("400.00"),
        180,
        ["Big-O", "Arrays", "Linked lists", "Trees", "Graphs", "Dynamic programming"],
    ),
    (
        "Telegram Bots with aiogram",
        "Bots that people love to use.",
        Decimal("150.00"),
        30,
        ["Hello bot", "Keyboards", "FSM", "Payments"],
    ),
]

STUDENTS = [
    (900000001, "Mariam Adel", "mariam_a", "ar"),
    (900000002, "Omar Hassan", "omarh", "en"),
    (900000003, "Youssef Ali", None, "ar"),
    (900000004, "Nour El-Din", "nour", "en"),
]


def seed_demo(session: Session) -> str:
    """Idempotent: running it twice does not duplicate anything."""
    if session.scalar(select(Platform).where(Platform.name == PLATFORMS[0][0])):
        return "demo data already present"
    admin = Actor(name="demo-seed")
    now = utcnow()
    with unit_of_work(session):
        for name, description, price, days, tasks in PLATFORMS:
            platform = Platform(name=name, description=description, price=price, access_days=days)
            platform.tasks = [
                Task(title=t, body=f"{t}: read the notes and do the exercise.", position=i)
                for i, t in enumerate(tasks, 1)
            ]
            session.add(platform)
    mentor = mentorship.create_mentor(
        session,
        "Ahmed (CodeHub founder)",
        actor=admin,
        bio="Full-stack engineer, 10 years of Python.",
        rate=Decimal("300.00"),
    )
    salma = mentorship.create_mentor(
        session, "Salma Farouk", actor=admin, bio="Data science and ML.", rate=Decimal("200.00")
    )
    # Salma is booked by slot (weekly hours, Cairo time); Ahmed keeps the flow where an admin sets each date
    evenings, saturday = [(16 * 60, 21 * 60)], [(10 * 60, 14 * 60)]
    week = {0: evenings, 1: evenings, 2: evenings, 3: evenings, 5: saturday, 6: evenings}
    availability.set_week(session, salma.id, week, actor=admin, now=now)
    availability.set_rules(
        session, salma.id, meeting_link="https://meet.google.com/codehub-salma", actor=admin, now=now
    )
    platforms = {p.name: p.id for p in session.scalars(select(Platform))}
    ids = []
    for tg, name, username, lang in STUDENTS:
        ids.append(
            students.register(
                session, tg, full_name=name, username=username, language=lang, now=now - timedelta(days=10)
            ).user.id
        )
    mariam, omar, youssef, nour = ids
    enrollment.enroll(
        session, mariam, platforms["Web Development with Flask"], idempotency_key="demo-1", now=now - timedelta(days=9)
    )
    enrollment.enroll(
        session, mariam, platforms["Python Foundations"], idempotency_key="demo-2", now=now - timedelta(days=9)
    )
    enrollment.enroll(
        session, omar, platforms["Data Structures & Algorithms"], idempotency_key="demo-3", now=now - timedelta(days=8)
    )
    for task in enrollment.platform_tasks(session, mariam, platforms["Python Foundations"])[:3]:
        enrollment.complete_task(session, mariam, task.id)
    t1 = topups.request_topup(
        session, omar, Decimal("300.00"), "01012345678", idempotency_key="demo-4", now=now - timedelta(days=7)
    )
    topups.approve(
        session,
        t1.transaction_id,
        actor=admin,
        now=now - timedelta(days=7),
        confirmed=True,
        reason="Transfer checked in the wallet app",
    )
    t2 = topups.request_topup(
        session, youssef, Decimal("1000.00"), "01112345678", idempotency_key="demo-5", now=now - timedelta(days=2)
    )
    topups.reject(
        session, t2.transaction_id, "No matching Vodafone Cash transfer found", actor=admin, now=now - timedelta(days=2)
    )
    topups.request_topup(
        session, youssef, Decimal("200.00"), "01112345678", idempotency_key="demo-6", now=now - timedelta(hours=3)
    )
    topups.request_topup(
        session, nour, Decimal("150.50"), "01212345678", idempotency_key="demo-7", now=now - timedelta(hours=1)
    )
    b1 = mentorship.book(
        session, omar, mentor.id, 60, "Help with graphs", idempotency_key="demo-8", now=now - timedelta(days=6)
    )
    mentorship.confirm(
        session,
        b1.booking.id,
        now - timedelta(days=3),
        "Google Meet link in chat",
        actor=admin,
        now=now - timedelta(days=5),
    )
    mentorship.complete(session, b1.booking.id, actor=admin, now=now - timedelta(days=2))
    mentorship.leave_feedback(session, b1.booking.id, omar, 5, "Very clear, thanks!", now=now - timedelta(days=2))
    mentorship.book(
        session,
        mariam,
        mentor.id,
        30,
        "Review my Flask project",
        idempotency_key="demo-9",
        now=now - timedelta(hours=5),
    )
    b3 = mentorship.book(session, nour, mentor.id, 30, None, idempotency_key="demo-10", now=now - timedelta(days=1))
    mentorship.cancel(
        session, b3.booking.id, "Mentor unavailable that week", actor=admin, now=now - timedelta(hours=20)
    )
    n_users = len(session.scalars(select(User)).all())
    return f"demo data created: {len(PLATFORMS)} platforms, 2 mentors, {len(STUDENTS)} students ({n_users} users)"
