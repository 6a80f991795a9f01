"""The students' API, tag wallet: the student, the balance, the history, receipts and top-up requests."""

from __future__ import annotations

from admin_panel.student_api import schemas as S
from admin_panel.student_api.routing import Call, Route
from admin_panel.student_api.texts import voice
from core.errors import InvalidTransferReference
from core.models import TransactionStatus, TransactionType
from core.services import ledger, receipts, students, topups, wallet
from core.services.ledger import StatementLine
from core.services.settings import get_settings
from core.services.wallet import LedgerEntry
from core.timeutil import as_utc


def get_me(call: Call) -> S.Me:
    s = students.get_user(call.session, call.student_id)
    return S.Me(
        id=s.id,
        telegram_id=s.telegram_id,
        full_name=s.full_name,
        username=s.username,
        language=s.language if s.language in ("en", "ar") else "en",
        balance=S.money(s.balance),
        currency=call.currency,
    )


def get_balance(call: Call) -> S.Balance:
    return S.Balance(balance=S.money(wallet.balance(call.session, call.student_id)), currency=call.currency)


def _tx(e: LedgerEntry, details: str | None = None) -> S.TransactionOut:
    return S.TransactionOut(
        id=e.id,
        type=e.type.value,
        amount=S.money(e.amount),
        description=e.description,
        details=details,
        status=e.status.value,
        wallet_number=e.wallet_masked,
        reference=e.reference,
        balance_after=S.money(e.balance_after),
        admin_notes=e.admin_notes,
        created_at=as_utc(e.created_at),
        decided_at=e.decided_at and as_utc(e.decided_at),
    )


def _lines(call: Call, lines: list[StatementLine]) -> list[S.TransactionOut]:
    v = voice(call.language)
    return [_tx(line.entry, ledger.what_for(line, v, with_top_up=False)) for line in lines]


def get_transactions(call: Call) -> S.TransactionPage:
    q: S.HistoryQuery = call.query
    page = ledger.statement(
        call.session,
        call.student_id,
        page=q.page,
        per_page=q.limit,
        type=q.type,
        status=q.status,
        month=q.month_tuple(),
    )
    return S.TransactionPage(
        transactions=_lines(call, page.items) if page.page == q.page else [],
        pagination=S.Pagination(page=q.page, limit=q.limit, total=page.total, pages=page.pages),
    )


def get_receipt(call: Call, transaction_id: int) -> S.TransactionOut:
    entry = receipts.receipt(call.session, call.student_id, transaction_id)
    [line] = _lines(call, ledger.lines(call.session, [entry]))
    return line


def get_topup_info(call: Call) -> S.TopupInfo:
    settings = get_settings(call.session)
    pending = wallet.history(
        call.session, call.student_id, per_page=50, type=TransactionType.TOP_UP, status=TransactionStatus.PENDING
    )
    return S.TopupInfo(
        wallet_number=settings.vodafone_cash_number,
        min_amount=S.money(settings.min_topup),
        max_amount=S.money(settings.max_topup),
        currency=call.currency,
        pending=[_tx(e) for e in pending.items],
    )


def post_topup(call: Call) -> S.TopupOut:
    b: S.TopupIn = call.body
    try:
        result = topups.request_topup(
            call.session,
            call.student_id,
            b.amount,
            b.wallet_number,
            description=b.description,
            transfer_reference=b.transaction_number,
            idempotency_key=call.idempotency_key,
            now=call.now,
        )
    except InvalidTransferReference as err:  # named as this API names the field
        raise InvalidTransferReference(*err.args, field="transactionNumber") from None
    return S.TopupOut(
        id=result.transaction_id,
        amount=S.money(result.amount),
        status=result.status.value,
        wallet_number=result.wallet_masked,
        transaction_number=result.transfer_reference,
        created_at=as_utc(result.created_at),
        balance=S.money(wallet.balance(call.session, call.student_id)),
    )


ROUTES = [
    # method, rule, handler, summary, query, body, response, idempotent (a money POST)
    Route("GET", "/me", get_me, "The student, their language and balance", None, None, S.Me, False),
    Route("GET", "/wallet/balance", get_balance, "Current balance", None, None, S.Balance, False),
    Route(
        "GET",
        "/wallet/transactions",
        get_transactions,
        "Transaction history, newest first; filter by type, status and month",
        S.HistoryQuery,
        None,
        S.TransactionPage,
        False,
    ),
    Route(
        "GET",
        "/wallet/transactions/<int:transaction_id>",
        get_receipt,
        "One transaction as a receipt",
        None,
        None,
        S.TransactionOut,
        False,
    ),
    Route(
        "GET",
        "/wallet/topup-info",
        get_topup_info,
        "Where to send money, limits, pending requests",
        None,
        None,
        S.TopupInfo,
        False,
    ),
    Route(
        "POST",
        "/wallet/topup",
        post_topup,
        "Request a top-up (an admin approves it)",
        None,
        S.TopupIn,
        S.TopupOut,
        True,
    ),
]
