// recert: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Dates are sent in UTC; shown in the reader's own time zone and language.
    document.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d.getTime())) {
        t.textContent = d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
        t.title = d.toLocaleString();
      }
    });
    var all = document.getElementById("select-all");
    var boxes = Array.prototype.slice.call(document.querySelectorAll('input[name="item"]'));
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
      });
      boxes.forEach(function (b) {
        b.addEventListener("change", function () {
          all.checked = boxes.every(function (x) { return x.checked; });
        });
      });
    }
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr.item"));
    if (!rows.length || !document.getElementById("items-form")) { return; }
    var at = -1;
    // The row in focus, however it got there (j/k, Tab, a click), is the one a key acts on.
    document.addEventListener("focusin", function (e) {
      var row = e.target && e.target.closest ? e.target.closest("tr.item") : null;
      if (row) { at = rows.indexOf(row); }
    });
    var hash = window.location.hash.replace("#", "");
    if (hash.indexOf("item-") === 0) {
      var back = document.getElementById(hash);
      if (back) { at = rows.indexOf(back); back.focus(); }
    }
    function go(i) {
      if (i < 0 || i >= rows.length) { return; }
      at = i;
      rows[at].focus();
    }
    function press(decision) {
      if (at < 0) { return; }
      var b = rows[at].querySelector('button[value$=":' + decision + '"]');
      if (b) { b.click(); }
    }
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (e.ctrlKey || e.metaKey || e.altKey) { return; }
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) { return; }
      if (e.key === "j") { go(at + 1); e.preventDefault(); }
      else if (e.key === "k") { go(at - 1); e.preventDefault(); }
      else if (e.key === "x" && at >= 0) {
        var box = rows[at].querySelector('input[name="item"]');
        if (box) { box.checked = !box.checked; }
        e.preventDefault();
      }
      else if (e.key === "a") { press("APPROVE"); e.preventDefault(); }
      else if (e.key === "r") { press("REVOKE"); e.preventDefault(); }
    });
  });
})();
