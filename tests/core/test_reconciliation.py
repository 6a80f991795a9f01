"""Reconciliation: transfers stored once, certain pairs settled through the wallet, the rest suggested."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.db import Database
from core.errors import ConfirmationRequired, InvalidInput, TransferAlreadyUsed
from core.models import AuditLog, Notification, Transaction, TransactionStatus, Transfer
from core.services import reconciliation as rec
from core.services import topups, wallet
from core.services.settings import update_settings
from core.sms import ParsedSms
from tests.core.helpers import ADMIN, NOW, key, student
from tests.core.test_concurrency import hammer
from tests.factories import feed_a_transfer
from tests.helpers import context

D = Decimal
_refs = itertools.count(22_700_100_000)


def sms(amount="250.00", sender="01012345678", name="Student", ref=None, when=""):
    ref = ref or f"0{next(_refs)}"
    return (
        f"تم استلام مبلغ {amount} جنيه من رقم {sender} المسجل باسم {name} على رقم محفظتك 01099998888.\n"
        f"رصيدك الحالي: 9000.00 جنيه.\nرقم العملية: {ref}{when}"
    )


def auto_on(session, **extra):
    """Auto-approval on. These tests are about pairing, so a number new on the account may be approved up to
    1,000.00 here; the default small limit for new numbers has its own tests (test_transfer_claims.py)."""
    update_settings(
        session,
        {
            "auto_approve_transfers": "true",
            "max_pending_topups": "20",
            "max_topups_per_day": "50",
            "auto_approve_new_sender_max": "1000.00",
            **extra,
        },
        actor=ADMIN,
    )


def topup(session, uid, amount="250", number="01012345678", at=NOW, ref=None):
    return topups.request_topup(session, uid, amount, number, idempotency_key=key(), transfer_reference=ref, now=at)


def status(session, tx_id):
    return session.scalar(
        select(Transaction.status).where(Transaction.id == tx_id).execution_options(populate_existing=True)
    )


def transfer_of(session, tx_id):
    return session.scalar(select(Transfer).where(Transfer.transaction_id == tx_id))


def test_an_sms_settles_its_request_with_no_admin_action(session):
    uid = student(session, name="Student")
    auto_on(session)
    req = topup(session, uid)
    assert req.status == TransactionStatus.PENDING
    result = rec.receive_sms(session, sms(), now=NOW + timedelta(minutes=3))
    assert result.stored and result.settled_request == req.transaction_id
    assert wallet.balance(session, uid) == D("750.00")
    assert status(session, req.transaction_id) == TransactionStatus.APPROVED
    assert transfer_of(session, req.transaction_id).reference == result.transfer.reference
    audit = session.scalar(select(AuditLog).where(AuditLog.action == "topup.approved"))
    after = json.loads(audit.after)
    assert audit.actor == "auto-match" and after["transfer"]["reference"] == result.transfer.reference
    kinds = session.scalars(select(Notification.kind)).all()
    assert "topup.approved" in kinds and "admin.topup_decided" in kinds
    assert wallet.check_ledger(session) == []


def test_a_transfer_that_arrives_first_settles_the_request_when_it_comes(session):
    uid = student(session)
    auto_on(session)
    first = rec.receive_sms(session, sms(amount="120.50"), now=NOW)
    assert first.stored and first.settled_request is None
    req = topup(session, uid, "120.50", "+20 10 1234 5678", at=NOW + timedelta(minutes=40))
    assert req.status == TransactionStatus.APPROVED
    assert wallet.balance(session, uid) == D("620.50")
    assert wallet.check_ledger(session) == []


def test_auto_approval_is_off_by_default_and_the_pair_is_a_certain_suggestion(session):
    uid = student(session)
    req = topup(session, uid)
    rec.receive_sms(session, sms(), now=NOW + timedelta(minutes=1))
    assert status(session, req.transaction_id) == TransactionStatus.PENDING
    [suggestion] = rec.suggestions(session)[req.transaction_id]
    assert suggestion.certain and not suggestion.warnings
    decision = topups.approve(session, req.transaction_id, actor=ADMIN, transfer_id=suggestion.transfer.id)
    assert decision.status == TransactionStatus.APPROVED
    assert rec.unmatched_transfers(session) == []
    assert wallet.check_ledger(session) == []


def test_nothing_is_settled_when_anything_is_ambiguous_or_too_large(session):
    a, b = student(session), student(session)
    auto_on(session, auto_approve_max="200.00")
    big = topup(session, a, "250")  # over the maximum
    rec.receive_sms(session, sms(amount="250.00"), now=NOW)
    assert status(session, big.transaction_id) == TransactionStatus.PENDING
    # two requests from one number for one amount, one transfer: which one? an admin decides
    r1 = topup(session, a, "100", "01112345678")
    r2 = topup(session, b, "100", "01112345678", at=NOW + timedelta(minutes=5))
    rec.receive_sms(session, sms(amount="100.00", sender="01112345678"), now=NOW + timedelta(minutes=6))
    assert {status(session, r1.transaction_id), status(session, r2.transaction_id)} == {TransactionStatus.PENDING}
    assert all(not s.certain for s in rec.suggestions(session)[r1.transaction_id])
    # outside the window: no candidate at all
    late = rec.receive_sms(session, sms(amount="150.00", sender="01212345678"), now=NOW + timedelta(hours=5))
    r3 = topup(session, a, "150", "01212345678")
    assert late.settled_request is None and status(session, r3.transaction_id) == TransactionStatus.PENDING
    assert r3.transaction_id not in rec.suggestions(session)
    assert wallet.check_ledger(session) == []


def test_a_request_with_a_transaction_number_matches_only_that_transfer(session):
    uid = student(session)
    auto_on(session)
    rec.receive_sms(session, sms(amount="80.00", ref="022799990001"), now=NOW)
    req = topup(session, uid, "80", ref="0227 9999 0002", at=NOW + timedelta(minutes=1))
    assert req.status == TransactionStatus.PENDING  # same sender and amount, but another number
    assert req.transaction_id not in rec.suggestions(session)
    done = rec.receive_sms(session, sms(amount="80.00", ref="022799990002"), now=NOW + timedelta(minutes=2))
    assert done.settled_request == req.transaction_id
    with pytest.raises(InvalidInput):
        topup(session, uid, "80", ref="12ab")


def test_the_same_sms_twice_is_one_transfer_and_other_texts_create_nothing(session):
    uid = student(session)
    auto_on(session)
    req = topup(session, uid)
    text = sms()
    first = rec.receive_sms(session, text, now=NOW)
    again = rec.receive_sms(session, text, now=NOW + timedelta(seconds=10))
    assert first.stored and again.duplicate and again.transfer.id == first.transfer.id
    assert again.settled_request is None and wallet.balance(session, uid) == D("750.00")
    assert (
        rec.receive_sms(session, "تم تحويل 250.00 جنيه لرقم 01012345678. رقم العملية: 022700000999", now=NOW).kind
        == "other"
    )
    assert rec.receive_sms(session, "تم استلام مبلغ 10 جنيه من رقم 01012345678", now=NOW).problem == "NO_REFERENCE"
    with pytest.raises(InvalidInput):
        rec.receive_sms(session, "تم استلام\x07 مبلغ", now=NOW)
    assert session.scalar(select(func.count()).select_from(Transfer)) == 1
    assert status(session, req.transaction_id) == TransactionStatus.APPROVED


def test_a_manual_approval_uses_up_the_matching_transfer(session):
    uid = student(session)
    r1 = topup(session, uid)
    rec.receive_sms(session, sms(), now=NOW + timedelta(minutes=2))
    topups.approve(
        session,
        r1.transaction_id,
        actor=ADMIN,
        now=NOW + timedelta(minutes=3),
        confirmed=True,
        reason="checked the statement",
    )
    assert transfer_of(session, r1.transaction_id) is not None
    auto_on(session)
    r2 = topup(session, uid, at=NOW + timedelta(minutes=10))  # same money again: no transfer left for it
    assert r2.status == TransactionStatus.PENDING
    assert wallet.balance(session, uid) == D("750.00")


def test_a_used_transfer_cannot_pay_twice(session):
    a, b = student(session), student(session)
    r1 = topup(session, a)
    r2 = topup(session, b)
    t = rec.receive_sms(session, sms(), now=NOW).transfer
    topups.approve(session, r1.transaction_id, actor=ADMIN, transfer_id=t.id)
    with pytest.raises(TransferAlreadyUsed):
        topups.approve(session, r2.transaction_id, actor=ADMIN, transfer_id=t.id)
    assert status(session, r2.transaction_id) == TransactionStatus.PENDING  # rolled back whole
    assert wallet.check_ledger(session) == []


def test_without_a_transfer_feed_an_approval_is_one_tap(session):
    """The default install: no SMS webhook, no transfer ever stored. The admin's own check is the evidence."""
    from dataclasses import replace

    uid = student(session)
    request = topup(session, uid, "60")
    assert not topups.transfer_feed_in_use(session)
    assert topups.approve(session, request.transaction_id, actor=ADMIN).status == TransactionStatus.APPROVED
    ctx = session.info["codehub"]
    session.info["codehub"] = replace(ctx, sms_feed=True)  # SMS_WEBHOOK_SECRET set: a feed, before any SMS came
    try:
        assert topups.transfer_feed_in_use(session)
        with pytest.raises(ConfirmationRequired):
            topups.approve(session, topup(session, uid, "61").transaction_id, actor=ADMIN)
    finally:
        session.info["codehub"] = ctx
    assert wallet.check_ledger(session) == []


def test_approving_without_a_transfer_or_rejecting_despite_one_asks_for_confirmation(session):
    uid = student(session)
    feed_a_transfer(session)  # transfers are fed in
    assert topups.transfer_feed_in_use(session)
    lonely = topup(session, uid, "60")
    with pytest.raises(ConfirmationRequired):
        topups.approve(session, lonely.transaction_id, actor=ADMIN)
    with pytest.raises(ConfirmationRequired):
        topups.approve(session, lonely.transaction_id, actor=ADMIN, confirmed=True, reason="  ")
    done = topups.approve(session, lonely.transaction_id, actor=ADMIN, confirmed=True, reason="paid in cash")
    assert done.status == TransactionStatus.APPROVED
    matched = topup(session, uid, "70")
    rec.receive_sms(session, sms(amount="70.00"), now=NOW)
    with pytest.raises(ConfirmationRequired):
        topups.reject(session, matched.transaction_id, "looks wrong", actor=ADMIN)
    assert (
        topups.reject(session, matched.transaction_id, "looks wrong", actor=ADMIN, confirmed=True).status
        == TransactionStatus.REJECTED
    )
    assert wallet.check_ledger(session) == []


def test_fraud_signals(session):
    ali = student(session, name="Ali Hassan")
    mona = student(session, name="Mona Adel")
    update_settings(session, {"max_pending_topups": "20", "max_topups_per_day": "50"}, actor=ADMIN)
    shared = [topup(session, ali, "10", "01512345678"), topup(session, mona, "11", "01512345678")]
    claimed = [topup(session, ali, "20", ref="022711110000"), topup(session, mona, "20", ref="022711110000")]
    topup(session, ali, "25", at=NOW + timedelta(minutes=20))  # Ali's third request within the hour
    for i in range(3):
        r = topup(session, mona, "30", "01212345670", at=NOW - timedelta(days=2, minutes=i))
        topups.reject(session, r.transaction_id, "no transfer", actor=ADMIN, now=NOW - timedelta(days=1))
    rec.receive_sms(session, sms(amount="10.00", sender="01512345678", name="KAREEM SOLIMAN"), now=NOW)
    signals = rec.fraud_signals(session, now=NOW + timedelta(hours=3))
    kinds = {(s.kind, s.user_id) for s in signals}
    assert ("SHARED_SENDER", ali) in kinds and ("SHARED_SENDER", mona) in kinds
    assert {(s.kind, s.request_id) for s in signals} >= {("CLAIMED_TWICE", c.transaction_id) for c in claimed}
    assert ("REPEATED_REJECTIONS", mona) in kinds
    assert ("NO_TRANSFER", shared[1].transaction_id) in {(s.kind, s.request_id) for s in signals}
    assert ("BURST", ali) in kinds
    assert ("NAME_DIFFERS", shared[0].transaction_id) in {(s.kind, s.request_id) for s in signals}
    assert not rec.names_differ("Ahmed Ali", "AHMED ALI") and not rec.names_differ("محمد أحمد", "محمد احمد")
    assert all(s.user_id == ali for s in rec.fraud_signals(session, now=NOW, user_id=ali))


def test_statement_import_maps_columns_previews_and_stores_received_rows_once(session):
    uid = student(session)
    req = topup(session, uid, "1250.50")
    csv_bytes = (
        "Transaction ID,Type,Amount,From,Name,Date\n"
        '022733330001,Received,"1,250.50",01012345678,Student,2026-11-25 14:10\n'
        "022733330002,Transfer to,300.00,01012345678,Student,2026-11-25 14:20\n"
        "bad,Received,10.00,01012345678,X,2026-11-25 14:30\n"
    ).encode()
    statement = rec.read_statement(csv_bytes, "export.csv")
    mapping = rec.guess_mapping(statement.headers)
    assert mapping["reference"] == 0 and mapping["amount"] == 2 and mapping["sender"] == 3
    lines = rec.statement_lines(statement, mapping)
    assert [line.problem for line in lines] == [None, "not money received", "no transaction number"]
    assert session.scalar(select(func.count()).select_from(Transfer)) == 0  # a preview stores nothing
    results = rec.import_statement(session, statement, mapping, now=NOW)
    again = rec.import_statement(session, statement, mapping, now=NOW)
    assert [r.stored for r in results] == [True] and [r.duplicate for r in again] == [True]
    [s] = rec.suggestions(session)[req.transaction_id]
    assert s.transfer.amount == D("1250.50") and s.certain
    with pytest.raises(InvalidInput):
        rec.read_statement(b"\x00\x01", "x.pdf")
    with pytest.raises(InvalidInput):
        rec.statement_lines(statement, {**mapping, "amount": None})


# --- properties ---------------------------------------------------------------------------------

_example = itertools.count()
SENDERS = [0, 1, 2]  # three sender numbers of this example's own (another student's number is a fraud signal)
AMOUNTS = ["50.00", "75.25"]


def number(example: int, k: int) -> str:
    return f"01{'015'[k]}{example:08d}"


@pytest.fixture
def sqlite_session(sqlite_db):
    with sqlite_db.session() as s:
        yield s


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    requests=st.lists(st.tuples(st.sampled_from(SENDERS), st.sampled_from(AMOUNTS)), max_size=5),
    transfers=st.lists(st.tuples(st.sampled_from(SENDERS), st.sampled_from(AMOUNTS)), max_size=5),
)
def test_auto_approval_takes_only_unique_pairs_and_uses_a_transfer_once(sqlite_session, requests, transfers):
    session = sqlite_session
    n = next(_example)
    base = NOW + timedelta(days=3 * n)  # each example far from the others' windows
    update_settings(
        session,
        {"auto_approve_transfers": "false", "max_pending_topups": "50", "max_topups_per_day": "100"},
        actor=ADMIN,
    )
    uid = student(session, now=base)
    req_ids = {}
    for i, (sender, amount) in enumerate(requests):
        r = topup(session, uid, amount, number(n, sender), at=base + timedelta(minutes=i))
        req_ids[r.transaction_id] = (sender, amount)
    for i, (sender, amount) in enumerate(transfers):
        rec.record_transfer(
            session,
            ParsedSms("received", amount=D(amount), sender=number(n, sender), reference=f"9{n:05d}{i:04d}"),
            source="cli",
            now=base + timedelta(minutes=10 + i),
        )
    update_settings(session, {"auto_approve_transfers": "true"}, actor=ADMIN)
    settled = rec.settle_pending(session, now=base + timedelta(minutes=30))
    groups = {
        g: (sum(1 for r in requests if r == g), sum(1 for t in transfers if t == g))
        for g in set(requests) | set(transfers)
    }
    expected = {g for g, (k, j) in groups.items() if k == 1 and j == 1}
    assert sorted(req_ids[s] for s in settled) == sorted(expected)
    used = session.scalars(
        select(Transfer.transaction_id).where(
            Transfer.reference.like(f"9{n:05d}%"), Transfer.transaction_id.is_not(None)
        )
    ).all()
    assert len(used) == len(set(used)) == len(settled)
    for tx_id in settled:
        t = transfer_of(session, tx_id)
        assert (t.amount, req_ids[tx_id][1]) == (D(req_ids[tx_id][1]), req_ids[tx_id][1])
    assert wallet.check_ledger(session) == []


@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.booleans(), st.sampled_from(SENDERS[:2]), st.sampled_from(AMOUNTS)), min_size=1, max_size=8
    )
)
def test_any_interleaving_credits_each_transfer_at_most_once(sqlite_session, steps):
    session = sqlite_session
    n = next(_example)
    base = NOW + timedelta(days=3 * n)
    update_settings(
        session,
        {"auto_approve_transfers": "true", "max_pending_topups": "50", "max_topups_per_day": "100"},
        actor=ADMIN,
    )
    uid = student(session, now=base)
    for i, (is_request, sender, amount) in enumerate(steps):
        at = base + timedelta(minutes=i)
        if is_request:
            topup(session, uid, amount, number(n, sender), at=at)
        else:
            rec.record_transfer(
                session,
                ParsedSms("received", amount=D(amount), sender=number(n, sender), reference=f"8{n:05d}{i:04d}"),
                source="cli",
                now=at,
            )
    approved = session.scalars(
        select(Transaction).where(
            Transaction.user_id == uid, Transaction.status == TransactionStatus.APPROVED, Transaction.type == "TOP_UP"
        )
    ).all()
    paid = session.scalars(
        select(Transfer).where(Transfer.reference.like(f"8{n:05d}%"), Transfer.transaction_id.is_not(None))
    ).all()
    assert len(approved) == len(paid) <= sum(1 for s in steps if not s[0])
    assert {t.transaction_id for t in paid} == {a.id for a in approved}
    for t in paid:
        assert t.amount == next(a.amount for a in approved if a.id == t.transaction_id)
    assert wallet.check_ledger(session) == []


# --- concurrency (real threads, both databases) --------------------------------------------------


@pytest.fixture
def big_db(db_url):
    database = Database(db_url, context(), pool_size=20, max_overflow=5)
    yield database
    database.dispose()


@pytest.mark.slow
def test_the_same_sms_delivered_eight_times_at_once_credits_once(big_db):
    with big_db.session() as s:
        uid = student(s)
        auto_on(s)
        req = topup(s, uid)
    text = sms()
    results = hammer(big_db, [lambda s: rec.receive_sms(s, text, now=NOW + timedelta(minutes=1))] * 8)
    assert sum(1 for r in results if r.stored) == 1
    assert sum(1 for r in results if r.settled_request == req.transaction_id) == 1
    with big_db.session() as s:
        assert wallet.balance(s, uid) == D("750.00")
        assert s.scalar(select(func.count()).select_from(Transfer)) == 1
        assert wallet.check_ledger(s) == []


@pytest.mark.slow
def test_a_manual_approval_racing_the_auto_approval_credits_once(big_db):
    with big_db.session() as s:
        uid = student(s)
        auto_on(s)
        reqs = [topup(s, uid, f"{100 + i}", at=NOW + timedelta(minutes=i)).transaction_id for i in range(6)]
    for i, tx_id in enumerate(reqs):
        text = sms(amount=f"{100 + i}.00")
        results = hammer(
            big_db,
            [
                lambda s, t=text: rec.receive_sms(s, t, now=NOW + timedelta(minutes=30)),
                lambda s, tx=tx_id: topups.approve(
                    s, tx, actor=ADMIN, now=NOW + timedelta(minutes=30), confirmed=True, reason="checked the statement"
                ),
            ],
        )
        assert not any(isinstance(r, Exception) and r.code != "ALREADY_PROCESSED" for r in results), results
    with big_db.session() as s:
        assert wallet.balance(s, uid) == D("500.00") + sum(D(100 + i) for i in range(6))
        assert s.scalar(select(func.count()).select_from(Transfer).where(Transfer.transaction_id.is_not(None))) == 6
        assert wallet.check_ledger(s) == []


def test_cli_imports_sms_texts_and_statements_once(sqlite_url, tmp_path):
    from tests.core.test_cli import codehub

    texts = tmp_path / "sms.txt"
    texts.write_text(f"{sms(amount='10.00')}\n\n{sms(amount='20.00')}\n\nتم تحويل 5 جنيه لرقم 01012345678\n")
    first = codehub("sms", "import", str(texts), url=sqlite_url, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"read": 3, "stored": 2, "duplicates": 0, "other": 1, "settled": []}
    again = codehub("sms", "import", str(texts), url=sqlite_url, tmp_path=tmp_path)
    assert json.loads(again.stdout)["duplicates"] == 2
    statement = tmp_path / "statement.csv"
    statement.write_text("Transaction ID,Amount,From\n022744440001,30.00,01012345678\n")
    imported = codehub("sms", "import", str(statement), url=sqlite_url, tmp_path=tmp_path)
    assert json.loads(imported.stdout)["stored"] == 1
    missing = codehub("sms", "import", str(tmp_path / "nope.csv"), url=sqlite_url, tmp_path=tmp_path)
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    assert codehub("check-ledger", url=sqlite_url, tmp_path=tmp_path).returncode == 0


def test_a_paste_with_one_bad_message_stores_nothing(session):
    with pytest.raises(InvalidInput):
        rec.receive_pasted(session, f"{sms()}\n\n{sms()}\x1b[2J")
    assert session.scalar(select(func.count()).select_from(Transfer)) == 0
    with pytest.raises(InvalidInput):
        rec.receive_pasted(session, " \n ")


def test_an_xlsx_statement_is_read_too(session):
    import io as _io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["رقم العملية", "المبلغ", "من", "التاريخ"])
    sheet.append(["022788880001", 99.5, "01012345678", "2026-11-25 14:00"])
    buffer = _io.BytesIO()
    book.save(buffer)
    statement = rec.read_statement(buffer.getvalue(), "كشف.xlsx")
    mapping = rec.guess_mapping(statement.headers)
    [line] = rec.statement_lines(statement, mapping)
    assert (line.parsed.reference, line.parsed.amount, line.parsed.sender) == (
        "022788880001",
        D("99.50"),
        "01012345678",
    )
    with pytest.raises(InvalidInput):
        rec.read_statement(b"PK\x03\x04 broken", "x.xlsx")


# --- a transfer that nobody claims: announced to the admins once ---------------------------------------


def unmatched_notices(session) -> list[Notification]:
    return session.scalars(
        select(Notification)
        .where(Notification.kind == "admin.transfer_unmatched")
        .execution_options(populate_existing=True)
    ).all()


def test_an_unmatched_transfer_is_announced_once_after_the_window(session):
    from core.services import jobs

    lonely = rec.receive_sms(session, sms(amount="77.00", name="Somebody"), now=NOW).transfer
    uid = student(session)
    paid = topup(session, uid, "250", at=NOW)
    rec.receive_sms(session, sms(), now=NOW + timedelta(minutes=2))
    topups.approve(session, paid.transaction_id, actor=ADMIN, now=NOW + timedelta(minutes=3))  # the suggested pair
    old = rec.receive_sms(session, sms(amount="12.00"), received_at=NOW - timedelta(days=5), now=NOW).transfer
    assert old.received_at < NOW - timedelta(days=4)
    assert rec.announce_unmatched_transfers(session, now=NOW + timedelta(minutes=119)) == 0  # still in the window
    assert rec.announce_unmatched_transfers(session, now=NOW + timedelta(minutes=121)) == 1
    [notice] = unmatched_notices(session)
    payload = json.loads(notice.payload)
    assert notice.audience == "admins" and notice.dedupe_key == f"unmatched-transfer:{lonely.id}"
    assert payload["reference"] == lonely.reference and payload["amount"] == "77.00"
    assert payload["sender"] == "010****5678" and payload["window_minutes"] == 120
    # every later tick (and the scheduler's whole run) finds it announced: never twice
    assert rec.announce_unmatched_transfers(session, now=NOW + timedelta(hours=5)) == 0
    assert jobs.run_all(session, now=NOW + timedelta(hours=6))["unmatched_transfers"] == 0
    assert len(unmatched_notices(session)) == 1


def test_a_transfer_stored_late_gets_a_full_window_before_its_notice(session):
    """A statement imported today with yesterday's transfer: its request may still come in the next hours."""
    rec.receive_sms(session, sms(amount="40.00"), received_at=NOW - timedelta(days=1), now=NOW)
    assert rec.announce_unmatched_transfers(session, now=NOW + timedelta(minutes=60)) == 0
    assert rec.announce_unmatched_transfers(session, now=NOW + timedelta(minutes=125)) == 1


@pytest.mark.slow
def test_two_schedulers_at_once_announce_a_transfer_once(big_db):
    with big_db.session() as s:
        for amount in ("31.00", "32.00", "33.00"):
            rec.receive_sms(s, sms(amount=amount), now=NOW)
    later = NOW + timedelta(hours=3)
    results = hammer(big_db, [lambda s: rec.announce_unmatched_transfers(s, now=later)] * 6)
    assert sum(results) == 3, results
    with big_db.session() as s:
        assert len(unmatched_notices(s)) == 3


def test_bulk_approval_takes_only_a_certain_pair(session):
    uid = student(session)
    lonely = topup(session, uid, "90", at=NOW)
    twice = topup(session, uid, "120", at=NOW)
    rec.receive_sms(session, sms(amount="120.00"), now=NOW + timedelta(minutes=1))
    rec.receive_sms(session, sms(amount="120.00"), now=NOW + timedelta(minutes=2))  # two could pay for it
    single = topup(session, uid, "60", at=NOW)
    rec.receive_sms(session, sms(amount="60.00", ref="022700009999"), now=NOW + timedelta(minutes=3))
    with pytest.raises(ConfirmationRequired) as none:
        topups.approve_certain(session, lonely.transaction_id, actor=ADMIN, now=NOW)
    with pytest.raises(ConfirmationRequired) as several:
        topups.approve_certain(session, twice.transaction_id, actor=ADMIN, now=NOW)
    assert (none.value.details["why"], several.value.details["why"]) == ("NO_TRANSFER", "AMBIGUOUS")
    done = topups.approve_certain(session, single.transaction_id, actor=ADMIN, now=NOW + timedelta(minutes=5))
    assert (
        done.status == TransactionStatus.APPROVED
        and transfer_of(session, done.transaction_id).reference == "022700009999"
    )
    assert [status(session, r.transaction_id) for r in (lonely, twice)] == [TransactionStatus.PENDING] * 2
    assert wallet.balance(session, uid) == D("560.00") and wallet.check_ledger(session) == []
