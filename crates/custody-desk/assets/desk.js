// custody desk: counts clocks down every second, polls notification progress (and the run
// started from the desk) while notices are queued or sending, and reads a chosen backlog file
// into its form. No framework; nothing else runs.
"use strict";
(function () {
  function words(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var days = Math.floor(minutes / 1440), hours = Math.floor(minutes / 60) % 24, mins = minutes % 60;
    var secs = Math.floor(Math.abs(seconds)) % 60;
    var text = (days > 0 ? days + " d " : "") + hours + " h " + mins + " min";
    return days > 0 ? text : text + " " + (secs < 10 ? "0" : "") + secs + " s";
  }
  var SOON = 6 * 3600;
  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var left = Number(el.getAttribute("data-due")) - now;
      var target = el.querySelector(".left");
      if (!target) { return; }
      target.textContent = left >= 0 ? words(left) + " left" : "overdue by " + words(left);
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < SOON);
    });
  }
  function poll(section) {
    var url = section.getAttribute("data-progress");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (counts) {
        if (!counts) { setTimeout(function () { poll(section); }, 15000); return; }
        section.querySelectorAll("[data-count]").forEach(function (el) {
          el.textContent = String(counts[el.getAttribute("data-count")] || 0);
        });
        var run = counts.run, said = section.querySelector("#notify-run");
        if (run && said) {
          said.textContent = run.running
            ? "Sending (started by " + run.by + "): " + run.progress.sent + " sent, " + run.progress.remaining + " to go."
            : run.error ? "The run stopped: " + run.error
            : "The run finished: " + (run.outcome || "") + ".";
          said.setAttribute("data-state", run.running ? "running" : run.error ? "stopped" : "finished");
        }
        var letters = counts.letters, count = section.querySelector("#letters-count");
        if (letters && count) {
          count.textContent = "Letters: " + letters.needed + " needed, " + letters.printed + " printed, " + letters.posted + " posted.";
        }
        var busy = (counts.queued || 0) + (counts.sending || 0) + (counts.retry || 0) > 0 || (run && run.running);
        setTimeout(function () { poll(section); }, busy ? 2000 : 15000);
      })
      .catch(function () { setTimeout(function () { poll(section); }, 15000); });
  }
  // A file input with data-text reads the chosen file into that textarea (and its name into
  // data-name), so the form posts it like any other; nothing is sent until the form is.
  function readInto(input) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) { return; }
      var reader = new FileReader();
      reader.onload = function () {
        document.getElementById(input.getAttribute("data-text")).value = String(reader.result);
        document.getElementById(input.getAttribute("data-name")).value = file.name;
      };
      reader.readAsText(file);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[type=file][data-text]").forEach(readInto);
    if (document.querySelector("[data-due]")) { tick(); setInterval(tick, 1000); }
    document.querySelectorAll("[data-progress]").forEach(function (section) { poll(section); });
  });
})();
