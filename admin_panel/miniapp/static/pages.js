/* One function per Mini App page; each calls the student API and redraws with CH.el (no innerHTML). */
(function () {
  "use strict";
  var CH = window.CH, el = CH.el, t = CH.t;

  // the field a refusal is about: named by the API (INVALID_INPUT), or implied by the error's code
  var FIELD_OF = { INVALID_AMOUNT: "amount", INVALID_WALLET_NUMBER: "walletNumber",
                   INVALID_TRANSACTION_NUMBER: "transactionNumber", INVALID_RATING: "rating" };
  function showError(id, res) {
    var box = document.getElementById(id), error = (res.data && res.data.error) || {};
    box.textContent = CH.errorText(res); box.hidden = false;
    var name = error.field || FIELD_OF[error.code], form = box.closest("form");
    var field = form && name ? form.querySelector('[name="' + name + '"], [data-name="' + name + '"]') : null;
    if (field) {  // mark the field that is wrong, say why beside it, and put the cursor there
      field.setAttribute("aria-invalid", "true"); field.setAttribute("aria-errormessage", id);
      if (field.focus) field.focus();
    }
  }
  function hideError(id) {
    var box = document.getElementById(id), form = box.closest("form"); box.hidden = true;
    if (form) Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (f) {
      f.removeAttribute("aria-invalid"); f.removeAttribute("aria-errormessage");
    });
  }
  function badge(status) { return el("span", { "class": "badge " + status, text: t(status) }); }
  /* An amount coloured by what happened to it: green only for money received; a pending one waits, a
     rejected or cancelled one never moved (struck through). */
  function amount(value, status) {
    var kind = status === "PENDING" ? "waiting" : (status === "REJECTED" || status === "CANCELLED") ? "void"
      : String(value).charAt(0) === "-" ? "minus" : "plus";
    return el("span", { "class": "amount " + kind, text: CH.money(value) });
  }
  /* A phone number or a code: always left to right, also inside Arabic text (it showed 5678****010). */
  function ltr(text) { return el("bdi", { dir: "ltr", text: text }); }

  /* A money POST: one Idempotency-Key per action, kept for retries after a network failure. */
  function moneyAction() {
    var key = null;
    return function (path, body) {
      key = key || CH.newKey();
      return CH.api("POST", path, body, key).then(function (res) {
        if (res.status !== 0 && res.status !== 409) key = null;  // answered: the next action is a new one
        return res;
      });
    };
  }

  // --- wallet -------------------------------------------------------------------------------------
  function wallet() {
    var page = 1, asking = 0, send = moneyAction();
    function receipt(tx) {
      var topup = tx.type === "TOP_UP";
      // the student's words: what it was for (never a raw reference like booking:4, never English system text)
      var rows = [["type", t(tx.type)], ["details", tx.details], ["status", t(tx.status)],
                  ["amount_label", CH.money(tx.amount)],
                  ["date", CH.date(tx.createdAt)], ["decided_at", tx.decidedAt ? CH.date(tx.decidedAt) : null],
                  ["balance_after", tx.balanceAfter ? CH.money(tx.balanceAfter) : null],
                  ["from_number", tx.walletNumber, true], ["reference_label", topup ? tx.reference : null, true],
                  ["note_label", topup ? tx.description : null], ["admin_notes", tx.adminNotes]];
      var dl = el("dl", { "class": "summary", id: "receipt" }, el("dt", { text: "#" }), el("dd", { text: CH.digits(tx.id) }));
      rows.forEach(function (r) {
        if (!r[1]) return;
        dl.appendChild(el("dt", { text: t(r[0]) }));
        dl.appendChild(el("dd", { "data-row": r[0] }, r[2] ? ltr(r[1]) : el("bdi", { text: r[1] })));
      });
      var box = el("div", null, dl, el("button", { type: "button", "class": "btn secondary", id: "receipt-share",
        text: t("share"), onclick: function () { share(receiptText(dl)); } }));
      CH.confirmSheet(t("receipt"), box, t("close"));
      document.getElementById("sheet-cancel").hidden = true;
      var restore = function () { document.getElementById("sheet-cancel").hidden = false; };
      document.getElementById("sheet-ok").addEventListener("click", restore, { once: true });
    }
    /* The receipt as plain lines ("Amount: 250.00 EGP"), for a chat. */
    function receiptText(dl) {
      var lines = [t("app_title") + " · " + t("receipt")], dts = dl.querySelectorAll("dt");
      Array.prototype.forEach.call(dts, function (dt) { lines.push(dt.textContent + ": " + dt.nextElementSibling.textContent); });
      return lines.join("\n");
    }
    /* The system's share sheet where there is one; otherwise the clipboard, and say so. */
    function share(text) {
      var copied = function () { CH.toast(t("receipt_copied")); };
      if (navigator.share) { navigator.share({ title: t("receipt"), text: text }).catch(function () {}); return; }
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(copied, function () { CH.toast(t("failed"), true); });
      else CH.toast(t("failed"), true);
    }
    function row(tx) {
      return el("li", { "data-id": tx.id }, el("button", { type: "button", "class": "linkish", onclick: function () {
        CH.api("GET", "/api/wallet/transactions/" + tx.id).then(function (res) {
          if (res.ok) receipt(res.data); else CH.toast(CH.errorText(res), true);
        });
      } }, el("span", null, el("span", { text: t(tx.type) }), " ", badge(tx.status), el("br"),
             tx.details ? el("bdi", { "class": "details", text: tx.details }) : null,
             tx.details ? el("br") : null,
             el("span", { "class": "muted" }, CH.date(tx.createdAt),
               tx.walletNumber ? " · " : null, tx.walletNumber ? ltr(tx.walletNumber) : null)),
        el("span", null, amount(tx.amount, tx.status),  // the running balance, as a bank statement shows it
          tx.balanceAfter ? el("span", { "class": "muted balance-after", text: CH.money(tx.balanceAfter) }) : null)));
    }
    function loadInfo() {
      return CH.api("GET", "/api/wallet/topup-info").then(function (res) {
        var list = document.getElementById("pending-list");
        if (!res.ok) { CH.failed(list, res, loadInfo); return; }
        document.getElementById("receiving-number").textContent = res.data.walletNumber;
        CH.loaded(list);
        if (!res.data.pending.length) list.appendChild(el("li", { "class": "muted", text: t("none") }));
        res.data.pending.forEach(function (tx) { list.appendChild(row(tx)); });
      });
    }
    /* The last 12 Cairo months, newest first, named in the page's language. */
    function fillMonths() {
      var select = document.getElementById("filter-month"), now = new Date();
      var parts = new Intl.DateTimeFormat("en-GB", { timeZone: "Africa/Cairo", year: "numeric", month: "numeric" })
        .formatToParts(now), year = 0, month = 0;
      parts.forEach(function (p) { if (p.type === "year") year = +p.value; if (p.type === "month") month = +p.value; });
      for (var i = 0; i < 12; i++) {
        var value = year + "-" + (month < 10 ? "0" : "") + month;
        var name = new Date(Date.UTC(year, month - 1, 15)).toLocaleString(CH.lang === "ar" ? "ar-EG" : "en-GB",
          { timeZone: "UTC", year: "numeric", month: "long" });
        select.appendChild(el("option", { value: value, text: name }));
        month -= 1; if (month === 0) { month = 12; year -= 1; }
      }
    }
    function filterQuery() {
      return ["type", "status", "month"].map(function (name) {
        var value = document.getElementById("filter-" + name).value;
        return value ? "&" + name + "=" + encodeURIComponent(value) : "";
      }).join("");
    }
    function loadHistory(reset) {
      if (reset) page = 1;
      var query = filterQuery(), asked = ++asking;
      return CH.api("GET", "/api/wallet/transactions?page=" + page + "&limit=10" + query).then(function (res) {
        if (asked !== asking) return;  // a newer filter was chosen meanwhile: its answer fills the list
        var list = document.getElementById("history-list");
        if (!res.ok) {
          if (reset) CH.failed(list, res, function () { loadHistory(true); }); else CH.toast(CH.errorText(res), true);
          return;
        }
        if (reset) CH.loaded(list);
        res.data.transactions.forEach(function (tx) { list.appendChild(row(tx)); });
        if (!list.children.length) list.appendChild(el("li", { "class": "muted", text: query ? t("no_match") : t("none") }));
        document.getElementById("history-more").hidden = res.data.pagination.page >= res.data.pagination.pages;
      });
    }
    document.getElementById("history-more").addEventListener("click", function () { page += 1; loadHistory(false); });
    fillMonths();
    document.getElementById("history-filter").addEventListener("change", function () {
      CH.skeleton(document.getElementById("history-list")); loadHistory(true);
    });
    document.getElementById("history-filter").addEventListener("submit", function (event) { event.preventDefault(); });
    document.getElementById("copy-number").addEventListener("click", function () {
      var number = document.getElementById("receiving-number").textContent, button = this;
      var done = function () { button.textContent = t("copied"); CH.toast(t("copied") + ": " + number); };
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(number).then(done, done); else done();
    });
    document.getElementById("topup-form").addEventListener("submit", function (event) {
      event.preventDefault(); hideError("topup-error");
      var button = document.getElementById("topup-submit"); button.disabled = true;
      var body = { amount: document.getElementById("topup-amount").value.trim(),
                   walletNumber: document.getElementById("topup-wallet").value.trim() };
      var note = document.getElementById("topup-description").value.trim();
      if (note) body.description = note;
      var reference = document.getElementById("topup-reference").value.trim();
      if (reference) body.transactionNumber = reference;  // optional: the number in the SMS after sending
      send("/api/wallet/topup", body).then(function (res) {
        button.disabled = false;
        if (!res.ok) { showError("topup-error", res); return; }
        this.reset(); CH.toast(t(res.data.status === "APPROVED" ? "topup_approved" : "request_sent"));
        loadInfo(); loadHistory(true); CH.refreshBalance();
      }.bind(this));
    });
    loadInfo(); loadHistory(true);
    var asked = new URLSearchParams(location.search);
    if (/^[0-9]{1,7}(\.[0-9]{1,2})?$/.test(asked.get("amount") || "")) {  // "Top up the difference"
      document.getElementById("topup-amount").value = asked.get("amount");
    }
    if (location.hash === "#topup" || asked.get("focus") === "topup") {
      document.getElementById("topup-amount").focus();
    }
  }

  // --- platforms ----------------------------------------------------------------------------------
  function platforms() {
    var enroll = moneyAction();
    function loadTasks(platform) {
      return CH.api("GET", "/api/platforms/" + platform.id + "/tasks").then(function (res) {
        if (!res.ok) { CH.toast(CH.errorText(res), true); return; }
        var box = document.getElementById("tasks"); box.hidden = false;
        document.getElementById("tasks-title").textContent = t("tasks") + " · " + platform.name;
        var p = res.data.progress, pct = p.total ? Math.round(100 * p.done / p.total) : 0;
        document.getElementById("tasks-bar").style.width = pct + "%";
        document.getElementById("tasks-progress").textContent = t("progress") + ": " + CH.digits(p.done + "/" + p.total);
        var list = document.getElementById("task-list"); list.textContent = "";
        res.data.tasks.forEach(function (task) {
          list.appendChild(el("li", { "data-task": task.id },
            el("span", null, el("strong", { dir: "auto", text: task.title }), el("br"), el("span", { "class": "muted", dir: "auto", text: task.body })),
            task.done ? el("span", { "class": "badge ok", text: "✓ " + t("done") })
              : el("button", { type: "button", "class": "btn small", text: t("mark_done"), onclick: function () {
                CH.api("POST", "/api/tasks/" + task.id + "/done").then(function (r) {
                  if (r.ok) loadTasks(platform); else CH.toast(CH.errorText(r), true);
                });
              } })));
        });
        box.scrollIntoView({ behavior: "smooth" });
      });
    }
    function accessText(p) {  // what a purchase gives, said before paying
      return p.accessDays ? t("access_days").replace("{days}", CH.digits(p.accessDays)) : t("lifetime_access");
    }
    function ask(platform) {
      var after = CH.minus(CH.state.balance, platform.price);
      var content = el("dl", { "class": "summary", id: "enroll-summary" },
        el("dt", { text: t("platforms") }), el("dd", { text: platform.name }),
        el("dt", { text: t("price") }), el("dd", { text: platform.isFree ? t("free") : CH.money(platform.price) }),
        el("dt", { text: t("access") }), el("dd", { id: "enroll-access", text: accessText(platform) }),
        el("dt", { text: t("balance_now") }), el("dd", { text: CH.money(CH.state.balance) }),
        el("dt", { text: t("balance_after") }), el("dd", { id: "enroll-after", text: CH.money(after) }));
      CH.confirmSheet(t("confirm_enroll"), content, null, platform.isFree ? null : CH.shortfall(platform.price)).then(function (yes) {
        if (!yes) return;
        enroll("/api/enrollments", { platformId: platform.id, expectedPrice: platform.price, renew: platform.enrolled })
          .then(function (res) {
            if (!res.ok) { CH.toast(CH.errorText(res), true); load(); CH.refreshBalance(); return; }
            CH.toast(t("enrolled_ok")); CH.refreshBalance(); load().then(function () { loadTasks(platform); });
          });
      });
    }
    function card(p) {
      var status = p.enrolled ? el("span", { "class": "badge ok", text: t("enrolled") })
        : (p.expired ? el("span", { "class": "badge expired", text: t("expired") }) : null);
      var expiry = p.enrolled ? el("span", { "class": "muted", text: p.expiresAt ? t("expires") + ": " + CH.date(p.expiresAt) : t("forever") }) : null;
      var actions = el("div", { "class": "row" });
      if (p.enrolled) actions.appendChild(el("button", { type: "button", "class": "btn small", text: t("tasks"), onclick: function () { loadTasks(p); } }));
      if (!p.enrolled || p.canRenew) {  // Renew from two weeks before the access ends, not right after buying
        actions.appendChild(el("button", { type: "button", "class": "btn small" + (p.enrolled ? " secondary" : ""),
          text: p.enrolled || p.expired ? t("renew") : t("enroll"), onclick: function () { ask(p); } }));
      }
      return el("article", { "class": "card", "data-platform": p.id },
        el("strong", { dir: "auto", text: p.name }), status, el("span", { "class": "muted", dir: "auto", text: p.description }),
        el("span", { "class": "amount", text: p.isFree ? t("free") : CH.money(p.price) }),
        el("span", { "class": "muted", text: CH.digits(p.taskCount) + " " + t("tasks") }),
        p.enrolled ? null : el("span", { "class": "muted access", text: accessText(p) }), expiry, actions);
    }
    function load() {
      return CH.api("GET", "/api/platforms?includePrice=true").then(function (res) {
        var grid = document.getElementById("platform-grid");
        if (!res.ok) { CH.failed(grid, res, load); return; }
        CH.loaded(grid);
        res.data.platforms.forEach(function (p) { grid.appendChild(card(p)); });
        if (!res.data.platforms.length) grid.appendChild(el("p", { "class": "muted", text: t("none") }));
      });
    }
    load();
  }

  // --- mentorship ---------------------------------------------------------------------------------
  function mentorship() {
    var cancel = moneyAction();
    var booked = new URLSearchParams(location.search).get("booked");
    if (booked) {  // arriving from the booking form: say it here, where the student stays
      var notice = document.getElementById("booked-notice");
      var kind = new URLSearchParams(location.search).get("kind");
      notice.textContent = t(kind === "confirmed" ? "booked_confirmed_ok" : kind === "slot" ? "booked_slot_ok" : "booked_ok");
      notice.hidden = false;
    }
    function rateForm(b) {
      var chosen = 0, stars = el("div", { "class": "stars", role: "radiogroup", "aria-label": t("rating"), "data-name": "rating", tabindex: "-1" });
      for (var i = 1; i <= 5; i++) {
        (function (n) {
          stars.appendChild(el("button", { type: "button", "data-star": n, "aria-label": String(n), text: "★", onclick: function () {
            chosen = n; Array.prototype.forEach.call(stars.children, function (s, j) { s.className = j < n ? "on" : ""; });
          } }));
        })(i);
      }
      var text = el("textarea", { rows: 2, maxlength: 1000, "aria-label": t("feedback"), placeholder: t("feedback"), "class": "feedback" });
      var error = el("p", { "class": "error", id: "rate-error-" + b.id, role: "alert", hidden: true });
      var form = el("form", { "class": "rate-form" }, stars, text, error,
        el("button", { type: "submit", "class": "btn small", text: t("send") }));
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        hideError(error.id);
        CH.api("POST", "/api/mentorship/feedback/" + b.id, { rating: chosen, feedback: text.value.trim() || null }).then(function (res) {
          if (!res.ok) { showError(error.id, res); return; }
          CH.toast(t("rated_ok")); loadBookings();
        });
      });
      return form;
    }
    function bookingCard(b) {
      var card = el("article", { "class": "card", "data-booking": b.id },
        el("div", { "class": "row between" }, el("strong", { dir: "auto", text: b.mentorName }), badge(b.status)),
        el("div", { "class": "muted", text: CH.digits(b.duration) + " " + t("minutes") + " · " + CH.money(b.totalCost) }),
        el("div", { text: t("session_date") + ": " + (b.sessionDate ? CH.date(b.sessionDate) : t("not_scheduled")) }),
        b.studentNotes ? el("div", { "class": "muted", dir: "auto", text: b.studentNotes }) : null,
        b.adminNotes ? el("div", { dir: "auto", text: b.adminNotes }) : null,
        b.rating ? el("div", { text: "★".repeat(b.rating) + (b.feedback ? " · " + b.feedback : "") }) : null);
      if (b.meetingLink) card.appendChild(el("div", null, t("meeting_link") + ": ", el("a", { href: b.meetingLink, dir: "ltr", text: b.meetingLink, rel: "noopener", target: "_blank" })));
      if (b.requestedStart) card.appendChild(el("div", { "class": "muted", text: t("move_waiting") + ": " + CH.date(b.requestedStart) }));
      if (b.calendarUrl) card.appendChild(calendarLinks(b));
      var live = (b.status === "PENDING" || b.status === "CONFIRMED") && b.refundIfCancelled !== null && b.refundIfCancelled !== undefined;
      if (live && (!b.sessionDate || new Date(b.sessionDate) > new Date())) {
        var actions = el("div", { "class": "row" });
        if (b.endsAt && !b.requestedStart) {
          actions.appendChild(el("a", { "class": "btn small secondary", text: t("change_time"),
            href: CH.pageUrl("/app/mentorship/book?mentor=" + b.mentorId + "&duration=" + b.duration + "&move=" + b.id) }));
        }
        actions.appendChild(el("button", { type: "button", "class": "btn small danger", text: t("cancel_booking"), onclick: function () {
          var says = el("div", null, el("p", { text: t("confirm_cancel") }),
            el("p", { id: "cancel-refund", text: t("refund_now").replace("{amount}", CH.money(b.refundIfCancelled)) }));
          if (CH.state.policy) says.appendChild(el("p", { "class": "muted", dir: "auto", text: CH.state.policy }));
          CH.confirmSheet(t("cancel_booking"), says).then(function (yes) {
            if (!yes) return;
            cancel("/api/mentorship/bookings/" + b.id + "/cancel").then(function (res) {
              if (!res.ok) { CH.toast(CH.errorText(res), true); return; }
              var back = res.data.refund;
              CH.toast(back === "0.00" ? t("cancelled_nothing") : t("cancelled_ok").replace("{amount}", CH.money(back)));
              CH.refreshBalance(); loadBookings();
            });
          });
        } }));
        card.appendChild(actions);
      }
      if (b.status === "COMPLETED" && !b.rating) card.appendChild(rateForm(b));
      return card;
    }
    function loadBookings() {
      return CH.api("GET", "/api/mentorship/my-bookings").then(function (res) {
        var list = document.getElementById("booking-list");
        if (!res.ok) { CH.failed(list, res, loadBookings); return; }
        CH.loaded(list);
        res.data.bookings.forEach(function (b) { list.appendChild(bookingCard(b)); });
        if (!res.data.bookings.length) list.appendChild(el("p", { "class": "muted", text: t("none") }));
      });
    }
    function loadMentors() { return CH.api("GET", "/api/mentorship/info").then(function (res) {
      var grid = document.getElementById("mentor-list");
      if (!res.ok) { CH.failed(grid, res, loadMentors); return; }
      CH.loaded(grid);
      res.data.mentors.forEach(function (m) {
        var prices = el("ul", { "class": "list" });
        m.prices.forEach(function (p) { prices.appendChild(el("li", null, el("span", { text: CH.digits(p.duration) + " " + t("minutes") }), el("span", { "class": "amount", text: CH.money(p.price) }))); });
        grid.appendChild(el("article", { "class": "card", "data-mentor": m.id },
          el("strong", { dir: "auto", text: m.name }), el("span", { "class": "muted", dir: "auto", text: m.bio }),
          el("span", null, CH.money(m.hourlyRate) + " " + t("per_hour") + (m.averageRating ? " · ★ " + CH.digits(m.averageRating) : "")),
          m.isAvailable ? prices : el("span", { "class": "badge", text: t("unavailable") }),
          m.isAvailable ? el("a", { "class": "btn small", href: CH.pageUrl("/app/mentorship/book?mentor=" + m.id), text: t("book") }) : null));
      });
    }); }
    loadMentors();
    loadBookings();
    loadPolicy();
  }

  /* The session in the student's calendar: the .ics file (Telegram's downloadFile where it has one) and Google's
     "create event" page (opened outside the Mini App). */
  function calendarLinks(b) {
    var file = location.origin + b.calendarUrl, name = "codehub-session-" + b.id + ".ics";
    var ics = el("a", { "class": "btn small secondary", href: b.calendarUrl, download: name, text: t("add_to_calendar"),
      onclick: function (event) {
        if (CH.tg && CH.tg.downloadFile) { event.preventDefault(); CH.tg.downloadFile({ url: file, file_name: name }); }
      } });
    var google = el("a", { "class": "btn small secondary", href: b.googleCalendarUrl, target: "_blank", rel: "noopener",
      text: t("google_calendar"), onclick: function (event) {
        if (CH.tg && CH.tg.openLink) { event.preventDefault(); CH.tg.openLink(b.googleCalendarUrl); }
      } });
    return el("div", { "class": "row calendar" }, ics, google);
  }

  /* The cancellation policy in the student's words, said before paying and before cancelling. */
  function loadPolicy() {
    return CH.api("GET", "/api/mentorship/policy").then(function (res) {
      if (res.ok) CH.state.policy = res.data.text;
      var box = document.getElementById("book-policy");
      if (box && res.ok) box.textContent = t("policy") + ": " + res.data.text;
    });
  }

  /* "2026-12-10T10:00:00+02:00" -> the Cairo day "2026-12-10" it falls on. */
  function cairoDay(iso) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: "Africa/Cairo", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(iso));
  }
  function cairoTime(iso) {
    return new Date(iso).toLocaleTimeString(CH.lang === "ar" ? "ar-EG" : "en-GB", { timeZone: "Africa/Cairo", hour: "2-digit", minute: "2-digit" });
  }
  function dayName(day) {
    return new Date(day + "T12:00:00Z").toLocaleDateString(CH.lang === "ar" ? "ar-EG" : "en-GB", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" });
  }
  function addDays(day, n) {
    var d = new Date(day + "T12:00:00Z"); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10);
  }

  // --- booking form -------------------------------------------------------------------------------
  /* Mentor -> duration -> (a mentor with hours) a day and one of its free times -> notes -> confirm with the
     price, the policy and the balance after. ?move=<booking> asks to move that booking to another free time. */
  function book() {
    var send = moneyAction(), mentors = [], select = document.getElementById("book-mentor");
    var params = new URLSearchParams(location.search), wanted = params.get("mentor");
    var moving = params.get("move"), movingDuration = +params.get("duration") || null;
    var first = cairoDay(new Date().toISOString()), days = {}, pickedDay = null, asking = 0;
    function current() { var id = +select.value; return mentors.filter(function (m) { return m.id === id; })[0]; }
    function duration() { var picked = document.querySelector("input[name=duration]:checked"); return picked ? +picked.value : null; }
    function slot() { var picked = document.querySelector("input[name=slot]:checked"); return picked ? picked.value : null; }
    function bySlot() { var m = current(); return !!(m && m.bookedBySlot); }
    function price() {
      var m = current(), d = duration();
      if (!m || !d) return null;
      return m.prices.filter(function (p) { return p.duration === d; })[0].price;
    }
    function summary() {
      var cost = moving ? null : price(), missing = moving ? null : CH.shortfall(cost), when = slot();
      document.getElementById("book-when").textContent = when ? CH.date(when) : (duration() && !bySlot() ? t("time_by_admin") : "—");
      document.getElementById("book-cost").textContent = cost ? CH.money(cost) : "—";
      document.getElementById("book-balance").textContent = CH.money(CH.state.balance);
      var after = document.getElementById("book-after");
      after.textContent = cost ? CH.money(CH.minus(CH.state.balance, cost)) : "—";
      after.className = missing ? "negative" : "";
      var short = document.getElementById("book-short");
      short.hidden = !missing;
      if (missing) {
        document.getElementById("book-short-text").textContent = t("short_by").replace("{amount}", CH.money(missing));
        document.getElementById("book-topup").setAttribute("href", CH.topupUrl(missing));
      }
      var ready = moving ? !!when : !!cost && !missing && (!bySlot() || !!when);  // what they pay for, then the money
      document.getElementById("book-submit").disabled = !ready;
      CH.mainButton(ready ? (moving ? t("confirm_move") : t("book") + " · " + CH.money(cost)) : null,
                    function () { document.getElementById("book-submit").click(); });
    }
    function showDay(day) {
      pickedDay = day;
      var box = document.getElementById("book-slots"); box.textContent = "";
      Array.prototype.forEach.call(document.querySelectorAll("#book-days input"), function (input) { input.checked = input.value === day; });
      (days[day] || []).forEach(function (s) {
        box.appendChild(el("label", null, el("input", { type: "radio", name: "slot", value: s.start, onchange: function () { hold(s.start); summary(); } }),
          el("span", { dir: "auto", text: cairoTime(s.start) })));
      });
      summary();
    }
    function hold(start) {  // kept from others while the student confirms; a refusal reloads the times
      CH.api("POST", "/api/mentorship/mentors/" + current().id + "/hold", { duration: duration(), slotStart: start }).then(function (res) {
        if (!res.ok) { CH.toast(CH.errorText(res), true); loadSlots(); }
      });
    }
    function loadSlots() {
      var box = document.getElementById("book-time"), m = current(), d = duration();
      box.hidden = !(m && m.bookedBySlot && d);
      if (box.hidden) { summary(); return Promise.resolve(); }
      var daysBox = document.getElementById("book-days"), slots = document.getElementById("book-slots"), asked = ++asking;
      CH.skeleton(slots, 2); daysBox.textContent = "";
      document.getElementById("book-earlier").disabled = first <= cairoDay(new Date().toISOString());
      return CH.api("GET", "/api/mentorship/mentors/" + m.id + "/slots?duration=" + d + "&from=" + first + "&days=7").then(function (res) {
        if (asked !== asking) return;
        if (!res.ok) { CH.failed(slots, res, loadSlots); return; }
        CH.loaded(slots); days = {};
        res.data.slots.forEach(function (s) { var day = cairoDay(s.start); (days[day] = days[day] || []).push(s); });
        var open = Object.keys(days).sort();
        document.getElementById("book-no-slots").hidden = open.length > 0;
        open.forEach(function (day) {
          daysBox.appendChild(el("label", null, el("input", { type: "radio", name: "day", value: day, onchange: function () { showDay(day); } }),
            el("span", { text: dayName(day) })));
        });
        showDay(open.indexOf(pickedDay) >= 0 ? pickedDay : open[0] || null);
      });
    }
    function durations() {
      var box = document.getElementById("book-durations"), m = current(); box.textContent = "";
      (m ? m.prices : []).forEach(function (p) {  // none chosen for the student: they pick what they pay for
        if (moving && p.duration !== movingDuration) return;
        box.appendChild(el("label", null, el("input", { type: "radio", name: "duration", value: p.duration, checked: moving ? true : null,
          onchange: loadSlots }), CH.digits(p.duration) + " " + t("minutes") + (moving ? "" : " · " + CH.money(p.price))));
      });
      loadSlots();
    }
    select.addEventListener("change", durations);
    document.getElementById("book-earlier").addEventListener("click", function () { first = addDays(first, -7); loadSlots(); });
    document.getElementById("book-later").addEventListener("click", function () { first = addDays(first, 7); loadSlots(); });
    function loadMentors() { return CH.api("GET", "/api/mentorship/info").then(function (res) {
      var box = document.getElementById("book-durations");
      if (!res.ok) { CH.failed(box, res, loadMentors); return; }
      mentors = res.data.mentors.filter(function (m) { return m.isAvailable; });
      select.textContent = "";
      mentors.forEach(function (m) { select.appendChild(el("option", { value: m.id, text: m.name + " · " + CH.money(m.hourlyRate) + " " + t("per_hour") })); });
      if (wanted) select.value = wanted;
      select.disabled = !!moving;
      durations();
    }); }
    if (moving) {  // the same booking at another time: nothing to pay, no notes to write
      document.querySelector("#book-form h2, .card h2").textContent = t("change_time");
      document.getElementById("book-notes").closest("label").hidden = true;
      document.getElementById("book-submit").textContent = t("confirm_move");
    }
    loadMentors();
    loadPolicy();
    function sheetRows(rows) {
      var dl = el("dl", { "class": "summary", id: "book-summary" });
      rows.forEach(function (r) { if (r[1]) { dl.appendChild(el("dt", { text: t(r[0]) })); dl.appendChild(el("dd", { id: r[2] || null, text: r[1] })); } });
      return dl;
    }
    function failed(res) {
      showError("book-error", res); CH.refreshBalance().then(summary);
      var code = res.data && res.data.error && res.data.error.code;
      if (code === "SLOT_TAKEN" || code === "SLOT_UNAVAILABLE") loadSlots();  // show what is free now
    }
    document.getElementById("book-form").addEventListener("submit", function (event) {
      event.preventDefault(); hideError("book-error");
      var button = document.getElementById("book-submit"), m = current(), d = duration(), when = slot();
      if (!m) return;
      if (!d) { showError("book-error", { data: { error: { message: t("pick_duration") } } }); return; }
      if (bySlot() && !when) { showError("book-error", { data: { error: { message: t("pick_slot") } } }); return; }
      var policy = CH.state.policy ? el("p", { "class": "muted", dir: "auto", text: t("policy") + ": " + CH.state.policy }) : null;
      if (moving) {
        var move = el("div", null, sheetRows([["mentor", m.name], ["move_to", CH.date(when)]]), policy);
        CH.confirmSheet(t("confirm_move"), move).then(function (yes) {
          if (!yes) return;
          button.disabled = true;
          CH.api("POST", "/api/mentorship/bookings/" + moving + "/reschedule", { slotStart: when }).then(function (res) {
            button.disabled = false;
            if (!res.ok) { failed(res); return; }
            CH.toast(res.data.requestedStart ? t("move_asked") : t("moved_ok"));
            location.href = CH.pageUrl("/app/dashboard/mentorship");
          });
        });
        return;
      }
      var cost = price(), body = { mentorId: m.id, duration: d, expectedCost: cost };
      if (when) body.slotStart = when;
      var notes = document.getElementById("book-notes").value.trim();
      if (notes) body.studentNotes = notes;
      var content = el("div", null, sheetRows([
        ["mentor", m.name], ["when", when ? CH.date(when) : t("time_by_admin")],
        ["duration", CH.digits(d) + " " + t("minutes")], ["cost", CH.money(cost)],
        ["balance_now", CH.money(CH.state.balance)], ["balance_after", CH.money(CH.minus(CH.state.balance, cost)), "book-summary-after"]]), policy);
      CH.confirmSheet(t("confirm_booking"), content, null, CH.shortfall(cost)).then(function (yes) {
        if (!yes) return;
        button.disabled = true;
        send("/api/mentorship/book", body).then(function (res) {
          button.disabled = false;
          if (!res.ok) { failed(res); return; }
          CH.mainButton(null);  // the mentorship page says "Booked and paid" (a toast here would be lost)
          var kind = res.data.booking.status === "CONFIRMED" ? "confirmed" : when ? "slot" : "admin";
          location.href = CH.pageUrl("/app/dashboard/mentorship?booked=" + res.data.booking.id + "&kind=" + kind);
        });
      });
    });
  }


  // --- launch: the menu button / startapp link lands here ------------------------------------------
  function launch() {
    // start_param inside the signed init data; Telegram also passes it as ?tgWebAppStartParam= on direct links
    var param = (CH.tg && CH.tg.initDataUnsafe && CH.tg.initDataUnsafe.start_param)
      || new URLSearchParams(location.search).get("tgWebAppStartParam") || "wallet";
    var link = document.querySelector("a[data-page='" + String(param).replace(/[^a-z]/g, "") + "']") || document.querySelector("a[data-page=wallet]");
    location.replace(link.href);
  }

  window.CHPages = { wallet: wallet, platforms: platforms, mentorship: mentorship, book: book, launch: launch };
})();
