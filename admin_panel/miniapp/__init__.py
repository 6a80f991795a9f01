"""The students' Telegram Mini App under /app/: server-rendered page shells (templates/miniapp/) and small
static scripts (static/, served at /app/assets/) that call the students' API (admin_panel.student_api).

Mini App pages may be framed by Telegram Web only; the panel keeps refusing any framing.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from markupsafe import Markup

from admin_panel.miniapp.labels import labels, words
from core.words import language_of

PAGES = {  # start_param / page name -> (endpoint, query); the same names as the bot's (bot/webapp.py)
    "wallet": ("miniapp.wallet", {}),
    "topup": ("miniapp.wallet", {"focus": "topup"}),
    "platforms": ("miniapp.enrollments", {}),
    "mentorship": ("miniapp.mentorship", {}),
    "book": ("miniapp.book", {}),
}
CSP = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    # Telegram's script injects <style> elements when it runs inside Telegram Web's iframe
    "style-src 'self' 'unsafe-inline'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self' https://web.telegram.org"
)

pages = Blueprint(
    "miniapp",
    __name__,
    url_prefix="/app",
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)


def _render(page: str, template: str):
    lang = language_of(request.args.get("lang"))
    t = words(lang)
    return render_template(
        f"miniapp/{template}",
        page=page,
        lang=lang,
        t=t,
        texts=labels(lang),
        pages=PAGES,
        skeleton=lambda tag: skeleton(tag, t.loading),
    )


def skeleton(tag: str, loading: str, rows: int = 3) -> Markup:
    """Placeholders while a list loads, read as "Loading…" (CH.skeleton in app.js draws the same)."""
    hidden = Markup('<{0} class="visually-hidden">{1}</{0}>').format(Markup(tag), loading)
    return hidden + Markup('<{0} class="skeleton" aria-hidden="true"></{0}>').format(Markup(tag)) * rows


@pages.get("/")
def launch():
    """Opened by the menu button or a t.me/<bot>/<app>?startapp=<page> link: the script picks the page."""
    return _render("launch", "launch.html")


@pages.get("/dashboard/wallet")
def wallet():
    return _render("wallet", "wallet.html")


@pages.get("/dashboard/enrollments")
def enrollments():
    return _render("platforms", "platforms.html")


@pages.get("/dashboard/mentorship")
def mentorship():
    return _render("mentorship", "mentorship.html")


@pages.get("/mentorship/book")
def book():
    return _render("book", "book.html")


@pages.get("/<path:_rest>")
def unknown(_rest):
    abort(404)


@pages.after_request
def _frameable_by_telegram(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers.pop("X-Frame-Options", None)
    return response
