/* Lesson player: records watched segments, reports them every 15 s and on pause/leave, keeps
   unsent reports in localStorage across lost connections, blocks seeking past what was watched
   (no-skip lessons), keeps live premieres in step. No framework. */
(function () {
  "use strict";
  var el = document.getElementById("lesson-data");
  var video = document.getElementById("player");
  if (!el || !video) return;
  var cfg = JSON.parse(el.textContent);
  var st = cfg.state, txt = cfg.text, dur = st.duration;
  var bar = document.getElementById("watched");
  var status = document.getElementById("status");
  var notice = document.getElementById("notice");
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : "";
  var KEY = "trainer.progress." + cfg.user + "." + cfg.lesson;
  var server = st.segments.slice();   // what the server has recorded
  var furthest = st.furthest_position;
  var completed = st.completed;
  var seg = null;                     // the segment being played now: [start, end]
  var last = null;                    // position at the previous timeupdate
  var inflight = null, retry = 0, timer = null;
  var skew = Date.parse(st.server_time) - Date.now();
  var pr = st.premiere;
  var live = pr.phase === "live";
  var liveAt = pr.at ? Date.parse(pr.at) : 0;
  var pending = load();

  function merge(list) {
    var xs = list.filter(function (x) { return x[1] > x[0]; })
      .map(function (x) { return [x[0], x[1]]; })
      .sort(function (a, b) { return a[0] - b[0]; });
    var out = [];
    xs.forEach(function (x) {
      var p = out[out.length - 1];
      if (p && x[0] <= p[1] + 0.5) p[1] = Math.max(p[1], x[1]); else out.push(x);
    });
    return out;
  }
  function total(list) { return list.reduce(function (s, x) { return s + x[1] - x[0]; }, 0); }
  function load() {
    try {
      var v = JSON.parse(localStorage.getItem(KEY));
      if (v && Array.isArray(v.s)) return v;
    } catch (e) { /* private mode or corrupt: start empty */ }
    return { s: [], p: null };
  }
  function save() {
    var s = merge(pending.s.concat(inflight || []));
    try {
      if (s.length) localStorage.setItem(KEY, JSON.stringify({ s: s, p: pending.p }));
      else localStorage.removeItem(KEY);
    } catch (e) { /* quota: keep in memory */ }
  }
  function liveOffset() { return (Date.now() + skew - liveAt) / 1000; }
  function show(msg) { notice.textContent = msg; notice.hidden = !msg; }
  function allowed() { return Math.max(furthest, seg ? seg[1] : 0); }

  function render() {
    var all = merge(server.concat(pending.s, inflight || [], seg ? [seg] : []));
    var share = Math.min(1, total(all) / dur);
    bar.value = share;
    var item = document.querySelector('.outline li[data-lesson="' + cfg.lesson + '"] progress');
    if (item) item.value = share;
    status.textContent = completed ? txt.completed : txt.watched
      .replace("{share}", Math.round(share * 100) + "%")
      .replace("{need}", Math.round(st.threshold * 100) + "%");
  }

  function closeSeg() {
    if (seg && seg[1] > seg[0]) pending.s = merge(pending.s.concat([seg]));
    seg = seg ? [seg[1], seg[1]] : null;
  }

  function flush(event, leaving) {
    if (inflight && !leaving) return;
    closeSeg();
    pending.p = video.currentTime;
    if (!pending.s.length && event === "tick") return;
    var sent = pending.s;
    inflight = merge((inflight || []).concat(sent));
    pending.s = [];
    save();
    var body = JSON.stringify({ segments: inflight, position: video.currentTime, event: event });
    fetch(cfg.progressUrl, {
      method: "POST", credentials: "same-origin", keepalive: !!leaving, body: body,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }
    }).then(function (r) {
      return r.json().then(function (b) { return [r.status, b]; }, function () { return [r.status, {}]; });
    }).then(function (res) {
      var code = res[0], b = res[1];
      if (code === 200) {
        inflight = null; retry = 0;
        server = b.segments; furthest = Math.max(furthest, b.furthest_position);
        completed = b.completed;
        show(b.reason === "skipped_ahead" ? txt.noSkip : "");
      } else if (code === 409 || code >= 500 || code === 400) {
        pending.s = merge(inflight.concat(pending.s)); inflight = null; later();
      } else {
        inflight = null;  // 401/403/404/422: this report can never be accepted
      }
      save(); render();
    }, function () {
      pending.s = merge((inflight || []).concat(pending.s)); inflight = null;
      save(); show(txt.offline); later();
    });
  }
  function later() {
    retry = Math.min(retry + 1, 6);
    clearTimeout(timer);
    timer = setTimeout(function () { flush("retry"); }, 2000 * retry);
  }

  video.addEventListener("loadedmetadata", function () {
    var to = live ? liveOffset() : st.resume_position;
    if (to > 0 && to < dur) video.currentTime = to;
    last = video.currentTime;
  });
  video.addEventListener("timeupdate", function () {
    var t = video.currentTime;
    if (!video.paused && !video.seeking && last !== null && t >= last && t - last <= 1.5) {
      if (!seg || seg[1] < last - 0.01) { closeSeg(); seg = [last, t]; } else seg[1] = t;
      if (!st.no_skip || live || seg[0] <= furthest + 2) furthest = Math.max(furthest, t);
    }
    last = t;
    if (live && liveOffset() >= dur) live = false;
  });
  video.addEventListener("seeking", function () {
    var t = video.currentTime;
    if (live) {
      var now = liveOffset();
      if (Math.abs(t - now) > 1.5) video.currentTime = Math.min(now, dur);
    } else if (st.no_skip && t > allowed() + 1) {
      video.currentTime = allowed();
      show(txt.noSkip);
    }
    closeSeg(); seg = null; last = video.currentTime;
  });
  video.addEventListener("ratechange", function () {
    if (video.playbackRate > 1) video.playbackRate = 1;  // hours count at normal speed only
  });
  video.addEventListener("play", function () {
    if (live && Math.abs(video.currentTime - liveOffset()) > 1.5) video.currentTime = liveOffset();
    last = video.currentTime;
  });
  video.addEventListener("pause", function () { flush("pause"); });
  video.addEventListener("ended", function () { flush("ended"); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush("leave", true);
  });
  window.addEventListener("pagehide", function () { flush("leave", true); });
  window.addEventListener("online", function () { show(""); flush("retry"); });
  setInterval(function () { if (!video.paused || pending.s.length) flush("tick"); },
    (st.report_interval || 15) * 1000);

  var cd = document.getElementById("countdown");
  if (cd) {
    var end = Date.now() + Number(cd.getAttribute("data-seconds")) * 1000;
    var tick = function () {
      var s = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
      cd.textContent = (h ? h + ":" : "") + (m < 10 && h ? "0" : "") + m + ":" + (r < 10 ? "0" : "") + r;
      if (s <= 0) location.reload(); else setTimeout(tick, 1000);
    };
    tick();
  }
  render();
  if (pending.s.length) flush("retry");  // reports kept from an earlier visit
})();
