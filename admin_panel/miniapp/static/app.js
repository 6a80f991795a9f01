/* The Mini App's common part: init data on every API call, the balance chip, texts, money and dates.
   No framework; pages.js holds one function per page. Telegram's MainButton/BackButton only mirror
   real buttons on the page, so everything also works in a plain browser (tests) and Telegram Web. */
(function () {
  "use strict";
  var tg = window.Telegram && window.Telegram.WebApp;
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var lang = document.documentElement.lang === "ar" ? "ar" : "en";
  var AR_DIGITS = "٠١٢٣٤٥٦٧٨٩";

  function t(key) { return Object.prototype.hasOwnProperty.call(T, key) ? T[key] : key; }

  function digits(text) {
    return lang === "ar" ? String(text).replace(/[0-9]/g, function (d) { return AR_DIGITS[+d]; }) : String(text);
  }

  /* "1250.00" -> "1,250.00 EGP" (string arithmetic only: money is never a float here either). */
  function money(value) {
    if (value === null || value === undefined) return "—";
    var s = String(value), sign = "";
    if (s.charAt(0) === "-") { sign = "−"; s = s.slice(1); }
    var parts = s.split("."), whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, lang === "ar" ? "٬" : ",");
    var text = whole + (parts[1] ? (lang === "ar" ? "٫" : ".") + parts[1] : "");
    return sign + digits(text) + " " + t("currency");
  }

  /* Exact subtraction of two "123.45" strings, for "balance after" previews. */
  function minus(a, b) {
    var cents = function (v) { var p = String(v).split("."); var c = (p[1] || "00") + "00"; return BigInt(p[0]) * 100n + (String(v).charAt(0) === "-" ? -1n : 1n) * BigInt(c.slice(0, 2)); };
    var r = cents(a) - cents(b), neg = r < 0n; if (neg) r = -r;
    var c = String(r % 100n); return (neg ? "-" : "") + String(r / 100n) + "." + (c.length < 2 ? "0" + c : c);
  }

  function date(iso) {
    if (!iso) return "—";
    return new Date(iso).toLocaleString(lang === "ar" ? "ar-EG" : "en-GB", {
      timeZone: "Africa/Cairo", year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
    });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  function initData() { return (tg && tg.initData) || ""; }

  /* fetch with the init data; resolves {ok, status, data}; a network failure is {ok:false, status:0}. */
  function api(method, path, body, key) {
    var headers = { "Authorization": "tma " + initData(), "Accept-Language": lang };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (key) headers["Idempotency-Key"] = key;
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body),
                         credentials: "omit" })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
      })
      .catch(function () { return { ok: false, status: 0, data: { error: { message: t("offline") } } }; });
  }

  function errorText(res) {
    if (res.data && res.data.error && res.data.error.message) return res.data.error.message;
    return res.status === 0 ? t("offline") : t("failed");
  }

  /* A list or a panel that could not load: what went wrong, and Retry (which calls `retry` again). */
  function failed(container, res, retry) {
    container.textContent = ""; container.removeAttribute("aria-busy");
    var box = el(container.tagName === "UL" ? "li" : "div", { "class": "failed", role: "alert" },
      el("span", { "class": "error", text: errorText(res) }),
      el("button", { type: "button", "class": "btn small secondary retry", text: t("retry"), onclick: function () {
        skeleton(container); retry();
      } }));
    container.appendChild(box);
  }

  /* Placeholders while a list loads (read as "Loading…" by screen readers). */
  function skeleton(container, rows) {
    container.textContent = ""; container.setAttribute("aria-busy", "true");
    var item = container.tagName === "UL" ? "li" : "div";
    container.appendChild(el(item, { "class": "visually-hidden", text: t("loading") }));
    for (var i = 0; i < (rows || 3); i++) container.appendChild(el(item, { "class": "skeleton", "aria-hidden": "true" }));
  }
  function loaded(container) { container.textContent = ""; container.removeAttribute("aria-busy"); }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) node.setAttribute(k, attrs[k]);
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return node;
  }

  var toastTimer;
  function toast(message, bad) {
    var box = document.getElementById("toast");
    box.textContent = message; box.className = bad ? "bad" : ""; box.hidden = false;
    clearTimeout(toastTimer); toastTimer = setTimeout(function () { box.hidden = true; }, 4000);
    if (tg && tg.HapticFeedback) { try { tg.HapticFeedback.notificationOccurred(bad ? "error" : "success"); } catch (e) { /* old client */ } }
  }

  var state = { balance: null };
  function refreshBalance() {
    return api("GET", "/api/wallet/balance").then(function (res) {
      if (res.ok) { state.balance = res.data.balance; document.getElementById("balance-chip").textContent = money(res.data.balance); }
      return res;
    });
  }

  /* What is missing to pay `cost` from the balance ("12.50"), or null when the balance covers it. */
  function shortfall(cost) {
    if (cost === null || cost === undefined || state.balance === null) return null;
    var after = minus(state.balance, cost);
    return after.charAt(0) === "-" ? after.slice(1) : null;
  }

  /* Where "Top up the difference" leads: the wallet's top-up form with the missing amount filled in. */
  function topupUrl(amount) { return pageUrl("/app/dashboard/wallet?focus=topup&amount=" + encodeURIComponent(amount)); }

  /* A confirm step in the page (works everywhere); resolves true on Confirm. With `missing` (shortfall()), it
     says so before anything is paid: Confirm stays disabled and "Top up the difference" is offered instead. */
  function confirmSheet(title, content, okText, missing) {
    var sheet = document.getElementById("sheet"), ok = document.getElementById("sheet-ok"), cancel = document.getElementById("sheet-cancel");
    document.getElementById("sheet-title").textContent = title;
    var box = document.getElementById("sheet-content"); box.textContent = ""; box.appendChild(content);
    ok.textContent = okText || t("confirm");
    var short = document.getElementById("sheet-short");
    ok.disabled = !!missing; short.hidden = !missing;
    if (missing) {
      document.getElementById("sheet-short-text").textContent = t("short_by").replace("{amount}", money(missing));
      document.getElementById("sheet-topup").setAttribute("href", topupUrl(missing));
    }
    sheet.hidden = false;
    return new Promise(function (resolve) {
      function done(answer) {
        sheet.hidden = true; ok.removeEventListener("click", yes); cancel.removeEventListener("click", no);
        mainButton(null); resolve(answer);
      }
      function yes() { done(true); } function no() { done(false); }
      ok.addEventListener("click", yes); cancel.addEventListener("click", no);
      if (!missing) mainButton(ok.textContent, yes);
    });
  }

  var mainHandler = null;
  /* Telegram's MainButton mirrors a real button on the page; null hides it. */
  function mainButton(text, handler) {
    if (!tg || !tg.MainButton) return;
    if (mainHandler) { tg.MainButton.offClick(mainHandler); mainHandler = null; }
    if (!text) { tg.MainButton.hide(); return; }
    mainHandler = handler; tg.MainButton.setText(text); tg.MainButton.onClick(handler); tg.MainButton.show();
  }

  /* Telegram's theme colours, used as given, can be too faint to read: its default light theme's hint
     #707579 on #f4f4f5 is 4.2:1, a white label on its #3390ec button 3.3:1. Each colour the page writes
     with is nudged toward black or white, only as far as it needs, to read at WCAG AA (4.5:1) on what it
     is written on (the button: under its label). Run again when Telegram changes the theme. */
  var READ_ON = { "--hint": ["--bg", "--card"], "--link": ["--bg", "--card"], "--danger": ["--bg", "--card"],
                  "--ok": ["--bg", "--card"], "--button": ["--button-text"] };
  function rgbOf(probe, value) {
    probe.style.color = ""; probe.style.color = value;
    return (getComputedStyle(probe).color.match(/[0-9.]+/g) || [0, 0, 0]).slice(0, 3).map(Number);
  }
  function luminance(c) {
    var v = c.map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function contrast(a, b) { var x = luminance(a), y = luminance(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); }
  function readableTheme() {
    var root = document.documentElement, probe = document.createElement("span");
    probe.hidden = true; document.body.appendChild(probe);
    Object.keys(READ_ON).forEach(function (name) { root.style.removeProperty(name); });
    var css = getComputedStyle(root), color = function (name) { return rgbOf(probe, css.getPropertyValue(name).trim()); };
    Object.keys(READ_ON).forEach(function (name) {
      var own = color(name), under = READ_ON[name].map(color), best = null;
      [[0, 0, 0], [255, 255, 255]].forEach(function (end) {
        for (var step = 0; step <= 20; step++) {
          var mixed = own.map(function (x, i) { return Math.round(x + (end[i] - x) * step / 20); });
          if (under.every(function (u) { return contrast(mixed, u) >= 4.6; })) {
            if (!best || step < best.step) best = { step: step, rgb: mixed };
            return;
          }
        }
      });
      if (best && best.step) root.style.setProperty(name, "rgb(" + best.rgb.join(", ") + ")");
    });
    probe.remove();
  }

  function pageUrl(path) { return path + (path.indexOf("?") < 0 ? "?" : "&") + "lang=" + lang; }

  function boot() {
    readableTheme();
    if (tg) {
      try { tg.onEvent("themeChanged", readableTheme); } catch (e) { /* outside Telegram */ }
      try { tg.ready(); tg.expand(); } catch (e) { /* outside Telegram */ }
      var page = document.body.dataset.page;
      if (tg.BackButton && page !== "wallet" && page !== "launch") {
        tg.BackButton.onClick(function () { if (history.length > 1) history.back(); else location.href = pageUrl("/app/dashboard/wallet"); });
        tg.BackButton.show();
      }
    }
    if (!initData()) { document.getElementById("no-telegram").hidden = false; document.getElementById("main").hidden = true; return; }
    api("GET", "/api/me").then(function (res) {
      if (!res.ok) { document.getElementById("no-telegram").textContent = errorText(res); document.getElementById("no-telegram").hidden = false; return; }
      if (res.data.language !== lang) {  // the student's language as set in the bot
        var url = new URL(location.href); url.searchParams.set("lang", res.data.language); location.replace(url.toString()); return;
      }
      state.balance = res.data.balance; state.me = res.data;
      document.getElementById("balance-chip").textContent = money(res.data.balance);
      var init = window.CHPages && window.CHPages[document.body.dataset.page];
      if (init) init();
    });
  }

  window.CH = { tg: tg, t: t, lang: lang, money: money, minus: minus, digits: digits, date: date, newKey: newKey,
                api: api, errorText: errorText, el: el, toast: toast, state: state, refreshBalance: refreshBalance,
                confirmSheet: confirmSheet, mainButton: mainButton, pageUrl: pageUrl, shortfall: shortfall,
                topupUrl: topupUrl, failed: failed, skeleton: skeleton, loaded: loaded };
  document.addEventListener("DOMContentLoaded", boot);
})();
