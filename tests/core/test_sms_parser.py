"""The Vodafone Cash SMS parser against a corpus of our own texts (numbers invented), parsed exactly."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from core.sms import normalize_mobile, parse_sms, split_messages

AR_3LINES = (
    "تم استلام مبلغ 5.18 جنيه من رقم 01012345678 المسجل باسم محمد أحمد على رقم محفظتك 01098765432.\n"
    "رصيدك الحالي: 606.82 جنيه.\nرقم العملية: 022768543034"
)
AR_OLD = (
    "تم استلام مبلغ 300.00 جنيه من 01112345678؛ المسجل باسم AHMED REDA على رقم محفظتك 01098765432 "
    "بتاريخ 15:54 26-08-13. رقم العملية: 022655099780"
)
EN = (
    "EGP 250.00 has been received from number 01012345679; registered to AHMED ALI. Your current balance is "
    "1,250.00 EGP. Transaction date 11/26/26 14:05. Transaction number: 022700000001"
)


def R(amount, sender, name, ref, balance=None, sent_at=None):
    return {
        "kind": "received",
        "amount": amount,
        "sender": sender,
        "sender_name": name,
        "reference": ref,
        "balance": balance,
        "sent_at": sent_at,
    }


OTHER = {
    "kind": "other",
    "amount": None,
    "sender": None,
    "sender_name": None,
    "reference": None,
    "balance": None,
    "sent_at": None,
}

CORPUS = [
    # the three documented forms
    (AR_3LINES, R("5.18", "01012345678", "محمد أحمد", "022768543034", "606.82")),
    (AR_OLD, R("300.00", "01112345678", "AHMED REDA", "022655099780", None, "2026-08-13T15:54:00+03:00")),
    (EN, R("250.00", "01012345679", "AHMED ALI", "022700000001", "1250.00", "2026-11-26T14:05:00+02:00")),
    # Arabic-Indic digits and Arabic decimal/thousands separators
    (
        "تم استلام مبلغ ١٬٢٥٠٫٥٠ جنيه من رقم ٠١٠١٢٣٤٥٦٧٨ المسجل باسم سارة علي على رقم محفظتك ٠١٠٩٨٧٦٥٤٣٢.\n"
        "رصيدك الحالي: ٣٬٠٠٠٫٠٠ جنيه.\nرقم العملية: ٠٢٢٧٦٨٥٤٣٠٩٩",
        R("1250.50", "01012345678", "سارة علي", "022768543099", "3000.00"),
    ),
    # spelling variants: ة for ه in جنيه, إ/أ in names and words, missing "مبلغ"
    (
        "تم استلام 75 جنية من رقم 01212345678 المسجل بإسم إيمان حسن على رقم محفظتك 01098765432. رقم العملية: 022700000002",
        R("75.00", "01212345678", "إيمان حسن", "022700000002"),
    ),
    (
        "تم استلام مبلغ 40.5 ج.م من رقم 01512345678 المسجله باسم منى على رقم محفظتك 01098765432. رقم العمليه 022700000003",
        R("40.50", "01512345678", "منى", "022700000003"),
    ),
    # +20, 0020 and 20 prefixes on the sender
    (
        "تم استلام مبلغ 100.00 جنيه من رقم +201012345678 المسجل باسم Omar على رقم محفظتك 01098765432. رقم العملية: 022700000004",
        R("100.00", "01012345678", "Omar", "022700000004"),
    ),
    (
        "تم استلام مبلغ 100.00 جنيه من رقم 00201112345678 المسجل باسم Omar على رقم محفظتك 01098765432. رقم العملية: 022700000005",
        R("100.00", "01112345678", "Omar", "022700000005"),
    ),
    (
        "EGP 60.00 has been received from number 201212345678; registered to MAI. Transaction number: 022700000006",
        R("60.00", "01212345678", "MAI", "022700000006"),
    ),
    # extra whitespace, tabs, direction marks and Windows line ends
    (
        "  تم   استلام  مبلغ\u200f 20.00\u200f  جنيه  من  رقم \u200e01012345678\u200e  المسجل باسم  علي   محمود  على رقم محفظتك 01098765432.\r\n"
        "رصيدك الحالي:\t 26.00 جنيه.\r\nرقم العملية:  022700000007  ",
        R("20.00", "01012345678", "علي محمود", "022700000007", "26.00"),
    ),
    # tatweel inside words
    (
        "تـم اسـتلام مبلغ 15.00 جنيـه من رقم 01012345678 المسجل باسم هدى على رقم محفظتك 01098765432. رقم العملية: 022700000008",
        R("15.00", "01012345678", "هدى", "022700000008"),
    ),
    # English variants
    (
        "You have received EGP 500.00 from 01012345678 registered to MOHAMED SAMIR. Your current balance is EGP 900.00. "
        "Transaction number: 022700000009",
        R("500.00", "01012345678", "MOHAMED SAMIR", "022700000009", "900.00"),
    ),
    (
        "You have received 1,000 EGP from number 01112345678; registered to NOUR. Transaction date 01/05/27 09:30. "
        "Transaction number 022700000010",
        R("1000.00", "01112345678", "NOUR", "022700000010", None, "2027-01-05T09:30:00+02:00"),
    ),
    (
        "EGP 250.00 has been received from number 01012345679 ; registered to AHMED ALI . Transaction No. 022700000011",
        R("250.00", "01012345679", "AHMED ALI", "022700000011"),
    ),
    (
        "egp 12.00 has been received from number 01012345679. Transaction number: 022700000012",
        R("12.00", "01012345679", None, "022700000012"),
    ),
    # date before time, four-digit year
    (
        "تم استلام مبلغ 10.00 جنيه من رقم 01012345678 المسجل باسم Ali على رقم محفظتك 01098765432 بتاريخ 2026-11-25 13:45. "
        "رقم العملية: 022700000013",
        R("10.00", "01012345678", "Ali", "022700000013", None, "2026-11-25T13:45:00+02:00"),
    ),
    # no sender name, no reference (still money received: stored only once a number is known)
    ("تم استلام مبلغ 33.00 جنيه من رقم 01012345678 على رقم محفظتك 01098765432.", R("33.00", "01012345678", None, None)),
    # a balance larger than the amount, written first: the received amount is read, never the balance
    (
        "رصيدك الحالي 9,999.00 جنيه. تم استلام مبلغ 1.00 جنيه من رقم 01012345678 المسجل باسم X على رقم محفظتك 01098765432. "
        "رقم العملية: 022700000014",
        R("1.00", "01012345678", "X", "022700000014", "9999.00"),
    ),
    (
        "Your current balance is 5,000.00 EGP. EGP 2.50 has been received from number 01012345678; registered to Y. "
        "Transaction number: 022700000015",
        R("2.50", "01012345678", "Y", "022700000015", "5000.00"),
    ),
    # anything else: outgoing, balance notices, promotions, garbage
    (
        "تم تحويل 100.00 جنيه لرقم 01012345678 المسجل باسم محمد. رصيدك الحالي 506.82 جنيه. رقم العملية: 022700000016",
        OTHER,
    ),
    ("تم تحويل مبلغ 50 جنيه الى رقم 01012345678 بنجاح. رقم العملية 022700000017", OTHER),
    ("You have sent EGP 100.00 to 01012345678. Transaction number: 022700000018", OTHER),
    ("EGP 100.00 has been transferred to 01012345678. Your current balance is 1,150.00 EGP.", OTHER),
    ("رصيدك الحالي 606.82 جنيه", OTHER),
    ("Your current balance is 1,250.00 EGP.", OTHER),
    ("استمتع بخصم 20% عند الدفع بفودافون كاش! اطلب *9# الان", OTHER),
    ("Get 100 EGP cashback when you pay with Vodafone Cash. Dial *9#", OTHER),
    ("تم دفع 50.00 جنيه لفاتورة الكهرباء. رقم العملية 022700000019", OTHER),
    ("", OTHER),
    ("asdf 1234 ;;; \u0000", OTHER),
    ("تم استلام مبلغ 0.00 جنيه من رقم 01012345678", OTHER),
    ("تم استلام مبلغ 5.123 جنيه من رقم 01012345678", OTHER),
    # a wallet number that is not an Egyptian mobile is not read as the sender
    (
        "تم استلام مبلغ 5.00 جنيه من رقم 0123 المسجل باسم Z على رقم محفظتك 01098765432. رقم العملية: 022700000020",
        R("5.00", None, "Z", "022700000020"),
    ),
]


@pytest.mark.parametrize("text,expected", CORPUS, ids=[f"sms{i:02d}" for i in range(len(CORPUS))])
def test_corpus_is_parsed_exactly(text, expected):
    assert parse_sms(text).to_json() == expected


def test_corpus_is_large_and_varied():
    assert len(CORPUS) >= 30
    assert sum(1 for _t, e in CORPUS if e["kind"] == "other") >= 10


def test_day_first_or_year_first_is_settled_by_when_the_phone_got_it():
    got_2013 = datetime(2013, 8, 26, 13, 0, tzinfo=timezone.utc)
    assert (
        parse_sms(AR_OLD, reference_time=got_2013).to_json()["sent_at"] == "2013-08-26T15:54:00+02:00"
    )  # no summer time in 2013
    got_2026 = datetime(2026, 8, 13, 13, 0, tzinfo=timezone.utc)
    assert parse_sms(AR_OLD, reference_time=got_2026).to_json()["sent_at"] == "2026-08-13T15:54:00+03:00"


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("01012345678", "01012345678"),
        ("+20 10 1234 5678", "01012345678"),
        ("0020-111-234-5678", "01112345678"),
        ("201212345678", "01212345678"),
        ("١٠١٢٣٤٥٦٧٨", "01012345678"),
        ("01312345678", None),
        ("0101234567", None),
    ],
)
def test_mobile_numbers_are_normalised(raw, expected):
    assert normalize_mobile(raw) == expected


def test_a_paste_of_several_messages_is_split():
    blob = f"{AR_3LINES}\n\n{AR_OLD}\n{EN}\n\n\n"
    parts = split_messages(blob)
    assert len(parts) == 3
    assert [parse_sms(p).reference for p in parts] == ["022768543034", "022655099780", "022700000001"]
    assert split_messages("  \n ") == []


def test_cli_parse_prints_one_json_object(tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "core", "sms", "parse"], input=EN, capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == CORPUS[2][1]
    other = subprocess.run(
        [sys.executable, "-m", "core", "sms", "parse"],
        input="hello",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert json.loads(other.stdout)["kind"] == "other"
