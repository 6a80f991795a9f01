/* The page-side half of tests/looks.py, evaluated into the page under test (as axe-core is). */
window.looks = (function () {
  "use strict";
  function describe(el) {
    var classes = typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\s+/).join(".") : "";
    var name = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 30);
    return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + classes + (name ? ' "' + name + '"' : "");
  }
  function shown(el) { return el.checkVisibility({ visibilityProperty: true, opacityProperty: true }); }

  /* How wide the page is against the window, and the first elements that stick out on the right. */
  function widths() {
    var inner = window.innerWidth;
    var wide = Array.prototype.filter.call(document.querySelectorAll("body *"), function (el) {
      return el.getBoundingClientRect().right > inner + 1 && shown(el);
    });
    return { scroll: document.documentElement.scrollWidth, inner: inner, wide: wide.slice(0, 5).map(describe) };
  }

  /* Where a control is once scrolled to, vertically only (needing to scroll sideways is the fault looked for),
     and whether something else covers its middle. */
  function onScreen(el) {
    var before = el.getBoundingClientRect();
    window.scrollTo(0, window.scrollY + before.top - (window.innerHeight - before.height) / 2);
    var r = el.getBoundingClientRect(), hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    var covered = !hit ? "nothing" : hit === el || el.contains(hit) || hit.contains(el) ? null : describe(hit);
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height,
             visible: shown(el), covered: covered, inner: window.innerWidth, innerHeight: window.innerHeight };
  }

  /* Every visible control smaller than min x min CSS px; a radio or a checkbox counts as its label, which the
     Mini App styles as the control. */
  function smallTargets(min) {
    var controls = "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], "
      + "[tabindex]:not([tabindex='-1'])";
    var small = {};
    Array.prototype.forEach.call(document.querySelectorAll(controls), function (el) {
      var target = el.matches("input[type=radio], input[type=checkbox]") ? (el.closest("label") || el) : el;
      if (!shown(target) || target.closest(".visually-hidden")) return;
      var r = target.getBoundingClientRect();
      if (r.width && r.height && (r.width < min - 0.5 || r.height < min - 0.5)) {
        small[describe(target) + " " + Math.round(r.width) + "x" + Math.round(r.height)] = true;
      }
    });
    return Object.keys(small);
  }

  return { widths: widths, onScreen: onScreen, smallTargets: smallTargets };
})();
