"""Platforms and access: buying, renewing, expiring, and the tasks that access unlocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.errors import (
    AccessDenied,
    AlreadyEnrolled,
    HasEnrollments,
    InsufficientFunds,
    InvalidInput,
    NotFound,
    PlatformInactive,
    PriceChanged,
    UserBlocked,
)
from core.models import (
    Enrollment,
    NotificationKind,
    Platform,
    Task,
    TaskCompletion,
    Transaction,
    TransactionStatus,
    TransactionType,
    User,
)
from core.money import ZERO, Money
from core.services import audit, notifications
from core.services.common import Actor, active_user, ledger_key
from core.timeutil import as_utc


@dataclass(frozen=True)
class PlatformInfo:
    id: int
    name: str
    description: str
    price: Decimal
    is_free: bool
    is_active: bool
    access_days: int | None
    task_count: int
    enrolled: bool  # access right now
    expires_at: datetime | None
    expired: bool  # had access, lost it
    can_renew: bool = False  # expired, or a timed access ending within RENEW_WINDOW: offer Renew


@dataclass(frozen=True)
class EnrollmentResult:
    enrollment_id: int
    platform_id: int
    platform_name: str
    price: Decimal
    balance: Decimal
    expires_at: datetime | None
    renewed: bool
    replayed: bool = False


@dataclass(frozen=True)
class EnrollmentInfo:
    enrollment_id: int
    platform_id: int
    platform_name: str
    enrolled_at: datetime
    expires_at: datetime | None
    active: bool
    done: int
    total: int


@dataclass(frozen=True)
class TaskInfo:
    id: int
    platform_id: int
    title: str
    body: str
    position: int
    done: bool


@dataclass(frozen=True)
class Progress:
    task_id: int
    platform_id: int
    done: int
    total: int
    newly_done: bool


def _has_access(now: datetime):
    return and_(Enrollment.is_active.is_(True), or_(Enrollment.expires_at.is_(None), Enrollment.expires_at > now))


def _task_counts():
    return select(Task.platform_id, func.count(Task.id).label("n")).group_by(Task.platform_id).subquery()


def list_platforms(
    session: Session, user_id: int | None = None, *, now: datetime | None = None, include_inactive: bool = False
) -> list[PlatformInfo]:
    """Platforms with price, task count and this student's access, in one query."""
    now = as_utc(now)
    counts = _task_counts()
    query = select(Platform, func.coalesce(counts.c.n, 0), Enrollment).outerjoin(
        counts, counts.c.platform_id == Platform.id
    )
    if user_id is not None:
        query = query.outerjoin(Enrollment, and_(Enrollment.platform_id == Platform.id, Enrollment.user_id == user_id))
    else:
        query = query.outerjoin(Enrollment, Enrollment.id.is_(None))
    if not include_inactive:
        query = query.where(Platform.is_active.is_(True))
    rows = session.execute(query.order_by(Platform.name)).all()
    return [_platform_info(p, n, e, now) for p, n, e in rows]


RENEW_WINDOW = timedelta(days=14)  # Renew is offered from this long before a timed access ends (not right after buying)


def _platform_info(p: Platform, task_count: int, e: Enrollment | None, now: datetime) -> PlatformInfo:
    access = e is not None and e.is_active and (e.expires_at is None or e.expires_at > now)
    expired = e is not None and not access
    ending = access and e.expires_at is not None and p.access_days is not None and e.expires_at - now <= RENEW_WINDOW
    price = p.price or ZERO
    return PlatformInfo(
        p.id,
        p.name,
        p.description,
        price,
        price == 0,
        p.is_active,
        p.access_days,
        task_count,
        access,
        e.expires_at if e else None,
        expired,
        expired or ending,
    )


def get_platform(
    session: Session, platform_id: int, user_id: int | None = None, *, now: datetime | None = None
) -> PlatformInfo:
    now = as_utc(now)
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise NotFound("platform not found", entity="platform", id=platform_id)
    count = session.scalar(select(func.count()).select_from(Task).where(Task.platform_id == platform_id))
    enrollment = None
    if user_id is not None:
        enrollment = session.scalar(
            select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.platform_id == platform_id)
        )
    return _platform_info(platform, count or 0, enrollment, now)


def purchasable_platform(
    session: Session, platform_id: int, user_id: int | None = None, *, now: datetime | None = None
) -> PlatformInfo:
    """The platform as get_platform shows it, if it can be bought now; else PlatformInactive
    (enroll() checks again in its transaction)."""
    platform = get_platform(session, platform_id, user_id, now=now)
    if not platform.is_active:
        raise PlatformInactive("this platform is not available", platform=platform.name)
    return platform


# The purchase as a few Core statements, built once (their compiled forms are cached by the engine): one read
# of the student, the ledger row of this idempotency key if any, the platform and this student's enrollment;
# then the conditional debit (UPDATE ... RETURNING), the enrollment and the ledger row. No ORM objects, no
# flush: the profile of the ORM version showed SQLAlchemy's ORM (attribute comparisons, statement building,
# identity map, flush) at ~80 % of the time.
# On PostgreSQL the student's row is locked first, in a statement of its own: a READ COMMITTED statement that
# waited for the lock still sees the other tables as of its start, so the idempotency lookup joined to the
# lock would miss a repeat committed meanwhile (tried: racing repeats of one key were refused as
# AlreadyEnrolled instead of replayed).
# On SQLite, BEGIN IMMEDIATE already serialises writers and the one read suffices.
_U, _P, _E, _T = User.__table__, Platform.__table__, Enrollment.__table__, Transaction.__table__
_LOCK_STUDENT = select(_U.c.id).where(_U.c.id == bindparam("uid")).with_for_update()
_PURCHASE_READ = (
    select(
        _U.c.is_blocked,
        _U.c.balance,
        _T.c.id,
        _T.c.amount,
        _T.c.balance_after,
        _T.c.description,
        _T.c.reference,
        _P.c.id,
        _P.c.name,
        _P.c.price,
        _P.c.is_active,
        _P.c.access_days,
        _E.c.id,
        _E.c.expires_at,
        _E.c.is_active,
    )
    .select_from(
        _U.outerjoin(
            _T,
            and_(
                _T.c.user_id == _U.c.id,
                _T.c.idempotency_key == bindparam("key"),
                _T.c.type == TransactionType.PLATFORM_PURCHASE,
            ),
        )
        .outerjoin(_P, _P.c.id == bindparam("pid"))
        .outerjoin(_E, and_(_E.c.platform_id == _P.c.id, _E.c.user_id == _U.c.id))
    )
    .where(_U.c.id == bindparam("uid"))
)
_DEBIT = (
    update(_U)
    .where(_U.c.id == bindparam("uid"), _U.c.balance >= bindparam("amount", type_=Money()))
    .values(balance=_U.c.balance - bindparam("amount", type_=Money()))
    .returning(_U.c.balance)
)
_BALANCE = select(_U.c.balance).where(_U.c.id == bindparam("uid"))
_NEW_ENROLLMENT = insert(_E).returning(_E.c.id)
_RENEW = (
    update(_E)
    .where(_E.c.id == bindparam("eid"))
    .values(expires_at=bindparam("expires"), is_active=True, expiry_notice_for=None)
)
_LEDGER_ROW = insert(_T)
_REPLAY = (
    select(_E.c.id, _E.c.platform_id, _E.c.expires_at, _P.c.name)
    .join(_P, _P.c.id == _E.c.platform_id)
    .where(_E.c.id == bindparam("eid"))
)


def enroll(
    session: Session,
    user_id: int,
    platform_id: int,
    *,
    idempotency_key: str,
    expected_price: Decimal | None = None,
    renew: bool = False,
    now: datetime | None = None,
) -> EnrollmentResult:
    """Debit the price and open access in one transaction; renew an expired access, or a running
    timed access when asked to (`renew=True`, the Renew button): days are added to its expiry.

    Free platforms enroll with a zero-amount ledger row, so purchases and enrollments share one
    history. `expected_price` (what the student saw) guards against a price changed meanwhile.
    Without `renew`, a second "Enroll" on a platform already open is refused, never charged as a
    renewal (two enroll screens confirmed one after the other).

    Idempotent per (student, key), as run_idempotent: the lookup runs inside the write transaction
    (BEGIN IMMEDIATE on SQLite, the student's row locked on PostgreSQL), and UNIQUE(user_id,
    idempotency_key) is the last guard (a violation rolls back and the retry replays).
    """
    now = as_utc(now)
    key = ledger_key(TransactionType.PLATFORM_PURCHASE, idempotency_key)
    for attempt in range(2):
        try:
            with unit_of_work(session):
                return _enroll_in(session.connection(), user_id, platform_id, key, expected_price, renew, now)
        except IntegrityError:
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


def _enroll_in(
    conn, user_id: int, platform_id: int, key: str, expected_price: Decimal | None, renew: bool, now: datetime
) -> EnrollmentResult:
    if conn.dialect.name != "sqlite" and conn.execute(_LOCK_STUDENT, {"uid": user_id}).first() is None:
        raise NotFound("student not found", entity="user", id=user_id)
    row = conn.execute(_PURCHASE_READ, {"uid": user_id, "key": key, "pid": platform_id}).first()
    if row is None:
        raise NotFound("student not found", entity="user", id=user_id)
    (
        blocked,
        current,
        prior_id,
        prior_amount,
        prior_balance,
        prior_description,
        prior_reference,
        found,
        name,
        price,
        active,
        access_days,
        enrollment_id,
        expires_at,
        enrollment_active,
    ) = row
    if prior_id is not None:  # a repeat: what the first one did, changing nothing
        eid = int(prior_reference.split(":")[1])
        e_id, pid, replay_expires, replay_name = conn.execute(_REPLAY, {"eid": eid}).one()
        return EnrollmentResult(
            e_id,
            pid,
            replay_name,
            -prior_amount,
            prior_balance or ZERO,
            replay_expires,
            prior_description.startswith("Renewed"),
            replayed=True,
        )
    if blocked:
        raise UserBlocked("this account is blocked")
    if found is None:
        raise NotFound("platform not found", entity="platform", id=platform_id)
    if not active:
        raise PlatformInactive("this platform is not available", platform=name)
    price = price or ZERO
    if expected_price is not None and expected_price != price:
        raise PriceChanged("the price changed", old=expected_price, new=price)
    has_access = enrollment_id is not None and enrollment_active and (expires_at is None or expires_at > now)
    if has_access and (not renew or expires_at is None or access_days is None):
        raise AlreadyEnrolled("already enrolled", platform=name)
    if price > 0:
        new_balance = conn.execute(_DEBIT, {"uid": user_id, "amount": price}).scalar()
        if new_balance is None:
            current = conn.execute(_BALANCE, {"uid": user_id}).scalar_one()
            raise InsufficientFunds("not enough balance", balance=current, required=price, shortfall=price - current)
    else:
        new_balance = current  # unchanged, and nobody else writes it meanwhile (the write lock is ours)
    start = expires_at if has_access else now
    expires = start + timedelta(days=access_days) if access_days else None
    renewed = enrollment_id is not None
    if enrollment_id is None:
        enrollment_id = conn.execute(
            _NEW_ENROLLMENT,
            {
                "user_id": user_id,
                "platform_id": platform_id,
                "enrolled_at": now,
                "expires_at": expires,
                "is_active": True,
            },
        ).scalar_one()
    else:
        conn.execute(_RENEW, {"eid": enrollment_id, "expires": expires})
    conn.execute(
        _LEDGER_ROW,
        {
            "user_id": user_id,
            "type": TransactionType.PLATFORM_PURCHASE,
            "amount": -price,
            "status": TransactionStatus.APPROVED,
            "description": f"{'Renewed' if renewed else 'Enrolled in'} {name}",
            "idempotency_key": key,
            "reference": f"enrollment:{enrollment_id}",
            "balance_after": new_balance,
            "created_at": now,
            "decided_at": now,
            "updated_at": now,
        },
    )
    return EnrollmentResult(enrollment_id, platform_id, name, price, new_balance, expires, renewed)


def check_access(session: Session, user_id: int, platform_id: int, *, now: datetime | None = None) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .where(Enrollment.user_id == user_id, Enrollment.platform_id == platform_id, _has_access(as_utc(now)))
        )
        == 1
    )


def my_enrollments(session: Session, user_id: int, *, now: datetime | None = None) -> list[EnrollmentInfo]:
    """Every platform the student bought, with expiry and progress (done/total tasks)."""
    now = as_utc(now)
    counts = _task_counts()
    done = (
        select(Task.platform_id, func.count(TaskCompletion.id).label("n"))
        .join(TaskCompletion, TaskCompletion.task_id == Task.id)
        .where(TaskCompletion.user_id == user_id)
        .group_by(Task.platform_id)
        .subquery()
    )
    rows = session.execute(
        select(Enrollment, Platform.name, func.coalesce(done.c.n, 0), func.coalesce(counts.c.n, 0))
        .join(Platform, Platform.id == Enrollment.platform_id)
        .outerjoin(done, done.c.platform_id == Enrollment.platform_id)
        .outerjoin(counts, counts.c.platform_id == Enrollment.platform_id)
        .where(Enrollment.user_id == user_id)
        .order_by(Enrollment.enrolled_at.desc())
    ).all()
    return [
        EnrollmentInfo(
            e.id,
            e.platform_id,
            name,
            e.enrolled_at,
            e.expires_at,
            e.is_active and (e.expires_at is None or e.expires_at > now),
            d,
            t,
        )
        for e, name, d, t in rows
    ]


def platform_tasks(session: Session, user_id: int, platform_id: int, *, now: datetime | None = None) -> list[TaskInfo]:
    """The platform's tasks in order, with the student's done marks; refused without access."""
    if session.get(Platform, platform_id) is None:
        raise NotFound("platform not found", entity="platform", id=platform_id)
    if not check_access(session, user_id, platform_id, now=now):
        raise AccessDenied("enroll to see this platform's tasks", platform_id=platform_id)
    done_ids = set(
        session.scalars(
            select(TaskCompletion.task_id)
            .join(Task)
            .where(TaskCompletion.user_id == user_id, Task.platform_id == platform_id)
        )
    )
    tasks = session.scalars(select(Task).where(Task.platform_id == platform_id).order_by(Task.position, Task.id)).all()
    return [TaskInfo(t.id, t.platform_id, t.title, t.body, t.position, t.id in done_ids) for t in tasks]


def get_task(session: Session, user_id: int, task_id: int, *, now: datetime | None = None) -> TaskInfo:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("task not found", entity="task", id=task_id)
    if not check_access(session, user_id, task.platform_id, now=now):
        raise AccessDenied("enroll to see this task", platform_id=task.platform_id)
    done = (
        session.scalar(
            select(func.count())
            .select_from(TaskCompletion)
            .where(TaskCompletion.user_id == user_id, TaskCompletion.task_id == task_id)
        )
        == 1
    )
    return TaskInfo(task.id, task.platform_id, task.title, task.body, task.position, done)


def complete_task(session: Session, user_id: int, task_id: int, *, now: datetime | None = None) -> Progress:
    """Mark a task done (once; a repeat changes nothing) and return the platform's progress."""
    now = as_utc(now)
    with unit_of_work(session):
        active_user(session, user_id)
        task = session.get(Task, task_id)
        if task is None:
            raise NotFound("task not found", entity="task", id=task_id)
        if not check_access(session, user_id, task.platform_id, now=now):
            raise AccessDenied("enroll to complete this task", platform_id=task.platform_id)
        new_id = notifications.insert_ignore(
            session, TaskCompletion, dict(user_id=user_id, task_id=task_id, completed_at=now), ["user_id", "task_id"]
        )
        done = session.scalar(
            select(func.count())
            .select_from(TaskCompletion)
            .join(Task)
            .where(TaskCompletion.user_id == user_id, Task.platform_id == task.platform_id)
        )
        total = session.scalar(select(func.count()).select_from(Task).where(Task.platform_id == task.platform_id))
        return Progress(task_id, task.platform_id, done or 0, total or 0, new_id is not None)


@dataclass(frozen=True)
class ExpiredEnrollment:
    enrollment_id: int
    user_id: int
    platform_id: int
    platform_name: str


def expire_due(session: Session, *, now: datetime | None = None) -> list[ExpiredEnrollment]:
    """Deactivate enrollments past expires_at and tell each student, once."""
    now = as_utc(now)
    with unit_of_work(session):
        due = session.execute(
            select(Enrollment.id, Enrollment.user_id, Enrollment.platform_id, Platform.name)
            .join(Platform)
            .where(Enrollment.is_active.is_(True), Enrollment.expires_at <= now)
        ).all()
        expired = []
        for eid, uid, pid, name in due:
            won = session.execute(
                update(Enrollment)
                .where(Enrollment.id == eid, Enrollment.is_active.is_(True), Enrollment.expires_at <= now)
                .values(is_active=False)
                .execution_options(synchronize_session=False)
            ).rowcount
            if won:
                notifications.enqueue(
                    session,
                    kind=NotificationKind.ENROLLMENT_EXPIRED,
                    user_id=uid,
                    now=now,
                    subject=f"enrollment:{eid}",
                    payload={"platform_id": pid, "platform": name},
                )
                expired.append(ExpiredEnrollment(eid, uid, pid, name))
        return expired


def set_enrollment_active(
    session: Session, enrollment_id: int, active: bool, *, actor: Actor, now: datetime | None = None
) -> None:
    with unit_of_work(session):
        e = session.get(Enrollment, enrollment_id)
        if e is None:
            raise NotFound("enrollment not found", entity="enrollment", id=enrollment_id)
        before = e.is_active
        e.is_active = active
        audit.record(
            session,
            actor,
            "enrollment.activate" if active else "enrollment.deactivate",
            "enrollment",
            enrollment_id,
            before={"is_active": before},
            after={"is_active": active},
            now=now,
        )


def extend_enrollment(
    session: Session, enrollment_id: int, days: int, *, actor: Actor, now: datetime | None = None
) -> datetime | None:
    """Give more days of access (from expiry, or from now if already expired); audited."""
    now = as_utc(now)
    if not 1 <= days <= 3650:
        raise InvalidInput("days must be between 1 and 3650")
    with unit_of_work(session):
        e = session.get(Enrollment, enrollment_id)
        if e is None:
            raise NotFound("enrollment not found", entity="enrollment", id=enrollment_id)
        before = {"expires_at": e.expires_at, "is_active": e.is_active}
        if e.expires_at is not None:
            e.expires_at = max(e.expires_at, now) + timedelta(days=days)
            e.expiry_notice_for = None
        e.is_active = True
        audit.record(
            session,
            actor,
            "enrollment.extend",
            "enrollment",
            enrollment_id,
            before=before,
            after={"expires_at": e.expires_at, "is_active": True, "days": days},
            now=now,
        )
        return e.expires_at


def delete_platform(session: Session, platform_id: int, *, actor: Actor, now: datetime | None = None) -> None:
    """Only a platform nobody enrolled in may be deleted; otherwise deactivate it."""
    with unit_of_work(session):
        platform = session.get(Platform, platform_id)
        if platform is None:
            raise NotFound("platform not found", entity="platform", id=platform_id)
        n = session.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.platform_id == platform_id))
        if n:
            raise HasEnrollments("students are enrolled: deactivate it instead", count=n)
        audit.record(
            session,
            actor,
            "platform.delete",
            "platform",
            platform_id,
            before={"name": platform.name, "price": platform.price},
            now=now,
        )
        session.delete(platform)
