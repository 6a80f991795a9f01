"""The panel in Arabic: its own catalog (admin_panel/panel/translations, domain `panel`) complete and compiled, each
admin's language stored on the account, and the main pages rendered right to left with no English left of what
the catalog translates."""

from __future__ import annotations

import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlalchemy import select

from admin_panel.web.i18n import DOMAIN, TRANSLATIONS
from core.errors import InvalidInput
from core.models import Admin
from core.services import admins
from tests.panel.helpers import flashes

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "admin_panel" / "panel" / "babel.cfg"
PO = TRANSLATIONS / "ar" / "LC_MESSAGES" / f"{DOMAIN}.po"
MO = PO.with_suffix(".mo")
ARABIC = re.compile("[\u0600-\u06ff]")


def source_messages() -> set[str]:
    """What `pybabel extract -F admin_panel/panel/babel.cfg` finds (README, Development)."""
    from babel.messages.frontend import parse_mapping_cfg

    with open(MAPPING) as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None}
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT / "admin_panel"), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalog():
    with open(PO, "rb") as f:
        return read_po(f, locale="ar")


def test_every_panel_text_has_an_arabic_translation_no_obsolete_entry_and_a_fresh_mo():
    entries = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog() if m.id}
    sources = source_messages()
    assert len(sources) > 300  # templates and views of every page are found
    untranslated = sorted(m for m in sources if not entries.get(m) or not all(_strings(entries[m])))
    assert untranslated == [], f"panel texts without Arabic: {untranslated}"
    obsolete = sorted(set(entries) - sources)
    assert obsolete == [], f"entries no page uses any more (pybabel update drops them): {obsolete}"
    placeholder = re.compile(r"%\([a-z_]+\)s")
    for msgid, message in entries.items():
        for text in _strings(message):
            assert sorted(placeholder.findall(msgid)) == sorted(placeholder.findall(text)), msgid
            assert ARABIC.search(text) or not re.search("[A-Za-z]{4}", msgid), msgid
    with open(MO, "rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = [m for m, e in entries.items() if isinstance(e.id, str) and compiled.gettext(m) != e.string]
    assert stale == [], "panel.mo is older than panel.po: pybabel compile -d admin_panel/panel/translations -D panel"


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


# --- the language choice: per admin, stored on the account ---------------------------------------------


def admin_id(panel, username: str) -> int:
    with panel.session() as s:
        return s.scalar(select(Admin.id).where(Admin.username == username))


def stored_language(panel, username: str) -> str:
    with panel.session() as s:
        return s.scalar(select(Admin.language).where(Admin.username == username))


def test_a_new_admin_reads_english_and_the_profile_page_offers_arabic(panel, owner):
    assert stored_language(panel, "owner") == "en"
    page = owner.get("/admin/account/")
    assert page.status_code == 200
    assert '<html lang="en" dir="ltr">' in page.text
    assert 'value="ar"' in page.text and "العربية" in page.text and "Panel language" in page.text


def test_choosing_arabic_is_stored_on_the_account_and_every_page_follows(panel, owner):
    r = owner.post("/admin/account/language", data={"csrf_token": owner.csrf, "language": "ar"})
    assert r.status_code == 303
    assert stored_language(panel, "owner") == "ar"
    page = owner.get("/admin/account/", follow_redirects=True)
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "bootstrap-rtl.min.css" in page.text and "bootstrap4/css/bootstrap.min.css" not in page.text
    assert "لغة لوحتك الآن العربية" in flashes(page.text)
    assert [a.action for a in panel.audits("admin.language")] == ["admin.language"]


def test_one_admins_choice_does_not_change_another_admins_pages(panel, owner, finance):
    owner.post("/admin/account/language", data={"csrf_token": owner.csrf, "language": "ar"})
    assert 'dir="rtl"' in owner.get("/admin/topups/").text
    theirs = finance.get("/admin/topups/").text
    assert '<html lang="en" dir="ltr">' in theirs and stored_language(panel, "finance") == "en"


@pytest.mark.parametrize("bad", ["fr", "", "AR; DROP TABLE admins", "x" * 500])
def test_a_bad_language_is_refused_with_a_clear_message_and_changes_nothing(panel, owner, bad):
    owner.post("/admin/account/language", data={"csrf_token": owner.csrf, "language": "ar"})
    r = owner.post("/admin/account/language", data={"csrf_token": owner.csrf, "language": bad}, follow_redirects=True)
    assert stored_language(panel, "owner") == "ar"
    assert "اختر الإنجليزية أو العربية؛ لم تتغير لغتك." in flashes(r.text)
    assert len(panel.audits("admin.language")) == 1


def test_the_service_refuses_other_languages_by_name(panel):
    with panel.session() as s, pytest.raises(InvalidInput) as err:
        admins.set_language(s, admin_id(panel, "owner"), "de")
    assert err.value.details == {"field": "language"} and "English (en) or Arabic (ar)" in str(err.value)
    with panel.session() as s:
        assert admins.set_language(s, admin_id(panel, "owner"), " AR ").language == "ar"


def test_the_login_page_offers_arabic_before_login_and_the_account_decides_after(panel, client):
    page = client.get("/admin/login")
    assert '<html lang="en" dir="ltr">' in page.text and "العربية" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/admin/login/language", data={"csrf_token": csrf, "language": "ar", "next": "/admin/login"})
    assert r.status_code == 302
    arabic = client.get("/admin/login").text
    assert '<html lang="ar" dir="rtl">' in arabic and "تسجيل الدخول" in arabic and "Log in" not in arabic
    from tests.panel.helpers import login

    login(client, "owner")  # the owner's account says English
    assert '<html lang="en" dir="ltr">' in client.get("/admin/").text


def test_the_login_switch_changes_nothing_for_a_logged_in_admin(panel, owner):
    r = owner.post("/admin/login/language", data={"csrf_token": owner.csrf, "language": "ar"})
    assert r.status_code == 302 and r.location.endswith("/admin/account/")  # the account's choice is made there
    assert stored_language(panel, "owner") == "en" and 'dir="ltr"' in owner.get("/admin/").text


def test_the_api_and_the_exports_stay_english_for_an_arabic_admin(panel, owner):
    owner.post("/admin/account/language", data={"csrf_token": owner.csrf, "language": "ar"})
    csv_text = owner.get("/admin/transactions/export/csv/").get_data(as_text=True)
    header = csv_text.splitlines()[0]
    assert not ARABIC.search(header) and "Amount" in header
    assert not ARABIC.search(csv_text)
    api = owner.get("/api/admin/topups?status=BOGUS")
    assert not ARABIC.search(api.get_data(as_text=True))


# --- the main pages in Arabic ----------------------------------------------------------------------------


class _Text(HTMLParser):
    """The panel's own text a person sees: no script, style or attribute, and not the stored data the page isolates
    with `<bdi dir="auto">` (a description or a reason as it was written, in whatever language)."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        hidden = tag == "div" and "d-none" in (dict(attrs).get("class") or "").split()  # Flask-Admin's JSON data
        if self._skip:
            self._skip += tag in ("div", "bdi", "script", "style")
        else:
            self._skip = int(tag in ("script", "style") or hidden or (tag == "bdi" and ("dir", "auto") in attrs))

    def handle_endtag(self, tag):
        if self._skip and tag in ("div", "bdi", "script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


def english_leftovers(text: str) -> list[str]:
    """Catalog texts of two words or more (no placeholder) that appear untranslated on the page."""
    found = []
    for message in catalog():
        msgid = message.id if isinstance(message.id, str) else None
        if msgid and " " in msgid and "%(" not in msgid and msgid in text:
            found.append(msgid)
    return found


@pytest.mark.parametrize(
    "url,expected",
    [
        ("/admin/", ["لوحة المعلومات", "الإيرادات اليوم", "طلبات شحن معلقة"]),
        ("/admin/topups/", ["طلبات الشحن", "الطالب", "المبلغ"]),
        ("/admin/transactions/", ["المعاملات", "النوع", "الحالة"]),
        ("/admin/bookings/", ["الحجوزات", "المرشد", "المدة"]),
        ("/admin/settings/", ["الإعدادات", "حفظ"]),
        ("/admin/reports/", ["التقارير"]),
        ("/admin/analytics/", ["التحليلات", "نسب إكمال المنصات", "استخدام المحفظة", "القيمة الدائمة للعميل"]),
    ],
)
def test_the_main_pages_read_in_arabic_right_to_left(panel, owner, url, expected):
    owner.post("/admin/account/language", data={"csrf_token": owner.csrf, "language": "ar"})
    page = owner.get(url)
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page.text
    text = visible_text(page.text)
    missing = [word for word in expected if word not in text]
    assert missing == [], missing
    assert english_leftovers(text) == []
    assert not re.search(r"\b(None|TOP_UP|MENTORSHIP_PAYMENT|PLATFORM_PURCHASE|SIGNUP_BONUS|PENDING|CONFIRMED)\b", text)
    if url == "/admin/transactions/":  # the filters offer labels, not enum names
        groups = re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', page.text, re.S).group(1)
        assert "\\u0634\\u062d\\u0646" in groups or "شحن" in groups  # "شحن", the Top-up type's label


def test_the_analytics_page_says_its_numbers_months_and_a_bad_period_in_arabic(panel, owner):
    import json

    owner.post("/admin/account/language", data={"csrf_token": owner.csrf, "language": "ar"})
    page = owner.get("/admin/analytics/?from=2024-11&to=2024-09")
    assert page.status_code == 200 and '<html lang="ar" dir="rtl">' in page.text
    error = visible_text(re.search(r'<div[^>]*id="period-error".*?</div>', page.text, re.S).group(0))
    said = "تبدأ الفترة (٢٠٢٤-١١) بعد أن تنتهي (٢٠٢٤-٠٩): اختر شهر «من» في شهر «إلى» أو قبله."
    assert error == said + " نعرض آخر ٦ أشهر بدلًا منها."
    text = visible_text(page.text)
    assert english_leftovers(text) == [] and "—" in text
    assert not re.search(r"\b(None|PENDING|CONFIRMED|COMPLETED|CANCELLED)\b", text)
    for part in ("period", "metric-cards", "table-mrr", "table-bookings", "table-adoption"):
        shown = visible_text(re.search(rf'id="{part}".*?</(p|div|table)>', page.text, re.S).group(0))
        assert ARABIC.search(shown) and not re.search("[0-9]", shown), (part, shown)  # Arabic-Indic digits
    charts = json.loads(re.search(r'id="chart-data">(.*?)</script>', page.text, re.S).group(1))
    assert all(not re.search("[0-9]", label) for label in charts[0]["labels"]) and charts[0]["unit"] == "ج.م"
    words = [d["label"] for c in charts for d in c["datasets"]] + [c.get("unit", "") for c in charts]
    assert all(ARABIC.search(w) for w in words if w not in ("%", "")), words
    presets = re.findall(r'href="/admin/analytics/\?from=[^"]+">([^<]+)</a>', page.text)
    assert presets == ["آخر ٣ أشهر", "آخر ٦ أشهر", "آخر ١٢ شهرًا", "هذا العام"]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/students/",
        "/admin/transfers/",
        "/admin/transfers/statement",
        "/admin/transfers/signals",
        "/admin/mentors/",
        "/admin/platforms/",
        "/admin/platforms/new/",
        "/admin/tasks/",
        "/admin/enrollments/",
        "/admin/broadcasts/?preview=1&text=hi",
        "/admin/audit/",
        "/admin/accounts/",
        "/admin/api-tokens/",
        "/admin/account/",
        "/admin/account/password",
        "/admin/no-such-page",
        "student",
        "booking",
        "topup",
    ],
)
def test_every_other_page_reads_in_arabic_too(panel, owner, url):
    from core.models import MentorshipBooking, Transaction, TransactionType, User

    owner.post("/admin/account/language", data={"csrf_token": owner.csrf, "language": "ar"})
    with panel.session() as s:
        url = {
            "student": f"/admin/students/student/{s.scalar(select(User.id).limit(1))}",
            "booking": f"/admin/bookings/booking/{s.scalar(select(MentorshipBooking.id).limit(1))}",
            "topup": "/admin/topups/request/"
            + str(s.scalar(select(Transaction.id).where(Transaction.type == TransactionType.TOP_UP).limit(1))),
        }.get(url, url)
    page = owner.get(url)
    assert page.status_code in (200, 404)
    assert '<html lang="ar" dir="rtl">' in page.text
    text = visible_text(page.text)
    assert ARABIC.search(text) and english_leftovers(text) == []
    assert not re.search(r"\b(None|TOP_UP|MENTORSHIP_PAYMENT|PLATFORM_PURCHASE|SIGNUP_BONUS|PENDING|APPROVED)\b", text)


def test_no_translated_call_hides_inside_an_f_string():
    """pybabel (Python 3.11) reads an f-string as one token: a `_()` inside it is never extracted, so never
    translated."""
    hidden = re.compile(r"""\bf(['"]).*\{[^}]*\b_l?\(""")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("panel", "web")
        for path in sorted((ROOT / "admin_panel" / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if hidden.search(line)
    ]
    assert offenders == []
