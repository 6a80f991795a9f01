"""A phone for the Mini App's browser tests: a Chromium context opened as Telegram opens the Mini App (signed init
data and a theme in the URL hash), which records JavaScript errors, CSP violations and any request that leaves
the test server. Telegram's own light and dark themes."""

from __future__ import annotations

import json
from urllib.parse import quote

from playwright.sync_api import expect

from tests.external import keep_offline
from tests.looks import OUTPUT, PHONE
from tests.student_api.conftest import sign, tg_user

LIGHT = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#707579",
    "link_color": "#3390ec",
    "button_color": "#3390ec",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f4f4f5",
}
DARK = {
    "bg_color": "#212121",
    "text_color": "#ffffff",
    "hint_color": "#aaaaaa",
    "link_color": "#8774e1",
    "button_color": "#8774e1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#181818",
}


class Phone:
    def __init__(self, browser, base: str, telegram_id: int, language: str, theme: dict, viewport: dict = PHONE):
        self.base, self.telegram_id, self.language, self.theme = base, telegram_id, language, theme
        self.context = browser.new_context(
            base_url=base, viewport=viewport, device_scale_factor=2, color_scheme="dark" if theme is DARK else "light"
        )
        self.outside, self.errors = keep_offline(self.context, base), []
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)

    def _console(self, message):
        # a refusal the test provokes (400, 409) is logged by Chromium as a failed load: not a page error
        if message.type == "error" and "responded with a status of 4" not in message.text:
            self.errors.append(message.text)

    def open(self, path: str, first_name: str = "Hana"):
        init = sign(tg_user(self.telegram_id, self.language, first_name))
        fragment = (
            f"tgWebAppData={quote(init, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=tdesktop"
            f"&tgWebAppThemeParams={quote(json.dumps(self.theme), safe='')}"
        )
        self.page.goto(f"{path}{'&' if '?' in path else '?'}lang={self.language}#{fragment}")
        expect(self.page.locator("#balance-chip")).not_to_have_text("…")

    def balance(self) -> str:
        return self.page.inner_text("#balance-chip")

    def shot(self, name: str):
        OUTPUT.mkdir(exist_ok=True)
        self.page.screenshot(path=str(OUTPUT / f"miniapp-{name}.png"), full_page=True)

    def close(self):
        self.context.close()
        assert not self.outside, f"the page tried to reach the network: {self.outside}"
        assert not self.errors, f"JavaScript errors or CSP violations: {self.errors}"
