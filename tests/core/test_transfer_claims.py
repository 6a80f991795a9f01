"""A received transfer settles only a request it certainly pays for (issue 20: a stolen transfer, a double credit).

Each case is what a probe did to the real services: a classmate naming the victim's Vodafone Cash number, a
student filing the same amount again after a manual approval. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.errors import ConfirmationRequired
from core.models import Transaction, TransactionStatus
from core.services import reconciliation as rec
from core.services import topups, wallet
from core.services.settings import update_settings
from tests.core.helpers import ADMIN, NOW, student
from tests.core.test_concurrency import hammer
from tests.core.test_reconciliation import big_db, sms, status, topup, transfer_of  # noqa: F401 - fixture

D = Decimal
VICTIM_NUMBER = "01098765432"
PENDING, APPROVED = TransactionStatus.PENDING, TransactionStatus.APPROVED


def auto_on(session, **extra):
    """Auto-approval as an owner would switch it on: the defaults for everything else."""
    update_settings(
        session,
        {"auto_approve_transfers": "true", "max_pending_topups": "20", "max_topups_per_day": "50", **extra},
        actor=ADMIN,
    )


def regular(session, uid, number=VICTIM_NUMBER, amount="100", at=NOW - timedelta(days=10)):
    """A top-up from `number` that an earlier transfer paid for: the number is known on this account."""
    request = topup(session, uid, amount, number, at=at)
    rec.receive_sms(session, sms(amount=f"{amount}.00", sender=number), now=at + timedelta(minutes=1))
    topups.approve(session, request.transaction_id, actor=ADMIN, now=at + timedelta(minutes=2))
    assert transfer_of(session, request.transaction_id) is not None
    return request


def balances(session, *uids):
    return [wallet.balance(session, uid) for uid in uids]


# --- 1. a transfer can be taken by someone else -------------------------------------------------------


def test_a_classmate_filing_first_with_the_victims_number_is_not_credited_with_the_victims_transfer(session):
    victim, thief = student(session, name="Victim"), student(session, name="Thief")
    regular(session, victim)
    auto_on(session)
    stolen = topup(session, thief, "250", VICTIM_NUMBER, at=NOW)
    result = rec.receive_sms(session, sms(amount="250.00", sender=VICTIM_NUMBER), now=NOW + timedelta(minutes=2))
    assert result.settled_request is None
    assert status(session, stolen.transaction_id) == PENDING
    mine = topup(session, victim, "250", VICTIM_NUMBER, at=NOW + timedelta(minutes=5))
    assert mine.status == PENDING  # two students could claim it: the admins decide
    assert balances(session, victim, thief) == [D("600.00"), D("500.00")]
    found = rec.suggestions(session)
    for request in (stolen, mine):
        [suggestion] = found[request.transaction_id]
        assert suggestion.transfer.id == result.transfer.id and not suggestion.certain
    kinds = {(s.kind, s.user_id) for s in rec.fraud_signals(session, now=NOW + timedelta(minutes=6))}
    assert {("SHARED_SENDER", victim), ("SHARED_SENDER", thief)} <= kinds
    assert wallet.check_ledger(session) == []


def test_a_classmate_filing_after_the_sms_arrived_is_not_credited_either(session):
    victim, thief = student(session), student(session)
    regular(session, victim)
    auto_on(session)
    rec.receive_sms(session, sms(amount="250.00", sender=VICTIM_NUMBER), now=NOW)
    stolen = topup(session, thief, "250", VICTIM_NUMBER, at=NOW + timedelta(minutes=1))
    assert stolen.status == PENDING
    with pytest.raises(ConfirmationRequired) as bulk:  # a blind bulk approval skips it too
        topups.approve_certain(session, stolen.transaction_id, actor=ADMIN, now=NOW + timedelta(minutes=2))
    assert bulk.value.details["why"] == "SHARED_SENDER"
    assert balances(session, victim, thief) == [D("600.00"), D("500.00")]
    assert wallet.check_ledger(session) == []


def test_a_number_new_on_the_account_is_auto_approved_only_up_to_the_small_limit(session):
    """The victim's very first transfer: nobody used the number yet, so only the amount limit protects it."""
    uid = student(session)
    auto_on(session)
    big = topup(session, uid, "250", VICTIM_NUMBER, at=NOW)
    rec.receive_sms(session, sms(amount="250.00", sender=VICTIM_NUMBER), now=NOW + timedelta(minutes=1))
    assert status(session, big.transaction_id) == PENDING  # above 100.00 from a number new on the account
    [suggestion] = rec.suggestions(session)[big.transaction_id]
    assert suggestion.certain  # an admin sees the certain pair and approves with one click
    topups.approve(
        session, big.transaction_id, actor=ADMIN, transfer_id=suggestion.transfer.id, now=NOW + timedelta(minutes=2)
    )
    small = topup(session, uid, "100", "01512345678", at=NOW + timedelta(minutes=10))
    rec.receive_sms(session, sms(amount="100.00", sender="01512345678"), now=NOW + timedelta(minutes=11))
    assert status(session, small.transaction_id) == APPROVED  # at the limit: automatic
    again = topup(session, uid, "250", VICTIM_NUMBER, at=NOW + timedelta(minutes=20))
    rec.receive_sms(session, sms(amount="250.00", sender=VICTIM_NUMBER), now=NOW + timedelta(minutes=21))
    assert status(session, again.transaction_id) == APPROVED  # the number is known on this account now
    assert wallet.balance(session, uid) == D("1100.00") and wallet.check_ledger(session) == []


def test_the_new_number_limit_is_a_setting(session):
    uid = student(session)
    auto_on(session, auto_approve_new_sender_max="300.00")
    request = topup(session, uid, "250", VICTIM_NUMBER, at=NOW)
    rec.receive_sms(session, sms(amount="250.00", sender=VICTIM_NUMBER), now=NOW + timedelta(minutes=1))
    assert status(session, request.transaction_id) == APPROVED
    update_settings(session, {"auto_approve_new_sender_max": "0"}, actor=ADMIN)
    other = topup(session, uid, "20", "01512345678", at=NOW + timedelta(minutes=5))
    rec.receive_sms(session, sms(amount="20.00", sender="01512345678"), now=NOW + timedelta(minutes=6))
    assert status(session, other.transaction_id) == PENDING


def test_a_transaction_number_given_by_the_student_wins_over_a_sender_match(session):
    victim, thief = student(session), student(session)
    auto_on(session)
    stolen = topup(session, thief, "250", VICTIM_NUMBER, at=NOW)  # filed first, with the sender only
    mine = topup(session, victim, "250", VICTIM_NUMBER, at=NOW + timedelta(minutes=1), ref="022700123456")
    result = rec.receive_sms(
        session, sms(amount="250.00", sender=VICTIM_NUMBER, ref="022700123456"), now=NOW + timedelta(minutes=2)
    )
    assert result.settled_request == mine.transaction_id  # the number is proof of the SMS
    assert status(session, stolen.transaction_id) == PENDING
    assert balances(session, victim, thief) == [D("750.00"), D("500.00")]
    assert wallet.check_ledger(session) == []


def test_the_rule_holds_from_the_request_side_with_a_transaction_number_too(session):
    """The SMS first, then the victim's request naming its number: approved at once, even if a classmate
    named the victim's sender number in between."""
    victim, thief = student(session), student(session)
    auto_on(session)
    rec.receive_sms(session, sms(amount="250.00", sender=VICTIM_NUMBER, ref="022700654321"), now=NOW)
    stolen = topup(session, thief, "250", VICTIM_NUMBER, at=NOW + timedelta(minutes=1))
    mine = topup(session, victim, "250", "01000000001", at=NOW + timedelta(minutes=2), ref="022700654321")
    assert stolen.status == PENDING
    assert mine.status == PENDING  # the number the victim gave contradicts the transfer's sender: an admin looks
    assert balances(session, victim, thief) == [D("500.00"), D("500.00")]
    right = topup(session, victim, "250", VICTIM_NUMBER, at=NOW + timedelta(minutes=3), ref="0227 0065 4321")
    assert right.status == PENDING  # two requests name that number now (CLAIMED_TWICE): still an admin's call
    assert wallet.check_ledger(session) == []


# --- 2. one transfer credits twice ----------------------------------------------------------------------


def manual_approval(session, uid, amount="250", at=NOW):
    request = topup(session, uid, amount, VICTIM_NUMBER, at=at)
    topups.approve(
        session,
        request.transaction_id,
        actor=ADMIN,
        confirmed=True,
        reason="saw it in the wallet app",
        now=at + timedelta(minutes=1),
    )
    return request


def test_a_transfer_arriving_after_a_manual_approval_pays_for_it_not_for_a_second_request(session):
    uid = student(session)
    regular(session, uid)
    auto_on(session)
    first = manual_approval(session, uid)
    second = topup(session, uid, "250", VICTIM_NUMBER, at=NOW + timedelta(minutes=5))
    result = rec.receive_sms(session, sms(amount="250.00", sender=VICTIM_NUMBER), now=NOW + timedelta(minutes=8))
    assert result.settled_request is None
    assert transfer_of(session, first.transaction_id).reference == result.transfer.reference
    assert status(session, second.transaction_id) == PENDING
    assert wallet.balance(session, uid) == D("850.00")  # 500 + 100 earlier + 250: not 1,100 from one transfer
    assert second.transaction_id not in rec.suggestions(session)
    # the same SMS again (a forwarder's retry) changes nothing; a real second transfer pays for the second
    assert rec.receive_sms(
        session,
        sms(amount="250.00", sender=VICTIM_NUMBER, ref=result.transfer.reference),
        now=NOW + timedelta(minutes=9),
    ).duplicate
    assert status(session, second.transaction_id) == PENDING
    rec.receive_sms(session, sms(amount="250.00", sender=VICTIM_NUMBER), now=NOW + timedelta(minutes=10))
    assert status(session, second.transaction_id) == APPROVED
    assert wallet.balance(session, uid) == D("1100.00") and wallet.check_ledger(session) == []


def test_the_approval_claims_the_transfer_first_even_when_the_second_request_names_its_number(session):
    uid = student(session)
    regular(session, uid)
    auto_on(session)
    first = manual_approval(session, uid)
    second = topup(session, uid, "250", VICTIM_NUMBER, at=NOW + timedelta(minutes=5), ref="022700777777")
    rec.receive_sms(
        session, sms(amount="250.00", sender=VICTIM_NUMBER, ref="022700777777"), now=NOW + timedelta(minutes=8)
    )
    assert transfer_of(session, first.transaction_id).reference == "022700777777"
    assert status(session, second.transaction_id) == PENDING
    assert wallet.balance(session, uid) == D("850.00") and wallet.check_ledger(session) == []


def test_with_two_manual_approvals_the_transfer_settles_nothing_by_itself(session):
    uid = student(session)
    regular(session, uid)
    auto_on(session)
    manual_approval(session, uid, at=NOW)
    manual_approval(session, uid, at=NOW + timedelta(minutes=2))
    third = topup(session, uid, "250", VICTIM_NUMBER, at=NOW + timedelta(minutes=5))
    rec.receive_sms(session, sms(amount="250.00", sender=VICTIM_NUMBER), now=NOW + timedelta(minutes=8))
    assert status(session, third.transaction_id) == PENDING
    assert rec.settle_pending(session, now=NOW + timedelta(minutes=9)) == []
    assert wallet.balance(session, uid) == D("1100.00") and wallet.check_ledger(session) == []


def test_matching_again_links_a_transfer_to_an_earlier_manual_approval(session):
    """`codehub sms match` (settle_pending) follows the same order as a newly received SMS."""
    uid = student(session)
    regular(session, uid)
    first = topup(session, uid, "250", VICTIM_NUMBER, at=NOW)
    second = topup(session, uid, "250", VICTIM_NUMBER, at=NOW + timedelta(minutes=5))
    topups.approve(session, first.transaction_id, actor=ADMIN, confirmed=True, reason="cash", now=NOW)
    rec.receive_sms(session, sms(amount="250.00", sender=VICTIM_NUMBER), now=NOW + timedelta(minutes=8))
    auto_on(session)  # switched on after the SMS came
    assert rec.settle_pending(session, now=NOW + timedelta(minutes=9)) == []
    assert transfer_of(session, first.transaction_id) is not None
    assert status(session, second.transaction_id) == PENDING and wallet.balance(session, uid) == D("850.00")


@pytest.mark.slow
def test_a_manual_approval_racing_the_sms_never_lets_the_transfer_pay_the_second_request(big_db):
    with big_db.session() as s:
        uid = student(s)
        regular(s, uid)
        auto_on(s)
        pairs = []
        for i in range(5):
            at = NOW + timedelta(hours=3 * i)
            amount = f"{200 + i}"
            first = topup(s, uid, amount, VICTIM_NUMBER, at=at)
            second = topup(s, uid, amount, VICTIM_NUMBER, at=at + timedelta(minutes=1))
            pairs.append((first.transaction_id, second.transaction_id, amount, at))
    for first, second, amount, at in pairs:
        text = sms(amount=f"{amount}.00", sender=VICTIM_NUMBER)
        results = hammer(
            big_db,
            [
                lambda s, t=text, at=at: rec.receive_sms(s, t, now=at + timedelta(minutes=3)),
                lambda s, tx=first, at=at: topups.approve(
                    s, tx, actor=ADMIN, confirmed=True, reason="seen", now=at + timedelta(minutes=3)
                ),
            ],
        )
        assert not any(isinstance(r, Exception) for r in results), results
        again = hammer(big_db, [lambda s, t=text, at=at: rec.receive_sms(s, t, now=at + timedelta(minutes=4))] * 3)
        assert all(r.duplicate and r.settled_request is None for r in again)
    with big_db.session() as s:
        assert [status(s, second) for _, second, _, _ in pairs] == [PENDING] * 5
        assert wallet.balance(s, uid) == D("600.00") + sum(D(amount) for _, _, amount, _ in pairs)
        approved = s.scalars(
            select(Transaction.id).where(Transaction.user_id == uid, Transaction.status == APPROVED)
        ).all()
        assert len(approved) == 1 + 1 + 5  # the welcome credit, the regular top-up, five manual approvals
        assert wallet.check_ledger(s) == []
