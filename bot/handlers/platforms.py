"""/platforms and /my: prices and badges, a platform's page, Enroll with confirmation, tasks and progress."""

from __future__ import annotations

from decimal import Decimal

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.ui.cards import RenewCb
from bot.ui.errors import error_text
from bot.ui.format import clip, esc, money, money_value, number, pieces, when, with_balance
from bot.ui.keyboards import BTN_MY, BTN_PLATFORMS, MenuButton, RowId, topup_button
from bot.ui.webapp import web_app_rows
from core.config import Settings
from core.db import BriefAsyncSession
from core.errors import AccessDenied, InsufficientFunds
from core.services import enrollment
from core.services.enrollment import PlatformInfo
from core.services.students import UserInfo


class PlatformCb(CallbackData, prefix="p"):
    action: str  # open | enroll | tasks | list
    id: RowId = 0


class EnrollCb(CallbackData, prefix="pe"):
    id: RowId
    price: str  # what the student saw: a changed price is refused


class RenewConfirmCb(CallbackData, prefix="pr"):
    """Confirm on a screen shown to a student who had access: extending it is meant (an Enroll never renews)."""

    id: RowId
    price: str


class TaskCb(CallbackData, prefix="t"):
    action: str  # open | done
    id: RowId


def price_text(p: PlatformInfo) -> str:
    return _("Free") if p.is_free else money(p.price)


def badges(p: PlatformInfo) -> str:
    if p.enrolled:
        if p.expires_at:
            return _("✅ Enrolled · Expires on {date}").format(date=when(p.expires_at, time=False))
        return _("✅ Enrolled")
    if p.expired:
        return _("⌛ Expired")
    return ""


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def enroll_button(p_id: int) -> InlineKeyboardButton:
    return button(_("🛒 Enroll"), PlatformCb(action="enroll", id=p_id))


def platform_page(p: PlatformInfo, balance: Decimal) -> tuple[str, InlineKeyboardMarkup]:
    access = _("access for {days} days").format(days=number(p.access_days)) if p.access_days else _("lifetime access")
    lines = [
        f"📚 <b>{esc(p.name)}</b>",
        esc(clip(p.description, 2000)),
        "",
        _("Tasks: {count}").format(count=number(p.task_count)),
        _("Price: {price} ({access})").format(price=price_text(p), access=access),
    ]
    if badges(p):
        lines.append(badges(p))
    rows = []
    if p.enrolled:
        rows.append([button(_("📝 Tasks"), PlatformCb(action="tasks", id=p.id))])
        if p.can_renew:  # from two weeks before the access ends, not right after buying
            rows.append([button(_("🔄 Renew"), PlatformCb(action="enroll", id=p.id))])
    else:
        rows.append([button(_("🔄 Renew") if p.expired else _("🛒 Enroll"), PlatformCb(action="enroll", id=p.id))])
    rows.append([button(_("⬅️ All platforms"), PlatformCb(action="list"))])
    return with_balance("\n".join(lines), balance), InlineKeyboardMarkup(inline_keyboard=rows)


async def show_platform(message: Message, session: BriefAsyncSession, student: UserInfo, platform_id: int) -> None:
    p = await session.run_sync(enrollment.get_platform, platform_id, student.id)
    if not p.is_active:
        await message.answer(with_balance(_("This platform is not available right now."), student.balance))
        return
    text, markup = platform_page(p, student.balance)
    await message.answer(text, reply_markup=markup)


async def send_platforms(
    message: Message, session: BriefAsyncSession, student: UserInfo, webapp_url: str | None = None
) -> None:
    items = await session.run_sync(enrollment.list_platforms, student.id)
    lines = [_("📚 <b>CodeHub platforms</b>"), ""]
    for p in items:
        badge = badges(p)
        lines.append(f"• <b>{esc(p.name)}</b> — {price_text(p)}" + (f"\n   {badge}" if badge else ""))
    if not items:
        lines.append(_("No platforms yet."))
    rows = [[button(("✅ " if p.enrolled else "") + p.name, PlatformCb(action="open", id=p.id))] for p in items]
    rows += web_app_rows(webapp_url, "platforms")
    await message.answer(
        with_balance("\n".join(lines), student.balance), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


async def cmd_platforms(message: Message, session: BriefAsyncSession, student: UserInfo, settings: Settings) -> None:
    await send_platforms(message, session, student, settings.webapp_url)


async def on_platform_list(
    callback: CallbackQuery, session: BriefAsyncSession, student: UserInfo, settings: Settings
) -> None:
    await callback.answer()
    await send_platforms(callback.message, session, student, settings.webapp_url)


async def on_platform_open(
    callback: CallbackQuery, callback_data, session: BriefAsyncSession, student: UserInfo
) -> None:
    await callback.answer()
    await show_platform(callback.message, session, student, callback_data.id)


async def on_enroll(
    callback: CallbackQuery, callback_data: PlatformCb, session: BriefAsyncSession, student: UserInfo
) -> None:
    # an old page: no confirmation screen for what cannot be bought
    p = await session.run_sync(enrollment.purchasable_platform, callback_data.id, student.id)
    await callback.answer()
    lines = [_("🛒 Enroll in <b>{name}</b>?").format(name=esc(p.name)), _("Price: {price}").format(price=price_text(p))]
    if p.price > student.balance:
        lines.append(
            _("❗ Not enough balance: you need {shortfall} more. Top up first.").format(
                shortfall=money(p.price - student.balance)
            )
        )
        rows = [[topup_button()], [button(_("⬅️ Back"), PlatformCb(action="open", id=p.id))]]
    else:
        lines.append(_("Balance after: {after}").format(after=money(student.balance - p.price)))
        confirm = (RenewConfirmCb if p.enrolled else EnrollCb)(id=p.id, price=str(p.price))
        rows = [[button(_("✅ Confirm"), confirm), button(_("✖️ Cancel"), PlatformCb(action="open", id=p.id))]]
    await callback.message.answer(
        with_balance("\n".join(lines), student.balance), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


async def on_enroll_confirm(
    callback: CallbackQuery, callback_data, session: BriefAsyncSession, student: UserInfo
) -> None:
    price = money_value(callback_data.price)
    if price is None:
        price = Decimal("-1")  # a forged price: the service refuses it as changed
    key = f"tg:{callback.message.chat.id}:{callback.message.message_id}:enroll"
    try:  # only the Renew screen renews; a second Enroll screen is refused inside the transaction
        result = await session.run_sync(
            enrollment.enroll,
            student.id,
            callback_data.id,
            idempotency_key=key,
            expected_price=price,
            renew=isinstance(callback_data, RenewConfirmCb),
        )
    except InsufficientFunds as exc:
        await callback.answer()
        await callback.message.answer(
            with_balance(error_text(exc), student.balance),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[topup_button()]]),
        )
        return
    until = when(result.expires_at, time=False) if result.expires_at else _("forever")
    text = _("✅ You are enrolled in <b>{name}</b>. Paid: {price}. Access until: {until}.").format(
        name=esc(result.platform_name), price=money(result.price), until=until
    )
    await callback.message.edit_text(
        with_balance(text, result.balance),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[button(_("📝 Tasks"), PlatformCb(action="tasks", id=result.platform_id))]]
        ),
    )
    await callback.answer(_("Enrolled"))


async def on_tasks(
    callback: CallbackQuery, callback_data: PlatformCb, session: BriefAsyncSession, student: UserInfo
) -> None:
    await callback.answer()
    await send_tasks(callback.message, session, student, callback_data.id)


async def on_task_open(
    callback: CallbackQuery, callback_data: TaskCb, session: BriefAsyncSession, student: UserInfo
) -> None:
    try:
        task = await session.run_sync(enrollment.get_task, student.id, callback_data.id)
    except AccessDenied as exc:
        await callback.answer()
        await send_locked(callback.message, student, exc.details.get("platform_id"))
        return
    await callback.answer()
    rows = [] if task.done else [[button(_("✅ Mark done"), TaskCb(action="done", id=task.id))]]
    rows.append([button(_("⬅️ Tasks"), PlatformCb(action="tasks", id=task.platform_id))])
    state = _("✅ Done") if task.done else _("⬜ Not done yet")
    *first, last = pieces(task.body)  # a long task comes in several messages, the buttons under the last
    head = f"📝 <b>{number(task.position)}. {esc(task.title)}</b>\n\n"
    for part in first:
        await callback.message.answer(head + esc(part))
        head = ""
    await callback.message.answer(
        with_balance(f"{head}{esc(last)}\n\n{state}", student.balance),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def on_task_done(
    callback: CallbackQuery, callback_data: TaskCb, session: BriefAsyncSession, student: UserInfo
) -> None:
    try:
        progress = await session.run_sync(enrollment.complete_task, student.id, callback_data.id)
    except AccessDenied as exc:
        await callback.answer()
        await send_locked(callback.message, student, exc.details.get("platform_id"))
        return
    await callback.answer(_("Marked done"))
    await callback.message.answer(
        with_balance(
            _("✅ Task done! Progress: {done}/{total} tasks done.").format(
                done=number(progress.done), total=number(progress.total)
            ),
            student.balance,
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[button(_("⬅️ Tasks"), PlatformCb(action="tasks", id=progress.platform_id))]]
        ),
    )


async def cmd_my(message: Message, session: BriefAsyncSession, student: UserInfo, settings: Settings) -> None:
    items = await session.run_sync(enrollment.my_enrollments, student.id)
    lines = [_("🎓 <b>My platforms</b>"), ""]
    for e in items:
        expiry = (
            (_("Expires on {date}").format(date=when(e.expires_at, time=False)) if e.expires_at else _("No expiry"))
            if e.active
            else _("⌛ Expired")
        )
        lines.append(
            _("• <b>{name}</b> — {done}/{total} tasks done · {expiry}").format(
                name=esc(e.platform_name), done=number(e.done), total=number(e.total), expiry=expiry
            )
        )
    if not items:
        lines.append(_("You have not enrolled in any platform yet. See /platforms."))
    rows = [
        [
            button(
                ("📝 " if e.active else "🔄 ") + e.platform_name,
                PlatformCb(action="tasks" if e.active else "open", id=e.platform_id),
            )
        ]
        for e in items
    ]
    rows += web_app_rows(settings.webapp_url, "platforms")  # the app's page lists enrollments with progress
    await message.answer(
        with_balance("\n".join(lines), student.balance), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


async def send_locked(message: Message, student: UserInfo, platform_id) -> None:
    rows = [[enroll_button(int(platform_id))]] if platform_id else []
    await message.answer(
        with_balance(_("🔒 This content is locked. Enroll to unlock the tasks."), student.balance),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def send_tasks(message: Message, session: BriefAsyncSession, student: UserInfo, platform_id: int) -> None:
    try:
        tasks = await session.run_sync(enrollment.platform_tasks, student.id, platform_id)
    except AccessDenied:
        await send_locked(message, student, platform_id)
        return
    done = sum(t.done for t in tasks)
    lines = [_("📝 <b>Tasks</b> — {done}/{total} done").format(done=number(done), total=number(len(tasks)))]
    rows = [
        [button(("✅ " if t.done else "⬜ ") + f"{t.position}. {t.title}", TaskCb(action="open", id=t.id))]
        for t in tasks
    ]
    await message.answer(
        with_balance("\n".join(lines), student.balance), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


def build_router() -> Router:
    router = Router(name="platforms")
    router.message.register(cmd_platforms, Command("platforms"))
    router.message.register(cmd_platforms, MenuButton(BTN_PLATFORMS))
    router.callback_query.register(on_platform_list, PlatformCb.filter(F.action == "list"))
    router.callback_query.register(on_platform_open, PlatformCb.filter(F.action == "open"))
    router.callback_query.register(on_platform_open, RenewCb.filter())
    router.callback_query.register(on_enroll, PlatformCb.filter(F.action == "enroll"))
    router.callback_query.register(on_enroll_confirm, EnrollCb.filter())
    router.callback_query.register(on_enroll_confirm, RenewConfirmCb.filter())
    router.callback_query.register(on_tasks, PlatformCb.filter(F.action == "tasks"))
    router.callback_query.register(on_task_open, TaskCb.filter(F.action == "open"))
    router.callback_query.register(on_task_done, TaskCb.filter(F.action == "done"))
    router.message.register(cmd_my, Command("my"))
    router.message.register(cmd_my, MenuButton(BTN_MY))
    return router
