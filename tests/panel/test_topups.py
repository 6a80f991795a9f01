"""The top-up queue: order, approve and reject through the service, bulk actions, refusals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core.models import TransactionStatus
from core.services import reconciliation, topups, wallet
from tests.factories import feed_a_transfer
from tests.panel.helpers import flashes
from tests.student_api.test_idempotency import run_together


def test_queue_lists_pending_first_oldest_first_with_masked_numbers(panel, finance):
    html = finance.get("/admin/topups/").text
    pending = panel.pending_topups()
    assert len(pending) == 2
    first, second = (html.index(f">#{t.id}<") for t in pending)
    assert first < second  # oldest first
    decided = html.index("by test-seed")
    assert second < decided  # pending before processed ones
    assert "011****5678" in html and "01112345678" not in html
    assert "2 pending request(s)" in html
    assert "150.50 EGP" in html


def test_request_page_shows_the_full_sender_number(panel, finance):
    tx = panel.pending_topups()[0]
    html = finance.get(f"/admin/topups/request/{tx.id}").text
    assert "01112345678" in html
    assert "Approve and credit 200.00 EGP" in html


def test_without_a_transfer_feed_one_tap_approves_from_the_queue(panel, finance):
    """The default install has no transfer feed (no SMS webhook, nothing imported): the queue's Approve is one
    tap that credits at once, with no reason asked; bulk approve approves the selected requests."""
    a, b = panel.pending_topups()
    queue = finance.get("/admin/topups/").text
    assert f'action="/admin/topups/request/{a.id}/approve"' in queue and "Approve…" not in queue
    review = finance.get(f"/admin/topups/request/{a.id}").text
    assert "Approve and credit" in review and "Check the receiving phone" in review
    assert "No received Vodafone Cash transfer matches" not in review and 'name="confirmed"' not in review
    before = panel.user(a.user_id).balance
    r = finance.post(f"/admin/topups/request/{a.id}/approve", data={"csrf_token": finance.csrf}, follow_redirects=True)
    assert "approved" in flashes(r.text) and panel.user(a.user_id).balance == before + a.amount
    r = finance.post(
        "/admin/topups/action/",
        data={"csrf_token": finance.csrf, "action": "approve", "rowid": [b.id]},
        follow_redirects=True,
    )
    assert panel.tx(b.id).status == TransactionStatus.APPROVED


def test_approve_credits_the_balance_notifies_and_audits(panel, finance):
    tx = panel.pending_topups()[0]
    before = panel.user(tx.user_id).balance
    with panel.session() as s:
        feed_a_transfer(s)  # transfers are fed in: "no transfer matches" now counts against a request
    r = finance.post(
        f"/admin/topups/request/{tx.id}/approve",
        data={"csrf_token": finance.csrf, "notes": "stmt 42"},
        follow_redirects=True,
    )  # no transfer matches: it asks for a confirmation first
    assert "confirm and give a reason" in flashes(r.text)
    assert panel.tx(tx.id).status == TransactionStatus.PENDING
    r = finance.post(
        f"/admin/topups/request/{tx.id}/approve",
        data={"csrf_token": finance.csrf, "notes": "stmt 42", "confirmed": "1"},
        follow_redirects=True,
    )
    assert "approved: 200.00 EGP credited" in flashes(r.text)
    assert panel.user(tx.user_id).balance == before + Decimal("200.00")
    row = panel.tx(tx.id)
    assert row.status == TransactionStatus.APPROVED and row.processed_by == "finance"
    assert row.admin_notes == "stmt 42"
    assert [n.user_id for n in panel.notifications("topup.approved")][-1] == tx.user_id
    assert panel.audits("topup.approved")[-1].actor == "finance"


def test_second_approval_says_who_processed_it_and_changes_nothing(panel, finance, owner):
    tx = panel.pending_topups()[0]
    finance.post(
        f"/admin/topups/request/{tx.id}/approve",
        data={"csrf_token": finance.csrf, "confirmed": "1", "notes": "statement checked"},
    )
    balance = panel.user(tx.user_id).balance
    r = owner.post(f"/admin/topups/request/{tx.id}/approve", data={"csrf_token": owner.csrf}, follow_redirects=True)
    assert "Already processed by finance (now approved); nothing was changed." in flashes(r.text)
    assert panel.user(tx.user_id).balance == balance
    r = owner.post(
        f"/admin/topups/request/{tx.id}/reject",
        data={"csrf_token": owner.csrf, "reason": "late"},
        follow_redirects=True,
    )
    assert "Already processed by finance" in flashes(r.text)
    assert panel.tx(tx.id).status == TransactionStatus.APPROVED


def test_reject_needs_a_reason(panel, finance):
    tx = panel.pending_topups()[0]
    r = finance.post(
        f"/admin/topups/request/{tx.id}/reject",
        data={"csrf_token": finance.csrf, "reason": "  "},
        follow_redirects=True,
    )
    assert "A reason is required." in flashes(r.text)
    assert panel.tx(tx.id).status == TransactionStatus.PENDING


def test_reject_with_reason_tells_the_student_and_keeps_the_balance(panel, finance):
    tx = panel.pending_topups()[0]
    balance = panel.user(tx.user_id).balance
    r = finance.post(
        f"/admin/topups/request/{tx.id}/reject",
        data={"csrf_token": finance.csrf, "reason": "No transfer from this number"},
        follow_redirects=True,
    )
    assert "rejected" in flashes(r.text)
    row = panel.tx(tx.id)
    assert row.status == TransactionStatus.REJECTED and row.admin_notes == "No transfer from this number"
    assert panel.user(tx.user_id).balance == balance
    assert "No transfer from this number" in panel.notifications("topup.rejected")[-1].payload


def test_reject_reason_far_too_long_changes_nothing(panel, finance):
    tx = panel.pending_topups()[0]
    r = finance.post(
        f"/admin/topups/request/{tx.id}/reject",
        data={"csrf_token": finance.csrf, "reason": "x" * 5000},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "too long" in flashes(r.text)
    assert panel.tx(tx.id).status == TransactionStatus.PENDING


def test_unknown_and_malformed_ids(panel, finance):
    r = finance.post("/admin/topups/request/99999/approve", data={"csrf_token": finance.csrf}, follow_redirects=True)
    assert r.status_code == 200 and "not found" in flashes(r.text).lower()
    assert finance.post("/admin/topups/request/abc/approve", data={"csrf_token": finance.csrf}).status_code == 404
    r = finance.get("/admin/topups/request/99999", follow_redirects=True)
    assert "does not exist" in flashes(r.text)


def matching_sms(panel, tx, reference="022755560001") -> None:
    """The Vodafone Cash SMS of the transfer that pays for this pending request of the school (same sender and amount,
    received five minutes after the request)."""
    with panel.session() as s:
        sender = topups.reveal_wallet(s, tx.id)
        text = (
            f"تم استلام مبلغ {tx.amount} جنيه من رقم {sender} المسجل باسم Student على رقم محفظتك 01099998888.\n"
            f"رصيدك الحالي: 900.00 جنيه.\nرقم العملية: {reference}"
        )
        reconciliation.receive_sms(s, text, source="paste", received_at=tx.created_at + timedelta(minutes=5))


def test_bulk_approve_takes_only_the_certain_ones_and_names_the_skipped(panel, owner):
    a, b = panel.pending_topups()
    matching_sms(panel, b)
    r = owner.post(
        "/admin/topups/action/",
        data={"csrf_token": owner.csrf, "action": "approve", "rowid": [a.id, b.id]},
        follow_redirects=True,
    )
    text = flashes(r.text)
    assert "Approved 1 top-up request(s)." in text
    assert f"Skipped 1, as they need a confirmation on their own page: #{a.id}: No received transfer matches it" in text
    assert panel.tx(a.id).status == TransactionStatus.PENDING and panel.tx(b.id).status == TransactionStatus.APPROVED
    with panel.session() as s:
        assert reconciliation.transfer_paying_for(s, b.id).reference == "022755560001"
        assert wallet.check_ledger(s) == []
    # the same action again (a double submit): nothing more happens
    balance = panel.user(b.user_id).balance
    r = owner.post(
        "/admin/topups/action/",
        data={"csrf_token": owner.csrf, "action": "approve", "rowid": [b.id]},
        follow_redirects=True,
    )
    assert f"#{b.id}: Already processed by owner" in flashes(r.text) and panel.user(b.user_id).balance == balance


def test_two_admins_bulk_approving_at_once_credit_once(panel, owner, finance):
    b = panel.pending_topups()[1]
    matching_sms(panel, b)
    before = panel.user(b.user_id).balance
    said = [
        flashes(r.text)
        for r in run_together(
            *[
                lambda c=c: c.post(
                    "/admin/topups/action/",
                    data={"csrf_token": c.csrf, "action": "approve", "rowid": [b.id]},
                    follow_redirects=True,
                )
                for c in (owner, finance)
            ]
        )
    ]
    assert sum("Approved 1 top-up request(s)." in text for text in said) == 1, said
    assert sum("Already processed by" in text for text in said) == 1, said
    assert panel.user(b.user_id).balance == before + b.amount
    with panel.session() as s:
        assert wallet.check_ledger(s) == []


def test_bulk_reject_skips_a_request_that_a_transfer_matches(panel, owner):
    a, b = panel.pending_topups()
    matching_sms(panel, b)
    r = owner.post(
        "/admin/topups/action/",
        data={"csrf_token": owner.csrf, "action": "reject", "rowid": [a.id, b.id]},
        follow_redirects=True,
    )
    assert "needs a reason" in flashes(r.text)
    assert panel.tx(a.id).status == TransactionStatus.PENDING
    r = owner.post(
        "/admin/topups/action/",
        data={"csrf_token": owner.csrf, "action": "reject", "rowid": [a.id, b.id], "reason": "Duplicate request"},
        follow_redirects=True,
    )
    text = flashes(r.text)
    assert "Rejected 1 top-up request(s)." in text
    assert f"#{b.id}: Transfer 022755560001 matches this request: confirm to reject" in text
    assert panel.tx(a.id).status == TransactionStatus.REJECTED and panel.tx(b.id).status == TransactionStatus.PENDING


def test_no_edit_no_delete(panel, owner):
    tx = panel.pending_topups()[0]
    owner.post("/admin/topups/delete/", data={"csrf_token": owner.csrf, "id": tx.id})
    owner.post(f"/admin/topups/edit/?id={tx.id}", data={"csrf_token": owner.csrf, "amount": "99999"})
    row = panel.tx(tx.id)
    assert row is not None and row.amount == Decimal("200.00") and row.status == TransactionStatus.PENDING
    assert "/admin/topups/edit/" not in owner.get("/admin/topups/").text
