// Lift page: as the admin picks a date, show how many certificates a lift on that day covers.
(function () {
  "use strict";
  var form = document.getElementById("lift-form");
  if (!form) { return; }
  var input = form.querySelector("input[name=on]");
  var out = document.getElementById("affected");
  var timer = null;
  function update() {
    var url = form.getAttribute("data-affected-url") + "?on=" + encodeURIComponent(input.value);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && data.message) { out.textContent = data.message; } })
      .catch(function () { /* keep the server-rendered count */ });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  });
}());
