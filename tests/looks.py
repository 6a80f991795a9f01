"""What a look at a page catches, for the browser tests that look (tests/miniapp/test_looks.py,
tests/panel/test_looks.py): leftover texts, primary actions off screen, sideways scrolling, axe-core's
WCAG 2 A/AA rules (serious and critical) and, on the Mini App, tap targets under 44x44 CSS px.

axe-core (tests/vendor/axe-core, from npm) and tests/looks.js are injected by evaluating their source through
Playwright, as a DevTools evaluation, which the pages' Content-Security-Policy (script-src 'self') does not
govern. The other way, bypass_csp on the context, would switch the policy off for the page under test, so these
tests would no longer see the page as a student or an admin gets it (nor catch a CSP breakage).
"""

from __future__ import annotations

import enum
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

import core.models

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
LOOKS = Path(__file__).resolve().with_suffix(".js")
AXE_VERSION = "4.14.1"
OUTPUT = Path(__file__).resolve().parents[1] / "test-output"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}
VIEWPORTS = {"390": PHONE, "1366": LAPTOP}
TAP = 44  # CSS px, both ways (Apple's and Material's minimum; axe's target-size rule asks only 24)

ENUM_NAMES = sorted(
    {
        member.name
        for value in vars(core.models).values()
        if isinstance(value, type) and issubclass(value, enum.Enum) and value.__module__.startswith("core")
        for member in value
    }
)
# what a template or a script leaves when a value is missing or the wrong thing is printed
LEFTOVER = re.compile(
    r"built-in method|\[object|[{}]|(?<![\w-])(?:None|undefined|NaN|" + "|".join(ENUM_NAMES) + r")(?![\w-])"
)


@contextmanager
def serve(app) -> Iterator[str]:
    """The app on 127.0.0.1 in a thread (werkzeug), for a browser; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def leftovers(page) -> list[str]:
    text = page.evaluate("document.body.innerText")
    return [
        f"leftover text {m.group(0)!r} in …{text[max(0, m.start() - 40) : m.end() + 40]!r}…"
        for m in LEFTOVER.finditer(text)
    ]


def _helpers(page) -> None:
    """tests/looks.js and axe-core, evaluated into the page once per document."""
    if page.evaluate("typeof window.looks === 'undefined'"):
        page.evaluate(LOOKS.read_text(encoding="utf-8"))
        page.evaluate(AXE.read_text(encoding="utf-8"))
        assert page.evaluate("axe.version") == AXE_VERSION


def sideways(page) -> list[str]:
    _helpers(page)
    w = page.evaluate("looks.widths()")
    if w["scroll"] <= w["inner"]:
        return []
    return [f"scrolls sideways: {w['scroll']} px wide in a {w['inner']} px window (wider: {w['wide']})"]


def off_screen(page, actions: dict[str, str]) -> list[str]:
    """Each primary action (name -> selector, its first match) is on the page, visible, not covered, and
    inside the window once scrolled to vertically: never to the side of it."""
    _helpers(page)
    found = []
    for name, selector in actions.items():
        target = page.locator(selector).first
        if target.count() == 0:
            found.append(f"primary action {name!r} ({selector}) is not on the page")
            continue
        box = target.evaluate("el => looks.onScreen(el)")
        if not box["visible"] or not box["width"] or not box["height"]:
            found.append(f"primary action {name!r} ({selector}) is not visible")
        elif box["left"] < -0.5 or box["right"] > box["inner"] + 0.5:
            where = f"x {box['left']:.0f}..{box['right']:.0f} of {box['inner']} px"
            found.append(f"primary action {name!r} is outside the window: {where}")
        elif box["top"] < -0.5 or box["bottom"] > box["innerHeight"] + 0.5:
            found.append(f"primary action {name!r} does not fit the window height: {box}")
        elif box["covered"]:
            found.append(f"primary action {name!r} is covered by {box['covered']}")
    return found


def axe(page) -> list[str]:
    """axe-core's WCAG 2 A and AA rules (colour contrast AA among them): each node of impact serious or
    critical, readably."""
    _helpers(page)
    violations = page.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']},
                                                 resultTypes: ['violations']})).violations
          .map(v => ({id: v.id, help: v.help, nodes: v.nodes
            .filter(n => n.impact === 'serious' || n.impact === 'critical')
            .map(n => ({impact: n.impact, target: n.target.join(' '), why: n.failureSummary,
                        html: n.html.slice(0, 160)}))}))
          .filter(v => v.nodes.length)"""
    )
    found = []
    for v in violations:
        by_reason: dict[str, list[dict]] = {}
        for node in v["nodes"]:
            by_reason.setdefault(node["why"], []).append(node)
        for why, nodes in by_reason.items():
            where = "".join(f"\n      at {n['target']}: {n['html']}" for n in nodes[:4])
            more = f"\n      … and {len(nodes) - 4} more" if len(nodes) > 4 else ""
            why = why.replace("\n", "\n      ")
            found.append(f"axe {v['id']} ({nodes[0]['impact']}): {v['help']}\n      {why}{where}{more}")
    return found


def small_targets(page) -> list[str]:
    _helpers(page)
    return [f"tap target under {TAP}x{TAP} px: {t}" for t in page.evaluate("min => looks.smallTargets(min)", TAP)]


def look(page, name: str, actions: dict[str, str], *, tap_targets: bool) -> list[str]:
    """Everything a look at the page finds wrong (empty when nothing); the screenshot goes to test-output/."""
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"looks-{name}.png"), full_page=True)
    found = leftovers(page) + sideways(page) + off_screen(page, actions) + axe(page)
    if tap_targets:
        found += small_targets(page)
    return found


def report(name: str, found: list[str]) -> str:
    return f"{name}: {len(found)} problem(s)\n  - " + "\n  - ".join(found)
