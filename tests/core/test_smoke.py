from decimal import Decimal

from core.services import students, wallet


def test_register_gives_welcome_credit_once(session):
    first = students.register(session, 42, full_name="Mona")
    again = students.register(session, 42, full_name="Mona")
    assert first.created and first.bonus == Decimal("500.00")
    assert not again.created and again.user.balance == Decimal("500.00")
    assert wallet.check_ledger(session) == []
