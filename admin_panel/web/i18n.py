"""The panel's language: English or Arabic per admin (admins.language), Flask-Babel over the panel's own catalog
(admin_panel/panel/translations, domain `panel`; Flask-Admin's own words come from its `admin` catalog through the
same locale), and what money, times and labels read in it.

Only pages under /admin/ speak the admin's language; the admins' API, the students' API and the Mini App are
untouched (the API stays English, students have core.words).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, has_request_context, request
from flask import session as browser_session
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.words import DEFAULT_LANGUAGE, LANGUAGES, digits, gettext_for
from core.words.labels import status_name, type_name

TRANSLATIONS = Path(__file__).resolve().parent.parent / "panel" / "translations"  # the panel owns its words
DOMAIN = "panel"
PANEL_PREFIX = "/admin"
LOGIN_CHOICE = "panel_language"  # the session key of the language picked on the login page, before login
RIGHT_TO_LEFT = frozenset({"ar"})


def _is_panel_page() -> bool:
    path = request.path
    return path == PANEL_PREFIX or path.startswith(PANEL_PREFIX + "/")


def select_language() -> str:
    """The logged-in admin's choice; before login, the one picked on the login page; English otherwise."""
    if not has_request_context() or not _is_panel_page():
        return DEFAULT_LANGUAGE
    if current_user.is_authenticated:
        chosen = getattr(current_user, "language", DEFAULT_LANGUAGE)
    else:
        chosen = browser_session.get(LOGIN_CHOICE, DEFAULT_LANGUAGE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def language() -> str:
    """The language this request's panel text is in (also inside flask_babel.force_locale, e.g. CSV exports)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT_LANGUAGE


def direction() -> str:
    return "rtl" if language() in RIGHT_TO_LEFT else "ltr"


def core_words():
    """`_` of the students' catalog (core.words) in the panel's language: status and type names are said alike
    on both sides."""
    return gettext_for(language())


def init_i18n(app: Flask) -> None:
    Babel(
        app,
        locale_selector=select_language,
        default_domain=DOMAIN,
        default_translation_directories=str(TRANSLATIONS),
    )

    @app.context_processor
    def _language():
        if not has_request_context() or not _is_panel_page():
            return {}
        return {
            "panel_language": language(),
            "panel_direction": direction(),
            "panel_languages": LANGUAGE_NAMES,
            "role_name": role_name,
            "signal_name": lambda kind: str(SIGNAL_NAMES.get(kind, kind)),
            "status_label": lambda value: status_name(value, core_words()),
            "type_label": lambda value: type_name(value, core_words()),
            "number": lambda value: digits(str(value), language()),
        }


ROLE_NAMES = {"owner": _l("owner"), "finance": _l("finance"), "mentor": _l("mentor")}


# The fraud signals of core.services.reconciliation, by kind (their detail is the service's English sentence).
SIGNAL_NAMES = {
    "SHARED_SENDER": _l("shared sender"),
    "CLAIMED_TWICE": _l("claimed twice"),
    "REPEATED_REJECTIONS": _l("repeated rejections"),
    "NO_TRANSFER": _l("no transfer"),
    "BURST": _l("burst of requests"),
    "NAME_DIFFERS": _l("name differs"),
}


def role_name(role) -> str:
    value = getattr(role, "value", role)
    return str(ROLE_NAMES.get(value, value))


# Each language named in itself, as a language switch shows it (pairs: core.words keeps no dict of Arabic text).
LANGUAGE_NAMES = (("en", "English"), ("ar", "العربية"))
