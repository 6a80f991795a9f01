"""The students' API, tag platforms: the catalogue, enrolling (paid from the balance), access and tasks."""

from __future__ import annotations

from decimal import Decimal

from admin_panel.student_api import schemas as S
from admin_panel.student_api.routing import Call, Route
from core.services import enrollment
from core.timeutil import as_utc


def _platform(p, include_price: bool = True) -> S.PlatformOut:
    return S.PlatformOut(
        id=p.id,
        name=p.name,
        description=p.description,
        price=S.money(p.price) if include_price else None,
        is_free=p.is_free,
        is_active=p.is_active,
        access_days=p.access_days,
        task_count=p.task_count,
        enrolled=p.enrolled,
        expires_at=p.expires_at and as_utc(p.expires_at),
        expired=p.expired,
        can_renew=p.can_renew,
    )


def get_platforms(call: Call) -> S.PlatformList:
    q: S.PlatformsQuery = call.query
    items = enrollment.list_platforms(call.session, call.student_id, now=call.now)
    return S.PlatformList(platforms=[_platform(p, q.include_price) for p in items])


def post_enrollment(call: Call) -> S.EnrollOut:
    b: S.EnrollIn = call.body
    result = enrollment.enroll(
        call.session,
        call.student_id,
        b.platform_id,
        idempotency_key=call.idempotency_key,
        expected_price=Decimal(b.expected_price) if b.expected_price else None,
        renew=b.renew,
        now=call.now,
    )
    return S.EnrollOut(
        id=result.enrollment_id,
        platform_id=result.platform_id,
        platform_name=result.platform_name,
        price=S.money(result.price),
        balance=S.money(result.balance),
        expires_at=result.expires_at and as_utc(result.expires_at),
        renewed=result.renewed,
    )


def get_my_enrollments(call: Call) -> S.EnrollmentList:
    items = enrollment.my_enrollments(call.session, call.student_id, now=call.now)
    return S.EnrollmentList(
        enrollments=[
            S.EnrollmentOut(
                id=e.enrollment_id,
                platform_id=e.platform_id,
                platform_name=e.platform_name,
                enrolled_at=as_utc(e.enrolled_at),
                expires_at=e.expires_at and as_utc(e.expires_at),
                is_active=e.active,
                progress=S.Progress(done=e.done, total=e.total),
            )
            for e in items
        ]
    )


def get_enrollment_check(call: Call, platform_id: int) -> S.EnrollmentCheck:
    p = enrollment.get_platform(call.session, platform_id, call.student_id, now=call.now)
    return S.EnrollmentCheck(
        platform_id=p.id, enrolled=p.enrolled, expires_at=p.expires_at and as_utc(p.expires_at), expired=p.expired
    )


def get_tasks(call: Call, platform_id: int) -> S.TaskList:
    tasks = enrollment.platform_tasks(call.session, call.student_id, platform_id, now=call.now)
    return S.TaskList(
        platform_id=platform_id,
        tasks=[
            S.TaskOut(id=t.id, platform_id=t.platform_id, title=t.title, body=t.body, position=t.position, done=t.done)
            for t in tasks
        ],
        progress=S.Progress(done=sum(t.done for t in tasks), total=len(tasks)),
    )


def post_task_done(call: Call, task_id: int) -> S.TaskDone:
    p = enrollment.complete_task(call.session, call.student_id, task_id, now=call.now)
    return S.TaskDone(task_id=p.task_id, platform_id=p.platform_id, progress=S.Progress(done=p.done, total=p.total))


ROUTES = [
    # method, rule, handler, summary, query, body, response, idempotent (a money POST)
    Route(
        "GET",
        "/platforms",
        get_platforms,
        "Active platforms with price and this student's access",
        S.PlatformsQuery,
        None,
        S.PlatformList,
        False,
    ),
    Route(
        "POST",
        "/enrollments",
        post_enrollment,
        "Enroll (pays the price from the balance)",
        None,
        S.EnrollIn,
        S.EnrollOut,
        True,
    ),
    Route(
        "GET",
        "/enrollments/my",
        get_my_enrollments,
        "My enrollments with expiry and progress",
        None,
        None,
        S.EnrollmentList,
        False,
    ),
    Route(
        "GET",
        "/enrollments/check/<int:platform_id>",
        get_enrollment_check,
        "Do I have access now?",
        None,
        None,
        S.EnrollmentCheck,
        False,
    ),
    Route(
        "GET",
        "/platforms/<int:platform_id>/tasks",
        get_tasks,
        "Tasks of an enrolled platform",
        None,
        None,
        S.TaskList,
        False,
    ),
    Route(
        "POST",
        "/tasks/<int:task_id>/done",
        post_task_done,
        "Mark a task done (a repeat changes nothing)",
        None,
        None,
        S.TaskDone,
        False,
    ),
]
