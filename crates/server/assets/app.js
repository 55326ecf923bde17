// recert: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var all = document.getElementById("select-all");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll('input[name="item"]').forEach(function (b) { b.checked = all.checked; });
      });
    }
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr.item"));
    if (!rows.length || !document.getElementById("items-form")) { return; }
    var at = -1;
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
