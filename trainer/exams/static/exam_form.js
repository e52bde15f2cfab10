/* The exam form: show the blueprint's running total (it must be 100 points). */
(function () {
  "use strict";
  var out = document.querySelector("[data-testid=blueprint-total]");
  if (!out) { return; }
  var template = out.getAttribute("data-template");
  var rows = document.querySelectorAll(".blueprint-row");
  function number(input) {
    var value = parseFloat(input && input.value);
    return isFinite(value) ? value : 0;
  }
  function update() {
    var points = 0, count = 0;
    Array.prototype.forEach.call(rows, function (row) {
      var n = number(row.querySelector("input[name$='-count']"));
      var p = number(row.querySelector("input[name$='-points']"));
      if (row.querySelector("select").value && n > 0) { count += n; points += n * p; }
    });
    points = Math.round(points * 100) / 100;
    out.textContent = template.replace("{points}", String(points)).replace("{count}", String(count));
    out.classList.toggle("error", count > 0 && Math.abs(points - 100) > 1e-6);
  }
  document.addEventListener("input", update);
  document.addEventListener("change", update);
  update();
}());
