/* secscan report: sorting and filtering. Reads and writes the URL fragment
   (#q=...&severity=...&kind=...&status=...&blocking=1&sort=sev&dir=desc) so a filtered view can
   be shared. It only reads data-* attributes and toggles `hidden`; it never builds HTML. */
(function () {
  "use strict";
  var table = document.getElementById("findings");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var q = document.getElementById("q");
  var fSev = document.getElementById("f-severity");
  var fKind = document.getElementById("f-kind");
  var fStatus = document.getElementById("f-status");
  var fBlk = document.getElementById("f-blocking");
  var shown = document.getElementById("shown");
  var empty = document.getElementById("empty");
  var sortKey = "", sortDir = "";
  var numeric = { sev: true, status: true, n: true };
  var attr = { sev: "sev", status: "statusRank", kind: "kind", title: "title", loc: "loc", scanner: "scanner", n: "n" };

  function value(row, key) {
    var v = row.dataset[attr[key]] || "";
    return numeric[key] ? Number(v) : v;
  }

  function apply(updateHash) {
    var terms = q.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var n = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], d = r.dataset, ok = true;
      if (fSev.value && d.severity !== fSev.value) { ok = false; }
      else if (fKind.value && d.kind !== fKind.value) { ok = false; }
      else if (fStatus.value && d.status !== fStatus.value) { ok = false; }
      else if (fBlk.checked && d.blocking !== "yes") { ok = false; }
      else {
        for (var t = 0; t < terms.length; t++) {
          if (d.search.indexOf(terms[t]) < 0) { ok = false; break; }
        }
      }
      r.hidden = !ok;
      if (ok) { n++; }
    }
    shown.textContent = n + " of " + rows.length;
    empty.hidden = n !== 0;
    if (updateHash) { writeHash(); }
  }

  function sortBy(key, dir) {
    if (!attr[key]) { return; }
    sortKey = key; sortDir = dir === "asc" ? "asc" : "desc";
    var sign = sortDir === "asc" ? 1 : -1;
    rows.sort(function (a, b) {
      var x = value(a, key), y = value(b, key);
      if (x < y) { return -sign; }
      if (x > y) { return sign; }
      return Number(a.dataset.n) - Number(b.dataset.n);
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r); });
    tbody.appendChild(frag);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.setAttribute("aria-sort", th.dataset.sort === key ? (sortDir === "asc" ? "ascending" : "descending") : "none");
    });
  }

  function writeHash() {
    var p = new URLSearchParams();
    if (q.value.trim()) { p.set("q", q.value.trim()); }
    if (fSev.value) { p.set("severity", fSev.value); }
    if (fKind.value) { p.set("kind", fKind.value); }
    if (fStatus.value) { p.set("status", fStatus.value); }
    if (fBlk.checked) { p.set("blocking", "1"); }
    if (sortKey) { p.set("sort", sortKey); p.set("dir", sortDir); }
    var h = p.toString();
    history.replaceState(null, "", h ? "#" + h : location.pathname + location.search);
  }

  function pick(select, v) {
    var ok = Array.prototype.some.call(select.options, function (o) { return o.value === v; });
    select.value = ok ? v : "";
  }

  function readHash() {
    var h = location.hash.slice(1);
    if (/^f\d+$/.test(h)) { return openRow(h); }
    var p = new URLSearchParams(h);
    q.value = p.get("q") || "";
    pick(fSev, p.get("severity") || "");
    pick(fKind, p.get("kind") || "");
    pick(fStatus, p.get("status") || "");
    fBlk.checked = p.get("blocking") === "1";
    if (p.get("sort")) { sortBy(p.get("sort"), p.get("dir") || "desc"); }
    apply(false);
  }

  function openRow(id) {
    var row = document.getElementById(id);
    if (!row) { return; }
    row.hidden = false;
    var det = row.querySelector("details");
    if (det) { det.open = true; }
    row.scrollIntoView({ block: "center" });
  }

  [q, fSev, fKind, fStatus, fBlk].forEach(function (el) {
    el.addEventListener(el === q ? "input" : "change", function () { apply(true); });
  });
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    th.addEventListener("click", function () {
      var key = th.dataset.sort;
      sortBy(key, sortKey === key && sortDir === "desc" ? "asc" : "desc");
      writeHash();
    });
  });
  window.addEventListener("hashchange", readHash);
  readHash();
})();
