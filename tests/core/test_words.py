"""The students' words (core.words): one catalog for the bot and the web, complete in Arabic and compiled; each
text written once; one language rule; the web says a domain error in the bot's words."""

from __future__ import annotations

import ast
import gettext
import re
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core.errors import InsufficientFunds, InvalidAmount, NotFound
from core.words import LOCALES_DIR, digits, gettext_for, language_of
from core.words.errors import ERROR_WORDS, text_for_code
from core.words.labels import STATUS_NAMES, TYPE_NAMES, status_name, type_name

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "core", "admin_panel")
# The admins' panel has its own catalog (admin_panel/panel/translations, tests/panel/test_panel_words.py).
ADMIN_FOLDERS = (ROOT / "admin_panel" / "panel", ROOT / "admin_panel" / "web")


def _students_words(dirpath: str) -> bool:
    return not any(Path(dirpath).resolve().is_relative_to(folder) for folder in ADMIN_FOLDERS)


def source_messages() -> set[str]:
    found = set()
    for folder in SOURCES:
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(ROOT / folder),
            method_map=[("**.py", "python")],
            keywords={"_": None, "N_": None},
            directory_filter=_students_words,
        ):
            if isinstance(message, str):
                found.add(message)
    return found


def test_every_text_has_an_arabic_translation_and_the_mo_is_compiled():
    with open(LOCALES_DIR / "ar" / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    translated = {m.id: m.string for m in catalog if m.id}
    sources = source_messages()
    assert len(sources) > 250  # the bot's, the API's and the Mini App's words are all found
    missing = sorted(m for m in sources if not translated.get(m))
    assert missing == [], f"texts without Arabic: {missing}"
    placeholder = re.compile(r"\{[a-z_]+\}")
    for msgid, text in translated.items():
        assert sorted(placeholder.findall(msgid)) == sorted(placeholder.findall(text)), msgid
    with open(LOCALES_DIR / "ar" / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = [m for m, t in translated.items() if compiled.gettext(m) != t]
    assert stale == [], "messages.mo is older than messages.po: run pybabel compile -d core/words/locales -D messages"


def test_no_interface_keeps_words_of_its_own():
    """Words for students are msgids of the catalog: no dict of Arabic text, no second language rule."""
    arabic = re.compile("[\u0600-\u06ff]")
    offenders = []
    for folder in ("bot", "admin_panel"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Dict) and any(  # (Arabic to Arabic is input normalisation: bot/dates.py)
                    isinstance(v, ast.Constant)
                    and isinstance(v.value, str)
                    and arabic.search(v.value)
                    and not (isinstance(k, ast.Constant) and arabic.search(str(k.value)))
                    for k, v in zip(node.keys, node.values)
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: a dict of Arabic text")
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "startswith"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and node.args[0].value == "ar"
                ):
                    offenders.append(
                        f"{path.relative_to(ROOT)}:{node.lineno}: a language rule (core.words.language_of)"
                    )
    assert offenders == []


@pytest.mark.parametrize(
    "code,language",
    [
        ("ar", "ar"),
        ("ar-EG", "ar"),
        ("AR", "ar"),
        (" ar", "ar"),
        ("en", "en"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
        ("arm", "ar"),
    ],
)
def test_one_language_rule(code, language):
    assert language_of(code) == language


def test_status_and_type_names_in_both_languages():
    for names, name_of in ((STATUS_NAMES, status_name), (TYPE_NAMES, type_name)):
        for value in names:
            english, arabic = name_of(value, gettext_for("en")), name_of(value, gettext_for("ar"))
            assert english != value and "_" not in english
            assert re.search("[\u0600-\u06ff]", arabic), value
    assert type_name("SIGNUP_BONUS", gettext_for("ar")) == "رصيد الترحيب"


def test_the_web_voice_words_a_domain_error_as_the_bot_does():
    from admin_panel.student_api.texts import domain_message, error_message

    err = InsufficientFunds(required=Decimal("250.00"), balance=Decimal("100.00"), shortfall=Decimal("150.00"))
    english, arabic = domain_message(err, "en"), domain_message(err, "ar")
    assert english == "Not enough balance: you need 250.00 EGP and have 100.00 EGP (short by 150.00 EGP)."
    assert "٢٥٠٫٠٠" in arabic and "ج.م" in arabic and "250" not in arabic  # the bot's Arabic digits and currency
    assert error_message("NOT_FOUND", "ar") == domain_message(NotFound(), "ar")
    assert error_message("RATE_LIMITED", "ar").startswith("طلبات كثيرة")
    assert "{" not in error_message("INVALID_AMOUNT", "en", reason="TOO_SMALL")  # details missing: still a sentence
    assert text_for_code("NO_SUCH_CODE", {}, None) is None
    assert InvalidAmount in ERROR_WORDS and digits("150", "ar") == "١٥٠"


def test_arabic_texts_write_numbers_and_the_currency_as_the_rest_of_the_arabic_ui():
    """Errors said "like 150 or 150.50" and "(جنيه)" while amounts read ١٥٠٫٥٠ ج.م: outside typed examples
    (<code>), placeholders and /commands, an Arabic text uses Arabic-Indic digits and ج.م, never "(جنيه)"."""
    with open(LOCALES_DIR / "ar" / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    western = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        text = message.string if isinstance(message.string, str) else " ".join(message.string)
        prose = re.sub(r"<code>.*?</code>|\{[^}]*\}|<[^>]*>|/[a-z_]+", "", text, flags=re.S)
        if re.search(r"[0-9]", prose) or "(جنيه)" in text:
            western.append(text)
    assert western == []


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_missing_or_out_of_range_field_is_named_in_its_own_words(language):
    """An empty wallet number or a rating without stars got "Please check what you entered"; each field the
    Mini App sends has its own sentence, and others the general one."""
    from admin_panel.student_api.texts import error_message
    from core.words.errors import FIELD_WORDS

    general = error_message("INVALID_INPUT", language)
    said = {field: error_message("INVALID_INPUT", language, field=field) for field in [*FIELD_WORDS, "rating"]}
    assert general not in said.values() and len(set(said.values())) == len(said)
    assert said["rating"] == error_message("INVALID_RATING", language)
    assert error_message("INVALID_INPUT", language, field="somethingElse") == general
    if language == "ar":
        assert "٠١٠١٢٣٤٥٦٧٨" in said["walletNumber"] and "١٥٠٫٥٠" in said["amount"]
    too_long = error_message("INVALID_INPUT", language, field="feedback", limit=1000)
    assert too_long != general and ("1000" in too_long or "١٠٠٠" in too_long)
