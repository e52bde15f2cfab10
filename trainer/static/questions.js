// Question-bank pages: "select all" for bulk marking, and the live preview of the question
// being edited (which fields show depends on the type). Works without it: every field shows.
(function () {
  "use strict";
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      var name = box.getAttribute("data-select-all");
      box.form.querySelectorAll('input[name="' + name + '"]').forEach(function (item) {
        item.checked = box.checked;
      });
    });
  });

  var form = document.getElementById("question-form");
  var preview = document.getElementById("question-preview");
  if (!form || !preview) { return; }
  var letters = "ABCDEF";

  function value(name) {
    var el = form.elements[name];
    return el ? String(el.value || "").trim() : "";
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }

  function render() {
    var type = value("type");
    form.querySelectorAll(".choice-only").forEach(function (n) { n.hidden = type === "true_false"; });
    form.querySelectorAll(".tf-only").forEach(function (n) { n.hidden = type !== "true_false"; });
    var correct = {};
    form.querySelectorAll('input[name="correct"]').forEach(function (c) { correct[c.value] = c.checked; });
    var images = preview.querySelector(".question-images");  // stored images: kept as they are
    preview.textContent = "";
    preview.appendChild(el("p", value("stem"), "stem"));
    if (images) { preview.appendChild(images); }
    if (type === "true_false") {
      var answer = value("true_false") === "true" ? preview.dataset.true : preview.dataset.false;
      var p = el("p");
      p.appendChild(el("strong", answer));
      preview.appendChild(p);
    } else {
      var list = el("ol", undefined, "options");
      for (var i = 0; i < letters.length; i++) {
        var letter = letters[i];
        var text = value("option_" + letter.toLowerCase());
        if (!text) { continue; }
        var item = el("li", undefined, correct[letter] ? "correct" : "");
        item.appendChild(el("span", letter + ". ", "letter"));
        item.appendChild(document.createTextNode(text));
        if (correct[letter]) {
          item.appendChild(document.createTextNode(" "));
          item.appendChild(el("span", "✓ " + preview.dataset.correct, "badge ok"));
        }
        list.appendChild(item);
      }
      preview.appendChild(list);
    }
    var explanation = value("explanation");
    if (explanation) {
      preview.appendChild(el("p", preview.dataset.explanation + " " + explanation, "muted"));
    }
  }

  form.addEventListener("input", render);
  form.addEventListener("change", render);
  render();
})();
