// Small vanilla helpers: sortable/filterable (or server-paged) proposals, expandable rows, job progress polling.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  window.matcherCsrfToken = csrfToken;

  function cellValue(body, index) {
    var cell = body.querySelector("tr.summary").children[index];
    return cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
  }

  // A listing is "complete" when this page holds every proposal of the run: filter and sort it here.
  // Otherwise the server filters, sorts and pages it, and the controls navigate.
  function serverSort(th, ascending) {
    var url = new URL(location.href);
    url.searchParams.set("sort", th.dataset.key);
    url.searchParams.set("order", ascending ? "asc" : "desc");
    url.searchParams.delete("page");
    url.hash = "";
    location.assign(url.toString());
  }

  function makeSortable(table, complete) {
    var heads = table.querySelectorAll("thead th[data-sort]");
    heads.forEach(function (th) {
      th.tabIndex = 0;
      th.addEventListener("click", function (event) {
        if (complete) { event.preventDefault(); }  // the header's link sorts on the server only when paged
        var numeric = th.dataset.sort === "number";
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        if (!complete) { serverSort(th, ascending); return; }
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var bodies = Array.prototype.slice.call(table.querySelectorAll("tbody.proposal"));
        bodies.sort(function (a, b) {
          var x = cellValue(a, th.cellIndex), y = cellValue(b, th.cellIndex);
          var order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, "ko");
          return ascending ? order : -order;
        });
        bodies.forEach(function (b) { table.appendChild(b); });
      });
    });
  }

  function applyFilters(table, controls) {
    var wanted = {};
    controls.querySelectorAll("select[data-filter]").forEach(function (s) { wanted[s.dataset.filter] = s.value; });
    table.querySelectorAll("tbody.proposal").forEach(function (body) {
      var show = Object.keys(wanted).every(function (key) { return !wanted[key] || body.dataset[key] === wanted[key]; });
      body.hidden = !show;
    });
  }

  function wireProposals() {
    var table = document.getElementById("proposals");
    if (!table) { return; }
    var controls = document.getElementById("proposal-filters");
    var complete = !controls || controls.dataset.complete === "1";
    makeSortable(table, complete);
    table.addEventListener("click", function (event) {
      var button = event.target.closest("button.toggle");
      if (!button) { return; }
      var detail = button.closest("tbody").querySelector("tr.explain");
      detail.hidden = !detail.hidden;
      button.setAttribute("aria-expanded", String(!detail.hidden));
    });
    if (controls) {
      controls.addEventListener("change", function (event) {
        if (complete && event.target.matches("select[data-filter]")) { applyFilters(table, controls); }
        else { controls.submit(); }
      });
    }
    if (location.hash && location.hash.indexOf("#p-") === 0) {
      var body = document.getElementById(location.hash.slice(1));
      if (body) { body.querySelector("tr.explain").hidden = false; }
    }
  }

  // Poll a job while it is queued or running; when its status changes, reload: the server renders the
  // outcome (the run link, the error, retry for a failed or interrupted job).
  function pollJob() {
    var box = document.getElementById("job");
    if (!box) { return; }
    var bar = document.getElementById("job-progress");
    var message = document.getElementById("job-message");
    function tick() {
      fetch(box.dataset.statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          if (job.status !== box.dataset.status) { location.reload(); return; }
          if (job.status === "queued" || job.status === "running") {
            bar.value = job.fraction;
            message.textContent = job.status_text + " " + Math.round(job.fraction * 100) + "% " + job.message;
            setTimeout(tick, 700);
          }
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    if (box.dataset.status === "queued" || box.dataset.status === "running") { tick(); }
  }

  // Select every row of the bulk form at once.
  function wireBulk() {
    var all = document.getElementById("select-all");
    if (!all) { return; }
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=pair]").forEach(function (box) { box.checked = all.checked; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireProposals();
    pollJob();
    wireBulk();
  });
})();
