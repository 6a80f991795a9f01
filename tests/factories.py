"""Test data, built in one place through the core services (never rows written past them), so a test says what
it starts from and a change to the product's demo data (core/demo.py) changes no test.

Builders make one thing each; `seed_school` is the small school the panel's, the admins' API's and the students'
API's tests start from; `seed_catalog` the smaller one of the bot's tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy.orm import Session

from core.db import Database, unit_of_work
from core.models import Platform, Task
from core.services import enrollment, mentorship, reconciliation, students, topups
from core.services.common import Actor
from core.timeutil import utcnow

SEED = Actor(name="test-seed")


# -- builders ------------------------------------------------------------------------------------------------------


def add_platform(
    session: Session,
    name: str,
    *,
    price: Decimal | None = None,
    access_days: int | None = None,
    tasks: list[str] | tuple[str, ...] = (),
    description: str = "",
    task_body: str = "{title}: read the notes and do the exercise.",  # may name {title} and {position}
) -> int:
    """A platform (free when `price` is None) with its tasks in order; its id."""
    with unit_of_work(session):
        platform = Platform(name=name, description=description, price=price, access_days=access_days)
        platform.tasks = [
            Task(title=t, body=task_body.format(title=t, position=i), position=i) for i, t in enumerate(tasks, 1)
        ]
        session.add(platform)
    return platform.id


def add_mentor(session: Session, name: str, *, rate: Decimal, bio: str = "") -> int:
    return mentorship.create_mentor(session, name, actor=SEED, bio=bio, rate=rate).id


def add_student(
    session: Session,
    telegram_id: int,
    name: str,
    *,
    username: str | None = None,
    language: str = "en",
    now: datetime | None = None,
) -> int:
    """A registered student (with the welcome credit); their user id."""
    return students.register(
        session, telegram_id, full_name=name, username=username, language=language, now=now
    ).user.id


def approved_topup(session: Session, user_id: int, amount: str, wallet: str, *, key: str, now: datetime) -> int:
    t = topups.request_topup(session, user_id, Decimal(amount), wallet, idempotency_key=key, now=now)
    topups.approve(
        session, t.transaction_id, actor=SEED, now=now, confirmed=True, reason="Transfer checked in the wallet app"
    )
    return t.transaction_id


def rejected_topup(
    session: Session, user_id: int, amount: str, wallet: str, reason: str, *, key: str, now: datetime
) -> int:
    t = topups.request_topup(session, user_id, Decimal(amount), wallet, idempotency_key=key, now=now)
    topups.reject(session, t.transaction_id, reason, actor=SEED, now=now)
    return t.transaction_id


def pending_topup(session: Session, user_id: int, amount: str, wallet: str, *, key: str, now: datetime) -> int:
    return topups.request_topup(session, user_id, Decimal(amount), wallet, idempotency_key=key, now=now).transaction_id


# -- the tests' school ---------------------------------------------------------------------------------------------

PLATFORMS = [  # name, description, price, access days, tasks
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
STUDENTS = [  # Telegram id, name, username, language
    (900000001, "Mariam Adel", "mariam_a", "ar"),
    (900000002, "Omar Hassan", "omarh", "en"),
    (900000003, "Youssef Ali", None, "ar"),
    (900000004, "Nour El-Din", "nour", "en"),
]


@dataclass(frozen=True)
class School:
    platforms: dict[str, int]
    students: dict[str, int]  # first name -> user id
    founder: int  # mentor ids
    other_mentor: int


def seed_school(session: Session, now: datetime | None = None) -> School:
    """Four platforms (one free), two mentors, four students with a history: Mariam enrolled in Flask and Python
    (3 tasks done) with a pending 30-min booking; Omar enrolled in DSA, a 300.00 top-up approved, a completed
    and rated 60-min session; Youssef a 1000.00 top-up rejected and 200.00 pending; Nour 150.50 pending and a
    cancelled booking."""
    now = now or utcnow()
    platforms = {
        name: add_platform(session, name, description=description, price=price, access_days=days, tasks=tasks)
        for name, description, price, days, tasks in PLATFORMS
    }
    founder = add_mentor(
        session, "Ahmed (CodeHub founder)", rate=Decimal("300.00"), bio="Full-stack engineer, 10 years of Python."
    )
    other = add_mentor(session, "Salma Farouk", rate=Decimal("200.00"), bio="Data science and ML.")
    ids = [
        add_student(session, tg, name, username=username, language=lang, now=now - timedelta(days=10))
        for tg, name, username, lang in STUDENTS
    ]
    mariam, omar, youssef, nour = ids
    day = timedelta(days=1)
    enrollment.enroll(
        session, mariam, platforms["Web Development with Flask"], idempotency_key="t-1", now=now - 9 * day
    )
    enrollment.enroll(session, mariam, platforms["Python Foundations"], idempotency_key="t-2", now=now - 9 * day)
    enrollment.enroll(
        session, omar, platforms["Data Structures & Algorithms"], idempotency_key="t-3", now=now - 8 * day
    )
    for task in enrollment.platform_tasks(session, mariam, platforms["Python Foundations"])[:3]:
        enrollment.complete_task(session, mariam, task.id)
    approved_topup(session, omar, "300.00", "01012345678", key="t-4", now=now - 7 * day)
    rejected_topup(
        session,
        youssef,
        "1000.00",
        "01112345678",
        "No matching Vodafone Cash transfer found",
        key="t-5",
        now=now - 2 * day,
    )
    pending_topup(session, youssef, "200.00", "01112345678", key="t-6", now=now - timedelta(hours=3))
    pending_topup(session, nour, "150.50", "01212345678", key="t-7", now=now - timedelta(hours=1))
    b1 = mentorship.book(session, omar, founder, 60, "Help with graphs", idempotency_key="t-8", now=now - 6 * day)
    mentorship.confirm(session, b1.booking.id, now - 3 * day, "Google Meet link in chat", actor=SEED, now=now - 5 * day)
    mentorship.complete(session, b1.booking.id, actor=SEED, now=now - 2 * day)
    mentorship.leave_feedback(session, b1.booking.id, omar, 5, "Very clear, thanks!", now=now - 2 * day)
    mentorship.book(
        session, mariam, founder, 30, "Review my Flask project", idempotency_key="t-9", now=now - timedelta(hours=5)
    )
    b3 = mentorship.book(session, nour, founder, 30, None, idempotency_key="t-10", now=now - day)
    mentorship.cancel(session, b3.booking.id, "Mentor unavailable that week", actor=SEED, now=now - timedelta(hours=20))
    names = [name.split()[0] for _tg, name, _u, _l in STUDENTS]
    return School(platforms, dict(zip(names, ids, strict=True)), founder, other)


def seed_catalog(db: Database) -> dict:
    """The bot's tests: two platforms (paid 250.00 with 3 tasks for 30 days, free with 2 tasks) and one mentor at
    300.00/h."""
    with db.session() as s:
        ids = {
            "paid": add_platform(
                s,
                "Web <Flask>",
                description="Build & deploy",
                price=Decimal("250.00"),
                access_days=30,
                tasks=[f"Step {i}" for i in (1, 2, 3)],
                task_body="Do step {position}",
            ),
            "free": add_platform(
                s, "Python Basics", description="Start here", tasks=[f"Basics {i}" for i in (1, 2)], task_body="Read"
            ),
        }
        ids["mentor"] = add_mentor(s, "Ahmed Mentor", bio="Python <expert>", rate=Decimal("300.00"))
    return ids


FEED_SMS = (
    "تم استلام مبلغ 1.00 جنيه من رقم 01599990000 المسجل باسم Nobody على رقم محفظتك 01099998888.\n"
    "رصيدك الحالي: 1.00 جنيه.\nرقم العملية: 022700000001"
)


def feed_a_transfer(session: Session) -> None:
    """Transfers are fed in from now on (topups.transfer_feed_in_use): one received transfer that pays for nobody's
    request (1.00 EGP from a number no student uses), as after the first forwarded SMS."""
    reconciliation.receive_sms(session, FEED_SMS, source="paste", received_at=utcnow() - timedelta(days=30))


# -- the analytics page's school (issue 22 #14) --------------------------------------------------------------------


def _complete_tasks(session: Session, uid: int, pid: int, when: datetime, first: int | None = None) -> None:
    for task in enrollment.platform_tasks(session, uid, pid, now=when)[:first]:
        enrollment.complete_task(session, uid, task.id, now=when)


def seed_metrics_school(session: Session, year: int = 2026) -> None:
    """Five students (each gets the 500.00 welcome credit), three paid platforms and a free one, two mentors, whose
    history from August to November of `year` gives round success metrics (tests/core/test_success_metrics.py):

    Aug: Amal registers (10th) and buys Flask 250.00 (15th).
    Sep: Badr registers (5th), buys Flask (10th), books 30 min with Mona (150.00, held on the 20th, rated 4);
         Eman registers (20th) and asks for a 1,000.00 top-up, rejected (25th).
    Oct: Amal tops up 500.00 (1st) and buys DSA 100.00 (12th); Celine registers (3rd), books 60 min (300.00, 5th),
         cancelled and refunded (6th), buys DSA (12th); Eman buys DSA at 00:30 Cairo time on 1 Nov.
    Nov: Dina registers (2nd), enrolls in the free Starter course and does its task, asks for a 100.00 top-up
         (left pending); Badr tops up 300.00 (5th); Celine buys Flask (8th); Amal books 60 min with Mona (10th,
         held on the 20th, rated 5) and 30 min with Sami (12th, pending).
    Tasks (21 Nov): Amal does all of Flask (bought in August) and of DSA; Badr all of Flask; Celine 1 of DSA's 2."""
    keys = (f"metrics-{year}-{n}" for n in range(1, 100))

    def on(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
        return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)

    mona = add_mentor(session, f"Mona {year}", rate=Decimal("300.00"))
    sami = add_mentor(session, f"Sami {year}", rate=Decimal("200.00"))
    flask = add_platform(session, f"Flask {year}", price=Decimal("250.00"), tasks=[f"Flask {i}" for i in range(4)])
    dsa = add_platform(session, f"DSA {year}", price=Decimal("100.00"), tasks=["Big-O", "Graphs"])
    free = add_platform(session, f"Starter {year}", tasks=["Hello"])
    add_platform(session, f"No tasks yet {year}", price=Decimal("50.00"))
    tg = 7_000_000 + year * 10
    amal = add_student(session, tg + 1, "Amal", now=on(8, 10))
    enrollment.enroll(session, amal, flask, idempotency_key=next(keys), now=on(8, 15))
    badr = add_student(session, tg + 2, "Badr", now=on(9, 5))
    enrollment.enroll(session, badr, flask, idempotency_key=next(keys), now=on(9, 10))
    b1 = mentorship.book(session, badr, mona, 30, None, idempotency_key=next(keys), now=on(9, 15)).booking
    mentorship.confirm(session, b1.id, on(9, 20), actor=SEED, now=on(9, 16))
    mentorship.complete(session, b1.id, actor=SEED, now=on(9, 20, 12))
    mentorship.leave_feedback(session, b1.id, badr, 4, "Clear", now=on(9, 20, 13))
    eman = add_student(session, tg + 5, "Eman", now=on(9, 20))
    rejected_topup(session, eman, "1000.00", "01012345678", "No transfer found", key=next(keys), now=on(9, 25))
    approved_topup(session, amal, "500.00", "01012345678", key=next(keys), now=on(10, 1))
    celine = add_student(session, tg + 3, "Celine", now=on(10, 3))
    b2 = mentorship.book(session, celine, mona, 60, None, idempotency_key=next(keys), now=on(10, 5)).booking
    mentorship.cancel(session, b2.id, "Mentor ill", actor=SEED, now=on(10, 6))
    enrollment.enroll(session, amal, dsa, idempotency_key=next(keys), now=on(10, 12))
    enrollment.enroll(session, celine, dsa, idempotency_key=next(keys), now=on(10, 12))
    enrollment.enroll(session, eman, dsa, idempotency_key=next(keys), now=on(10, 31, 22, 30))  # 1 Nov in Cairo
    dina = add_student(session, tg + 4, "Dina", now=on(11, 2))
    enrollment.enroll(session, dina, free, idempotency_key=next(keys), now=on(11, 2))
    _complete_tasks(session, dina, free, on(11, 2))
    approved_topup(session, badr, "300.00", "01012345678", key=next(keys), now=on(11, 5))
    enrollment.enroll(session, celine, flask, idempotency_key=next(keys), now=on(11, 8))
    b3 = mentorship.book(session, amal, mona, 60, None, idempotency_key=next(keys), now=on(11, 10)).booking
    mentorship.confirm(session, b3.id, on(11, 20), actor=SEED, now=on(11, 11))
    mentorship.complete(session, b3.id, actor=SEED, now=on(11, 20, 12))
    mentorship.leave_feedback(session, b3.id, amal, 5, "Great", now=on(11, 20, 13))
    mentorship.book(session, amal, sami, 30, None, idempotency_key=next(keys), now=on(11, 12))
    pending_topup(session, dina, "100.00", "01012345678", key=next(keys), now=on(11, 20))
    _complete_tasks(session, amal, flask, on(11, 21))
    _complete_tasks(session, amal, dsa, on(11, 21))
    _complete_tasks(session, badr, flask, on(11, 21))
    _complete_tasks(session, celine, dsa, on(11, 21), first=1)
