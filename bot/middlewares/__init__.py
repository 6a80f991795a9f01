"""The per-update spine: every middleware the bot runs, installed in one place and in one order.

`install` is the only place that knows the order; each line says why its middleware sits where it does.
Outer update middlewares run first-registered-first, each wrapping the ones after it, so a middleware sees
what the ones above it put in `data` and can catch what the ones below it raise.
"""

from __future__ import annotations

from aiogram import Dispatcher
from aiogram.utils.i18n import I18n

from bot.middlewares.errors import ErrorsMiddleware
from bot.middlewares.flow import LeaveFlowMiddleware, PrivateChatOnlyMiddleware
from bot.middlewares.i18n import StudentI18nMiddleware
from bot.middlewares.inflight import InFlightMiddleware
from bot.middlewares.metrics import MetricsMiddleware
from bot.middlewares.session import StateFlushMiddleware, UpdateSessionMiddleware
from bot.middlewares.student import BlockedStudentMiddleware, StudentMiddleware
from bot.middlewares.throttling import ThrottlingMiddleware
from bot.middlewares.updates import DuplicateUpdateMiddleware
from core.db import AsyncDatabase

__all__ = ["install", "InFlightMiddleware"]


def install(
    dp: Dispatcher,
    *,
    db: AsyncDatabase,
    i18n: I18n,
    admin_ids: frozenset[int],
    redis=None,
    throttle_limit: int = 20,
    throttle_window: float = 10.0,
) -> InFlightMiddleware:
    """Register the spine on `dp` (built with disable_fsm=True) and return the in-flight counter for shutdown.

    `redis` (the FSM storage's client, when REDIS_URL is set) shares duplicate-update marks and throttle counters
    between replicas.
    """
    inflight = InFlightMiddleware()
    spine = [
        MetricsMiddleware(),  # first: counts and times every update, even one that a later middleware drops
        inflight,  # a stopping bot waits for what got past here
        DuplicateUpdateMiddleware(redis=redis),  # before any work: a retried or replayed update does nothing
        UpdateSessionMiddleware(db, i18n),  # the session the FSM storage, the student and the handler share
        dp.fsm,  # inside the session: the per-student lock, then the state, read through that session
        StateFlushMiddleware(),  # inside the lock: state changes written before the next update may read them
        StudentMiddleware(admin_ids),  # needs the session; the locale and the checks below need the student
        StudentI18nMiddleware(i18n),  # the student's language for every word said from here on, errors included
        ThrottlingMiddleware(throttle_limit, throttle_window, redis=redis),  # warns in the student's language
        ErrorsMiddleware(),  # catches what the checks and handlers below raise, answers in that language
        PrivateChatOnlyMiddleware(),  # needs is_admin (StudentMiddleware); its refusals are answered above
        BlockedStudentMiddleware(),  # raises UserBlocked, worded by ErrorsMiddleware above it
    ]
    for middleware in spine:
        dp.update.outer_middleware(middleware)
    dp.message.outer_middleware(LeaveFlowMiddleware())  # messages only, after the state is known
    return inflight
