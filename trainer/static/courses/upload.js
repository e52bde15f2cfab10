/* Lesson upload with a progress bar (XHR upload progress); the form also works without it. */
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData) return;
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var button = form.querySelector("button[type=submit]");
  function say(text, bad) { status.textContent = text; status.className = bad ? "error" : ""; }
  form.addEventListener("submit", function (event) {
    var input = form.querySelector("input[type=file]");
    var file = input && input.files[0];
    if (!file) return;  // let the server say what is missing
    event.preventDefault();
    if (file.size > Number(form.getAttribute("data-limit"))) {
      say(form.getAttribute("data-too-big"), true); return;
    }
    if (file.type && !/^video\//.test(file.type)) {
      say(form.getAttribute("data-not-video"), true); return;
    }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || location.href);
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false; bar.value = 0; button.disabled = true; say("");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round(e.loaded / e.total * 100);
        say(bar.value + "%");
      }
    };
    xhr.upload.onload = function () { bar.value = 100; say(form.getAttribute("data-processing")); };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 201 && body.redirect) { location.href = body.redirect; return; }
      button.disabled = false; bar.hidden = true;
      say(body.error && body.error.message || form.getAttribute("data-failed"), true);
    };
    xhr.onerror = function () {
      button.disabled = false; bar.hidden = true; say(form.getAttribute("data-failed"), true);
    };
    xhr.send(new FormData(form));
  });
})();
