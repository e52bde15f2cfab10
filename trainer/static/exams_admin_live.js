// Exam staff pages: count the server's seconds-left down between page loads, and reload the
// "sitting now" list every 30 seconds. The starting figures come from the server, never from
// this device's clock (only the time elapsed since the page loaded is measured here).
(function () {
  "use strict";
  var loaded = performance.now();
  var cells = document.querySelectorAll("[data-seconds-left]");
  function show(seconds) {
    var s = Math.max(0, Math.round(seconds));
    var m = Math.floor(s / 60);
    var r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }
  function tick() {
    var elapsed = (performance.now() - loaded) / 1000;
    for (var i = 0; i < cells.length; i++) {
      cells[i].textContent = show(Number(cells[i].getAttribute("data-seconds-left")) - elapsed);
    }
  }
  if (cells.length) {
    window.setInterval(tick, 1000);
  }
  if (document.querySelector("[data-testid=live-list]")) {
    window.setTimeout(function () { window.location.reload(); }, 30000);
  }
})();
