"""Dashboard, settings, audit log, reports, panel accounts and broadcasts."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.models import Admin, Broadcast, Notification, Setting, Transaction, TransactionType
from core.timeutil import CAIRO, as_utc, utcnow
from tests.panel.helpers import flashes, login


def test_the_dashboard_and_readyz_say_what_the_bot_last_reported(panel, finance):
    """Telegram out of reach at the bot's start: nothing told the admin. The dashboard says so (and when the bot
    never started, went quiet or stopped); /readyz carries the bot's state for a monitor."""
    from datetime import timedelta

    from core.services import processes

    def dashboard() -> str:
        html = finance.get("/admin/").text
        start = html.index('id="bot-state"')
        return html[start : html.index("</", start)]

    assert "has not started yet" in dashboard() and "bot" not in finance.get("/readyz").get_json()
    now = utcnow()
    with panel.session() as s:
        processes.report(s, "bot", processes.UNREACHABLE, "https://api.telegram.org: timeout", now=now)
    assert "cannot reach Telegram" in dashboard() and "api.telegram.org: timeout" in finance.get("/admin/").text
    assert finance.get("/readyz").get_json()["bot"] == "unreachable"
    with panel.session() as s:
        processes.report(s, "bot", processes.RUNNING, "@codehub_bot", now=now)
    assert "Bot running as @codehub_bot" in dashboard() and finance.get("/readyz").get_json()["bot"] == "running"
    with panel.session() as s:
        processes.report(s, "bot", processes.RUNNING, "@codehub_bot", now=now - timedelta(minutes=10))
    assert "has not been heard from" in dashboard() and finance.get("/readyz").get_json()["bot"] == "stale"
    with panel.session() as s:
        processes.report(s, "bot", processes.STOPPED, now=now)
    assert "The bot is stopped" in dashboard()


def test_dashboard_shows_kpis_charts_and_needs_attention(panel, finance):
    html = finance.get("/admin/").text
    assert 'id="kpi-pending-topups">2<' in html
    assert "350.50 EGP" in html  # pending top-ups sum
    assert 'id="kpi-pending-bookings">1<' in html
    for chart in ("chart-revenue", "chart-topups", "chart-enrollments", "chart-bookings"):
        assert f'id="{chart}"' in html
    assert "/assets/vendor/chart.umd.min.js" in html
    assert "cdn" not in html.lower() and "https://" not in html.split("<body")[0]
    data = json.loads(html.split('id="chart-data">')[1].split("</script>")[0])
    assert len(data["revenue"]["labels"]) == 30
    assert data["topups"]["counts"] == [1, 1, 2]
    assert dict(zip(data["enrollments"]["labels"], data["enrollments"]["data"]))["Python Foundations"] == 1
    attention = html.split('id="needs-attention"')[1]
    assert "Youssef Ali" in attention and "Mariam Adel" in attention


def test_vendored_chart_js_is_served_with_its_license(panel, client):
    r = client.get("/assets/vendor/chart.umd.min.js")
    assert r.status_code == 200 and b"Released under the MIT License" in r.data[:400]


def test_mentor_home_goes_to_bookings(panel, mentor):
    r = mentor.get("/admin/")
    assert r.status_code == 302 and r.location.endswith("/admin/bookings/")


def test_settings_update_is_audited(panel, owner):
    page = owner.get("/admin/settings/").text
    assert "01099998888" in page
    data = {
        "csrf_token": owner.csrf,
        "vodafone_cash_number": "01011112222",
        "signup_bonus": "250",
        "durations": "30,60",
        "min_topup": "10.00",
        "max_topup": "50000.00",
        "max_pending_topups": "3",
        "max_topups_per_day": "5",
        "mentor_default_rate": "300.00",
        "max_pending_bookings": "3",
        "stale_topup_hours": "12",
    }
    data["mentorship_available"] = ["false"]  # the box unticked
    r = owner.post("/admin/settings/", data=data, follow_redirects=True)
    assert "Saved 4 setting(s)." in flashes(r.text)
    with panel.session() as s:
        saved = {row.key: row.value for row in s.scalars(select(Setting))}
    assert saved["vodafone_cash_number"] == "01011112222" and saved["durations"] == "30,60"
    assert saved["mentorship_available"] == "false" and saved["signup_bonus"] == "250.00"
    assert 'id="mentorship_available" name="mentorship_available" value="true" >' in r.text
    audit = panel.audits("settings.update")[-1]
    assert audit.actor == "owner" and "01099998888" in audit.before and "01011112222" in audit.after


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("vodafone_cash_number", "12345", "Egyptian mobile number"),
        ("signup_bonus", "-1", "Must be between 0.00 and 10000.00"),
        ("durations", "5,60", "between 15 and 480"),
        ("min_topup", "90000", "Must not exceed the maximum top-up"),
        ("max_pending_topups", "x" * 300, "Too long (200 characters at most)"),
    ],
)
def test_settings_bad_values_change_nothing_and_are_said_on_their_field(panel, owner, key, value, message):
    r = owner.post(
        "/admin/settings/",
        data={"csrf_token": owner.csrf, key: value, "mentorship_available": ["false", "true"]},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "Not saved: 1 setting(s) need a fix, marked below." in flashes(r.text)
    assert panel.count(Setting) == 0
    assert value[:50] in r.text  # the form keeps what was typed
    field = re.search(rf'<input class="form-control is-invalid" id="{key}"[^>]*>', r.text)
    assert field and f'aria-describedby="{key}-problem"' in field.group(0), r.text
    assert re.search(rf'id="{key}-problem">[^<]*{re.escape(message)}', r.text), r.text


def test_every_bad_setting_is_marked_at_once_and_the_good_ones_are_kept_as_typed(panel, owner):
    r = owner.post(
        "/admin/settings/",
        data={"csrf_token": owner.csrf, "signup_bonus": "-1", "durations": "5,60", "max_topups_per_day": "7"},
        follow_redirects=True,
    )
    assert "Not saved: 2 setting(s) need a fix, marked below." in flashes(r.text)
    assert 'id="signup_bonus-problem"' in r.text and 'id="durations-problem"' in r.text
    assert 'id="max_topups_per_day-problem"' not in r.text and 'value="7"' in r.text
    assert panel.count(Setting) == 0 and panel.audits("settings.update") == []


def test_the_audit_log_reads_as_people_read(panel, owner):
    """Enum names (TOP_UP, PENDING), raw UTC timestamps with microseconds and `None` in before/after: labels, Cairo
    times and "—", on the page and in its CSV export, whose file name is Cairo time as its rows are."""
    import re
    from datetime import datetime, timedelta

    html = owner.get("/admin/audit/").text
    body = html[html.index("<table") :]
    for raw in ("PENDING", "REJECTED", "TOP_UP", "MENTORSHIP_PAYMENT", "None", "+00:00"):
        assert raw not in body, raw
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{3,}", body)  # no microseconds
    assert "Rejected" in body or "Pending" in body
    before = utcnow().astimezone(CAIRO)
    r = owner.get("/admin/audit/export/csv/")
    after = utcnow().astimezone(CAIRO)
    name = re.search(r"filename=(\S+)", r.headers["Content-Disposition"]).group(1)
    stamp = datetime.strptime(name.rsplit("_", 2)[-2] + "_" + name.rsplit("_", 1)[-1][:8], "%Y-%m-%d_%H-%M-%S")
    assert before.replace(tzinfo=None) - timedelta(seconds=2) <= stamp <= after.replace(tzinfo=None), name
    text = r.get_data(as_text=True)
    for raw in ("PENDING", "TOP_UP", "None", "+00:00"):
        assert raw not in text, raw


def test_audit_log_filters(panel, owner):
    html = owner.get("/admin/audit/?flt0_action_equals=topup.rejected").text
    assert "topup.rejected" in html and "booking.confirm" not in html
    html = owner.get("/admin/audit/?flt0_admin_equals=nobody").text
    assert "topup.rejected" not in html
    today = utcnow().astimezone(CAIRO).date().isoformat()
    assert "booking.cancel" in owner.get(f"/admin/audit/?flt0_date_up_to_inclusive={today}").text


def test_monthly_report_csv(panel, finance):
    month = utcnow().astimezone(CAIRO).strftime("%Y-%m")
    html = finance.get(f"/admin/reports/?month={month}").text
    assert "Float at month end" in html and "350.50 EGP" in html
    for raw in ("PENDING", "APPROVED", "PLATFORM_PURCHASE", "MENTORSHIP_PAYMENT", "SIGNUP_BONUS", "REFUNDS", "TOTAL"):
        assert raw not in html  # labels people read, not enum names
    r = finance.get(f"/admin/reports/monthly.csv?month={month}")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.data.decode())))
    by_item = {(row["section"], row["item"]): row for row in rows}
    assert by_item[("Top-ups", "Pending")]["count"] == "2"
    assert by_item[("Top-ups", "Pending")]["amount_egp"] == "350.50"
    assert ("Wallet", "Float at month end") in by_item
    assert finance.get("/admin/reports/?month=2026-13", follow_redirects=True).status_code == 200
    assert finance.get("/admin/reports/monthly.csv?month=garbage", follow_redirects=True).status_code == 200


def test_the_monthly_reports_revenue_lines_add_up(panel, finance):
    """Mentorship 150 and Refunds 150 under revenue with a total of 150 (the mentorship line was already net):
    platforms + mentorship (gross) - refunds = total (net), for the month of the seed's refund."""
    with panel.session() as s:
        refunded = s.scalar(select(Transaction.created_at).where(Transaction.type == TransactionType.REFUND))
    month = as_utc(refunded).astimezone(CAIRO).strftime("%Y-%m")
    rows = list(csv.DictReader(io.StringIO(finance.get(f"/admin/reports/monthly.csv?month={month}").data.decode())))
    revenue = {row["item"]: Decimal(row["amount_egp"]) for row in rows if row["section"] == "Revenue"}
    refunds = revenue["Refunds of mentorship sessions"]
    assert refunds == Decimal("-150.00")
    assert (
        revenue["Platform purchases"] + revenue["Mentorship sessions (gross)"] + refunds
        == revenue["Total revenue (net)"]
    )


def test_owner_creates_panel_accounts(panel, owner):
    r = owner.post(
        "/admin/accounts/new",
        data={"csrf_token": owner.csrf, "username": "helper", "password": "plum-orbit-canyon-7", "role": "finance"},
        follow_redirects=True,
    )
    assert "Admin helper (finance) created." in flashes(r.text)
    c = panel.app.test_client()
    assert login(c, "helper", "plum-orbit-canyon-7").status_code == 302
    r = owner.post(
        "/admin/accounts/new",
        data={"csrf_token": owner.csrf, "username": "x", "password": "short", "role": "finance"},
        follow_redirects=True,
    )
    assert "at least 12 characters" in flashes(r.text)
    r = owner.post(
        "/admin/accounts/new",
        data={
            "csrf_token": owner.csrf,
            "username": "m3",
            "password": "plum-orbit-canyon-7",
            "role": "mentor",
            "mentor_user_id": "99999",
        },
        follow_redirects=True,
    )
    assert "is not a mentor" in flashes(r.text)
    with panel.session() as s:
        assert s.scalar(select(Admin).where(Admin.username.in_(["x", "m3"]))) is None


def test_broadcast_preview_send_and_progress(panel, owner):
    html = owner.get("/admin/broadcasts/?text=Hello+students&audience=all&preview=1").text
    assert 'id="recipient-count">4<' in html and "Hello students" in html
    r = owner.post(
        "/admin/broadcasts/send",
        data={"csrf_token": owner.csrf, "text": "Hello students", "audience": "all"},
        follow_redirects=True,
    )
    assert "queued for 4 student(s)" in flashes(r.text)
    assert panel.count(Notification, Notification.kind == "broadcast") == 4
    history = r.text.split('id="broadcast-history"')[1]
    assert "Hello students" in history
    r = owner.post(
        "/admin/broadcasts/send",
        data={"csrf_token": owner.csrf, "text": "Hello students", "audience": "all"},
        follow_redirects=True,
    )
    assert "not queued twice" in flashes(r.text)
    assert panel.count(Broadcast) == 1


@pytest.mark.parametrize(
    "data,message",
    [
        ({"text": "", "audience": "all"}, "write the announcement"),
        ({"text": "x" * 5000, "audience": "all"}, "too long"),
        ({"text": "hi", "audience": "everyone"}, "choose an audience"),
        ({"text": "hi", "audience": "platform"}, ""),
    ],
)
def test_broadcast_bad_input(panel, owner, data, message):
    r = owner.post("/admin/broadcasts/send", data={"csrf_token": owner.csrf, **data}, follow_redirects=True)
    assert r.status_code == 200 and "Not sent" in flashes(r.text) and message in flashes(r.text).lower()
    assert panel.count(Broadcast) == 0
