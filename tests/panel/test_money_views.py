"""Transactions (filters, search, totals, exports) and students (page, adjust balance, block)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from core.models import Transaction, TransactionType, User
from tests.panel.helpers import flashes


def _student(panel, name: str) -> User:
    with panel.session() as s:
        return s.scalar(select(User).where(User.full_name == name))


def rows_text(html: str) -> str:
    """The list's cells (the filter menu also names every type: its options are labels too)."""
    return " ".join(re.findall(r"<td[^>]*>(.*?)</td>", html, re.S))


def test_transactions_filter_by_type_and_show_totals(panel, finance):
    html = finance.get("/admin/transactions/?flt0_type_equals=SIGNUP_BONUS").text
    cells = rows_text(html)
    assert cells.count("Welcome credit") == 8  # in each of the 4 rows: the type's label and the description
    assert "SIGNUP_BONUS" not in cells and "APPROVED" not in cells  # labels, not enum names
    assert "Totals of the filtered rows" in html
    assert re.search(r"Approved</strong>: 4 rows, net 2,000.00 EGP", html)


def test_transactions_filter_by_status_and_student_and_search(panel, finance):
    html = finance.get("/admin/transactions/?flt0_status_equals=PENDING").text
    assert "Pending</strong>: 2 rows, net 350.50 EGP" in html
    omar = _student(panel, "Omar Hassan")
    html = finance.get(f"/admin/transactions/?flt0_student_id_equals={omar.id}").text
    assert "Omar Hassan" in html and "Mariam Adel" not in html
    html = finance.get("/admin/transactions/?search=Flask").text
    assert "Enrolled in Web Development with Flask" in html and "Welcome credit" not in rows_text(html)


def test_transactions_date_filter_is_validated_not_a_500(panel, finance):
    assert finance.get("/admin/transactions/?flt0_date_on_or_after=not-a-date").status_code == 200
    html = finance.get("/admin/transactions/?flt0_date_on_or_after=2999-01-01").text
    assert "Welcome credit" not in rows_text(html)
    html = finance.get("/admin/transactions/?flt0_date_up_to_inclusive=2999-01-01").text
    assert "Welcome credit" in rows_text(html)


def test_transactions_are_read_only(panel, finance):
    with panel.session() as s:
        tx = s.scalar(select(Transaction).limit(1))
    finance.post(f"/admin/transactions/edit/?id={tx.id}", data={"csrf_token": finance.csrf, "amount": "1"})
    finance.post("/admin/transactions/delete/", data={"csrf_token": finance.csrf, "id": tx.id})
    assert panel.tx(tx.id).amount == tx.amount


def test_csv_export_of_filtered_transactions(panel, finance):
    r = finance.get("/admin/transactions/export/csv/?flt0_type_equals=TOP_UP")
    assert r.status_code == 200 and "text/csv" in r.content_type
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert len(rows) == 4 and {row["Type"] for row in rows} == {"Top-up"}
    assert {row["Status"] for row in rows} == {"Approved", "Rejected", "Pending"}
    assert {row["Amount"] for row in rows} == {"300.00", "1000.00", "200.00", "150.50"}
    assert all("****" in row["Sender"] for row in rows)


def test_xlsx_export(panel, finance):
    r = finance.get("/admin/transactions/export/xlsx/")
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    header = [c.value for c in sheet[1]]
    assert "Amount" in header and sheet.max_row == 1 + panel.count(Transaction)


def test_the_students_list_lists_students_not_mentors(panel, finance):
    html = finance.get("/admin/students/").text
    assert "Omar Hassan" in html and "Mariam Adel" in html
    assert "Salma Farouk" not in html and "Ahmed (CodeHub founder)" not in html  # on the Mentors page
    assert "Salma Farouk" not in finance.get("/admin/students/?search=Salma").text


def test_students_list_search_and_page(panel, finance):
    html = finance.get("/admin/students/?search=Omar").text
    assert "Omar Hassan" in html and "Mariam Adel" not in html
    omar = _student(panel, "Omar Hassan")
    html = finance.get(f"/admin/students/student/{omar.id}").text
    assert "Data Structures &amp; Algorithms" in html  # enrollment
    assert 'id="student-ledger"' in html and "Vodafone Cash top-up" in html
    assert "Completed" in html and "COMPLETED" not in html  # the booking, by its status's label
    assert finance.get("/admin/students/student/99999", follow_redirects=True).status_code == 200


def _adjust(client, user_id, amount, reason, nonce="n1"):
    return client.post(
        f"/admin/students/student/{user_id}/adjust",
        follow_redirects=True,
        data={"csrf_token": client.csrf, "amount": amount, "reason": reason, "nonce": nonce},
    )


def test_adjust_balance_credit_and_debit(panel, finance):
    omar = _student(panel, "Omar Hassan")
    r = _adjust(finance, omar.id, "50", "Goodwill for the outage", "a")
    assert "new balance" in flashes(r.text)
    assert panel.user(omar.id).balance == omar.balance + Decimal("50.00")
    _adjust(finance, omar.id, "-20.5", "Correction", "b")
    assert panel.user(omar.id).balance == omar.balance + Decimal("29.50")
    assert len(panel.audits("balance.adjust")) == 2
    with panel.session() as s:
        rows = s.scalars(select(Transaction).where(Transaction.type == TransactionType.ADJUSTMENT)).all()
    assert sorted(r.amount for r in rows) == [Decimal("-20.50"), Decimal("50.00")]


def test_adjust_twice_with_the_same_form_applies_once(panel, finance):
    omar = _student(panel, "Omar Hassan")
    _adjust(finance, omar.id, "10", "Bonus", "same")
    r = _adjust(finance, omar.id, "10", "Bonus", "same")
    assert "already saved" in flashes(r.text)
    assert panel.user(omar.id).balance == omar.balance + Decimal("10.00")


@pytest.mark.parametrize(
    "amount,reason,message",
    [
        ("abc", "r", "not a number"),
        ("0", "r", "must not be zero"),
        ("1.234", "r", "at most 2 decimal places"),
        ("50", "", "A reason is required"),
        ("50", "x" * 2000, "too long"),
        ("-999999", "r", "Not enough balance"),
        ("", "r", "Enter a signed amount"),
        ("99999999", "r", "too large"),
    ],
)
def test_adjust_bad_input_changes_nothing(panel, finance, amount, reason, message):
    omar = _student(panel, "Omar Hassan")
    r = _adjust(finance, omar.id, amount, reason)
    assert r.status_code == 200
    assert "Balance not changed" in flashes(r.text) or "Enter a signed amount" in flashes(r.text)
    assert message in flashes(r.text)
    assert panel.user(omar.id).balance == omar.balance


def test_adjust_unknown_student(panel, finance):
    r = _adjust(finance, 99999, "5", "r")
    assert "not found" in flashes(r.text).lower()


def test_block_and_unblock_owner_only(panel, owner, finance):
    omar = _student(panel, "Omar Hassan")
    r = finance.post(
        f"/admin/students/student/{omar.id}/block",
        data={"csrf_token": finance.csrf, "blocked": "1"},
        follow_redirects=True,
    )
    assert "Only the owner" in flashes(r.text) and not panel.user(omar.id).is_blocked
    owner.post(f"/admin/students/student/{omar.id}/block", data={"csrf_token": owner.csrf, "blocked": "1"})
    assert panel.user(omar.id).is_blocked
    assert "blocked</span>" in owner.get("/admin/students/").text
    owner.post(f"/admin/students/student/{omar.id}/block", data={"csrf_token": owner.csrf, "blocked": "0"})
    assert not panel.user(omar.id).is_blocked
    assert [a.action for a in panel.audits("user.block")] == ["user.block"]
