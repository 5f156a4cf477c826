/* SMARTiP ballot: live budget bar. Progressive enhancement only: without this file the ballot is a plain
   form, and the server checks the budget and re-renders the page with the problem named. */
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, key) { return key in values ? values[key] : m; });
  }

  function setUp(form) {
    var budget = parseFloat(form.dataset.budget) || 0;
    var totalPoints = parseFloat(form.dataset.totalPoints) || 0;
    var kind = form.dataset.kind;
    var lang = document.documentElement.lang || undefined;
    var fmt;
    try {
      fmt = new Intl.NumberFormat(lang, { style: "currency", currency: form.dataset.currency || "EUR", maximumFractionDigits: 2, minimumFractionDigits: 0 });
    } catch (e) {
      fmt = { format: function (n) { return String(Math.round(n * 100) / 100); } };
    }
    var box = form.querySelector("[data-role=budget-box]");
    var fillBar = form.querySelector("[data-role=bar-fill]");
    var status = form.querySelector("[data-role=budget-status]");
    var pointsStatus = form.querySelector("[data-role=points-status]");
    var inputs = Array.prototype.slice.call(form.querySelectorAll("[data-choice]"));

    function chosen() {
      /* [cost, points] per chosen project, each project once */
      var seen = {}, out = [];
      inputs.forEach(function (el) {
        if (el.tagName === "SELECT") {
          var opt = el.options[el.selectedIndex];
          if (opt && opt.value && !seen[opt.value]) { seen[opt.value] = 1; out.push([parseFloat(opt.dataset.cost) || 0, 1]); }
        } else if (el.type === "checkbox") {
          if (el.checked) out.push([parseFloat(el.dataset.cost) || 0, 1]);
          el.closest(".project").classList.toggle("chosen", el.checked);
        } else {
          var pts = parseInt(el.value, 10);
          var on = pts > 0;
          if (on) out.push([parseFloat(el.dataset.cost) || 0, pts]);
          el.closest(".project").classList.toggle("chosen", on);
        }
      });
      return out;
    }

    function update() {
      var picks = chosen();
      var spent = picks.reduce(function (s, p) { return s + p[0]; }, 0);
      var points = picks.reduce(function (s, p) { return s + p[1]; }, 0);
      var left = budget - spent;
      var over = left < 0;
      if (fillBar) fillBar.style.width = Math.min(100, budget ? (spent * 100) / budget : 0) + "%";
      if (box) box.classList.toggle("over", over && kind === "approval_budget");
      if (status) {
        var values = { chosen: fmt.format(spent), budget: fmt.format(budget), left: fmt.format(Math.abs(left)), over: fmt.format(Math.abs(left)) };
        status.textContent = fill(over ? form.dataset.msgOver : form.dataset.msgLeft, values);
      }
      if (pointsStatus && totalPoints) {
        pointsStatus.textContent = fill(form.dataset.msgPoints, { used: points, total: totalPoints, left: totalPoints - points });
      }
    }

    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  }

  function start() {
    Array.prototype.slice.call(document.querySelectorAll("form[data-ballot]")).forEach(setUp);
    var focus = document.querySelector("[data-focus]");
    if (focus) focus.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
