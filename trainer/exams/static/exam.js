/* The exam page: one question per screen, every answer saved at once, nothing lost offline.
 *
 * - The countdown comes from the server's seconds_left and performance.now() (a monotonic
 *   clock), never from Date.now(): a phone whose clock is wrong still shows the right time.
 * - Each answer is PUT the moment it is chosen, with a sequence number in server time
 *   (server_time_ms + performance.now() elapsed), so an older save never overwrites a newer one
 *   (the server checks), across reloads and devices.
 * - Answers are also kept in localStorage; unsent ones are re-sent with backoff after a lost
 *   connection or a reload. The page shows "saved" or how many answers wait for the network.
 */
(function () {
  "use strict";

  var root = document.getElementById("exam");
  if (!root) { return; }
  var S = JSON.parse(document.getElementById("exam-strings").textContent);
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var api = root.getAttribute("data-api");
  var resultUrl = root.getAttribute("data-result-url");
  var storeKey = "trainer-exam-" + root.getAttribute("data-attempt-id");
  var practice = root.getAttribute("data-practice") === "true";

  var area = root.querySelector(".question-area");
  var grid = root.querySelector(".question-grid");
  var timerEl = root.querySelector(".timer");
  var stateEl = root.querySelector(".save-state");
  var submitButton = root.querySelector('[data-action="submit"]');

  var questions = [];
  var answers = {};          // question id -> {response, seq, synced, feedback, error}
  var current = 0;
  var endAt = null;          // performance.now() value at which time runs out
  var serverBase = 0;        // server time (ms) at perfBase
  var perfBase = 0;
  var lastSeq = 0;
  var inflight = false;
  var retryTimer = null;
  var backoff = 1000;
  var closed = false;
  var submitting = false;
  var networkTrouble = false;

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) { return String(values[key]); });
  }

  function loadLocal() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "{}") || {}; }
    catch (e) { return {}; }
  }

  function persist() {
    try { window.localStorage.setItem(storeKey, JSON.stringify(answers)); } catch (e) { /* full */ }
  }

  function nextSeq() {
    var seq = Math.floor(serverBase + (performance.now() - perfBase));
    if (seq <= lastSeq) { seq = lastSeq + 1; }
    lastSeq = seq;
    return seq;
  }

  function request(method, url, body) {
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = controller ? setTimeout(function () { controller.abort(); }, 15000) : null;
    return fetch(url, {
      method: method, credentials: "same-origin", cache: "no-store",
      signal: controller ? controller.signal : undefined,
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": csrf},
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      if (timeout) { clearTimeout(timeout); }
      return response.json().catch(function () { return {}; }).then(function (data) {
        return {status: response.status, data: data};
      });
    }, function (error) {
      if (timeout) { clearTimeout(timeout); }
      throw error;
    });
  }

  // --- state shown to the taker ----------------------------------------------------------

  function pendingIds() {
    return questions.filter(function (q) {
      var a = answers[q.id];
      return a && !a.synced;
    }).map(function (q) { return q.id; });
  }

  function showState() {
    var waiting = pendingIds().length;
    var state, text;
    if (closed) {
      state = "closed"; text = S.closed;
    } else if (waiting && (networkTrouble || !navigator.onLine)) {
      state = "waiting";
      text = (navigator.onLine ? "" : S.offline + " ") + fmt(S.waiting, {n: waiting});
      if (submitting) { text = S.submit_waiting + " " + text; }
    } else if (waiting || inflight) {
      state = "saving"; text = submitting ? S.submitting : S.saving;
    } else {
      state = submitting ? "saving" : "saved"; text = submitting ? S.submitting : S.saved;
    }
    stateEl.textContent = text;
    stateEl.setAttribute("data-state", state);
    stateEl.setAttribute("data-pending", String(waiting));
  }

  function formatClock(ms) {
    var total = Math.ceil(ms / 1000);
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var mm = (m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  function tick() {
    if (endAt === null) { return; }
    var left = Math.max(0, endAt - performance.now());
    timerEl.textContent = formatClock(left);
    timerEl.setAttribute("data-seconds-left", String(Math.ceil(left / 1000)));
    timerEl.classList.toggle("low", left <= 60000);
    if (left <= 0 && !closed && !submitting) {
      stateEl.textContent = S.time_up;
      submit(false);
    }
  }

  function setDeadline(secondsLeft, sentAt) {
    // sentAt: performance.now() when the request left; the server counted from later, so the
    // phone's countdown ends no later than the server's deadline.
    endAt = sentAt + secondsLeft * 1000;
    tick();
  }

  // --- rendering -------------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function chosen(question) {
    var a = answers[question.id];
    return a ? a.response : null;
  }

  function render() {
    var q = questions[current];
    area.textContent = "";
    if (!q) { return; }
    var box = el("div", "question");
    box.setAttribute("data-question-id", String(q.id));
    box.setAttribute("data-testid", "question");
    box.setAttribute("data-type", q.type);
    box.appendChild(el("p", "muted", fmt(S.question_of, {n: current + 1, total: questions.length})
                                     + " · " + fmt(S.points, {points: +q.points.toFixed(2)})));
    box.appendChild(el("p", "stem", q.stem));
    var list = el("div", "choices");
    var a = answers[q.id];
    // Practice: feedback shows at once for single choice and true/false; for multiple choice
    // when the taker says they have chosen everything ("Check").
    var showFeedback = !!(a && a.feedback && (q.type !== "multiple" || a.revealed));
    var locked = closed || showFeedback;
    var response = chosen(q);
    var options = q.type === "true_false" ? [S["true"], S["false"]] : q.options;
    options.forEach(function (text, index) {
      var label = el("label", "choice");
      var input = document.createElement("input");
      input.type = q.type === "multiple" ? "checkbox" : "radio";
      input.name = "q-" + q.id;
      input.value = String(index);
      if (q.type === "true_false") {
        input.checked = response !== null && response !== undefined && response === (index === 0);
      } else {
        input.checked = Array.isArray(response) && response.indexOf(index) >= 0;
      }
      input.disabled = !!locked;
      input.addEventListener("change", function () { choose(q); });
      label.appendChild(input);
      if (q.type !== "true_false") {
        label.appendChild(el("b", null, "ABCDEF".charAt(index) + ". "));
      }
      label.appendChild(el("span", null, text));
      list.appendChild(label);
    });
    box.appendChild(list);
    if (a && a.error) {
      box.appendChild(el("p", "error", fmt(S.refused, {message: a.error})));
    }
    if (practice && q.type === "multiple" && a && !showFeedback && !closed &&
        Array.isArray(a.response) && a.response.length) {
      var check = el("button", "secondary block", S.check);
      check.type = "button";
      check.setAttribute("data-testid", "check");
      check.addEventListener("click", function () { a.revealed = true; persist(); render(); });
      box.appendChild(check);
    }
    if (showFeedback) {
      var fb = a.feedback;
      var note = el("div", "feedback " + (fb.correct ? "right" : "wrong"));
      note.setAttribute("data-testid", "feedback");
      note.appendChild(el("p", null, fb.correct ? S.correct : S.wrong));
      var answerText = q.type === "true_false" ? (fb.answer ? S["true"] : S["false"])
        : fb.answer.map(function (i) { return "ABCDEF".charAt(i); }).join("");
      note.appendChild(el("p", null, S.answer_is + " " + answerText));
      if (fb.explanation) { note.appendChild(el("p", "explanation", fb.explanation)); }
      box.appendChild(note);
    }
    area.appendChild(box);
    root.querySelector('[data-action="prev"]').disabled = current === 0;
    root.querySelector('[data-action="next"]').disabled = current >= questions.length - 1;
    renderGrid();
  }

  function renderGrid() {
    grid.textContent = "";
    questions.forEach(function (q, index) {
      var button = el("button", "cell", String(index + 1));
      button.type = "button";
      var a = answers[q.id];
      if (a && a.response !== null && a.response !== undefined &&
          !(Array.isArray(a.response) && a.response.length === 0)) {
        button.classList.add("answered");
      }
      if (a && !a.synced) { button.classList.add("unsent"); }
      if (index === current) { button.setAttribute("aria-current", "true"); }
      button.addEventListener("click", function () { go(index); });
      grid.appendChild(button);
    });
  }

  function go(index) {
    current = Math.max(0, Math.min(questions.length - 1, index));
    render();
    window.scrollTo(0, 0);
  }

  // --- answering and saving --------------------------------------------------------------

  function choose(q) {
    if (closed) { return; }
    var inputs = area.querySelectorAll('input[name="q-' + q.id + '"]');
    var response;
    if (q.type === "true_false") {
      response = null;
      Array.prototype.forEach.call(inputs, function (input) {
        if (input.checked) { response = input.value === "0"; }
      });
    } else {
      response = [];
      Array.prototype.forEach.call(inputs, function (input) {
        if (input.checked) { response.push(parseInt(input.value, 10)); }
      });
      response.sort(function (x, y) { return x - y; });
    }
    answers[q.id] = {response: response, seq: nextSeq(), synced: false};
    persist();
    renderGrid();
    flush();
  }

  function scheduleRetry() {
    networkTrouble = true;
    showState();
    if (retryTimer) { return; }
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, backoff);
    backoff = Math.min(backoff * 2, 15000);
  }

  function flush() {
    if (inflight || closed) { showState(); return; }
    var ids = pendingIds();
    if (!ids.length) { networkTrouble = false; showState(); return; }
    var qid = ids[0];
    var entry = answers[qid];
    var sentSeq = entry.seq;
    var sentAt = performance.now();
    inflight = true;
    showState();
    request("PUT", api + "/answers/" + qid, {response: entry.response, seq: sentSeq})
      .then(function (res) {
        inflight = false;
        var now = answers[qid];
        if (res.status === 200) {
          backoff = 1000;
          networkTrouble = false;
          if (now && now.seq === sentSeq) {
            now.synced = true;
            if (!res.data.applied) {  // the server holds a newer answer (another device)
              now.response = res.data.response;
              now.seq = res.data.seq;
            }
            if (res.data.feedback) { now.feedback = res.data.feedback; }
          }
          if (typeof res.data.seconds_left === "number" && res.data.seconds_left > 0) {
            setDeadline(res.data.seconds_left, sentAt);
          }
          persist();
          if (questions[current] && questions[current].id === qid) { render(); } else { renderGrid(); }
          flush();
        } else if (res.status === 409) {
          closed = true;
          showState();
          finish();
        } else if (res.status === 401 || res.status === 400 || res.status === 429 ||
                   res.status >= 500) {
          scheduleRetry();  // logged out, expired form token, busy server: try again later
        } else {
          // Refused for good (422 malformed, 404 not on this paper): keep the choice visible.
          if (now && now.seq === sentSeq) {
            now.synced = true;
            now.error = res.data && res.data.error ? res.data.error.message : String(res.status);
          }
          persist();
          render();
          flush();
        }
      }, function () {
        inflight = false;
        scheduleRetry();
      });
  }

  // --- submitting ------------------------------------------------------------------------

  function unanswered() {
    return questions.filter(function (q) {
      var r = chosen(q);
      return r === null || r === undefined || (Array.isArray(r) && r.length === 0);
    }).length;
  }

  function finish() {
    try { window.localStorage.removeItem(storeKey); } catch (e) { /* ignore */ }
    window.location.assign(resultUrl);
  }

  function whenFlushed(then) {
    if (closed) { finish(); return; }
    if (!pendingIds().length && !inflight) { then(); return; }
    flush();
    setTimeout(function () { whenFlushed(then); }, 300);
  }

  function submit(ask) {
    if (submitting || closed) { return; }
    if (ask) {
      var n = unanswered();
      if (!window.confirm(n ? fmt(S.confirm_unanswered, {n: n}) : S.confirm)) { return; }
    }
    submitting = true;
    submitButton.disabled = true;
    showState();
    var attemptSubmit = function () {
      request("POST", api + "/submit").then(function (res) {
        if (res.status === 200) {
          closed = true;
          finish();
        } else if (res.status === 404) {
          finish();
        } else {
          networkTrouble = true;
          showState();
          setTimeout(attemptSubmit, backoff);
        }
      }, function () {
        networkTrouble = true;
        showState();
        setTimeout(attemptSubmit, Math.min(backoff, 5000));
      });
    };
    whenFlushed(attemptSubmit);
  }

  // --- start-up --------------------------------------------------------------------------

  function adopt(data, sentAt) {
    if (data.status !== "in_progress") { closed = true; finish(); return; }
    serverBase = data.server_time_ms;
    perfBase = sentAt;
    questions = data.questions;
    var local = loadLocal();
    questions.forEach(function (q) {
      var mine = local[q.id];
      var serverSeq = q.seq === null || q.seq === undefined ? -1 : q.seq;
      lastSeq = Math.max(lastSeq, serverSeq, mine && mine.seq ? mine.seq : 0);
      if (mine && !mine.synced && mine.seq > serverSeq) {
        answers[q.id] = mine;  // chosen here but never acknowledged: send it again
      } else if (q.response !== null && q.response !== undefined) {
        answers[q.id] = {response: q.response, seq: q.seq, synced: true, feedback: q.feedback,
                         revealed: !!(mine && mine.revealed && mine.seq === q.seq)};
      } else if (mine && mine.error) {
        answers[q.id] = mine;
      }
    });
    persist();
    setDeadline(data.seconds_left, sentAt);
    render();
    flush();
  }

  function boot() {
    var sentAt = performance.now();
    request("GET", api).then(function (res) {
      if (res.status === 200) { adopt(res.data, sentAt); }
      else if (res.status === 404 || res.status === 401) { window.location.assign(resultUrl); }
      else { setTimeout(boot, 2000); }
    }, function () { networkTrouble = true; setTimeout(boot, 2000); });
  }

  function resync() {
    // Phones pause pages in the background: take the time left from the server again.
    var sentAt = performance.now();
    request("GET", api).then(function (res) {
      if (res.status !== 200) { return; }
      if (res.data.status !== "in_progress") { closed = true; finish(); return; }
      setDeadline(res.data.seconds_left, sentAt);
    }, function () { /* offline: keep counting */ });
  }

  root.querySelector('[data-action="prev"]').addEventListener("click", function () { go(current - 1); });
  root.querySelector('[data-action="next"]').addEventListener("click", function () { go(current + 1); });
  submitButton.addEventListener("click", function () { submit(true); });
  window.addEventListener("online", function () {
    backoff = 1000;
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    flush();
  });
  window.addEventListener("offline", showState);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && questions.length && !closed) { resync(); flush(); }
  });
  setInterval(tick, 250);
  boot();
}());
