"""One Router per feature; `build_routers` makes fresh ones for each Dispatcher (a Router joins one only)."""

from __future__ import annotations

from aiogram import Router

from bot.handlers import admin, fallback, history, language, mentorship, platforms, sessions, start, topup, wallet


def build_routers(admin_ids: frozenset[int]) -> list[Router]:
    return [
        admin.build_router(admin_ids),
        admin.build_refuse_router(admin_ids),
        start.build_router(),
        topup.build_router(),
        wallet.build_router(),
        history.build_router(),
        platforms.build_router(),
        mentorship.build_router(),
        sessions.build_router(),
        language.build_router(),
        fallback.build_router(),
    ]
