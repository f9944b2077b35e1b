/**
 * The inspector page: plain HTML, CSS and JS in one string, so it ships inside dist/
 * with no build step and no asset files. Its script uses no template literals, which
 * keeps this file a plain TypeScript string.
 */
export const INSPECTOR_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fe-webhooks inspector</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { --fg: #1d2330; --muted: #6b7385; --line: #e3e6ee; --sel: #eef3ff; --ok: #0a7a3f; --bad: #c0262d; --warn: #a15c00; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); display: flex; flex-direction: column; height: 100vh; }
  header { display: flex; gap: 16px; align-items: center; padding: 8px 12px; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
  header h1 { font-size: 15px; margin: 0; }
  header code { background: #f4f5f8; padding: 2px 6px; border-radius: 4px; }
  #status { margin-left: auto; color: var(--muted); }
  main { display: flex; flex: 1; min-height: 0; }
  #list { width: 42%; min-width: 320px; overflow: auto; border-right: 1px solid var(--line); }
  #list table { width: 100%; border-collapse: collapse; }
  #list td { padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; cursor: pointer; }
  #list tr.selected td { background: var(--sel); }
  #details { flex: 1; overflow: auto; padding: 12px 16px; }
  .valid { color: var(--ok); } .invalid { color: var(--bad); } .unsigned, .unchecked { color: var(--muted); }
  .s2 { color: var(--ok); } .s3 { color: var(--warn); } .s4, .s5 { color: var(--bad); }
  pre { background: #f7f8fa; border: 1px solid var(--line); padding: 8px; overflow: auto; white-space: pre-wrap; word-break: break-all; }
  table.kv td { padding: 2px 8px 2px 0; vertical-align: top; font-family: ui-monospace, monospace; font-size: 12px; }
  table.kv td:first-child { color: var(--muted); }
  button { font: inherit; padding: 3px 10px; }
  .muted { color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1>fe-webhooks inspector</h1>
  <span>Webhook URL <code id="webhook-url">…</code></span>
  <span>Target <code id="target">none</code></span>
  <label>Event <select id="filter"><option value="">all</option></select></label>
  <span id="status">connecting…</span>
</header>
<main>
  <section id="list"><table><tbody id="rows"></tbody></table><p id="empty" class="muted" style="padding:8px">Waiting for requests…</p></section>
  <section id="details"><p class="muted">Select a request.</p></section>
</main>
<script>
"use strict";
var MAX_ITEMS = 500;
var VERDICT = { valid: "\\u2713 valid", invalid: "\\u2717 invalid", unsigned: "\\u2013 unsigned", unchecked: "\\u2013 not checked" };
var state = { items: [], byId: {}, selected: null, filter: "", webhookUrl: "", target: null, events: {}, ws: null };
var $ = function (id) { return document.getElementById(id); };

function el(tag, props, children) {
  var node = document.createElement(tag);
  for (var k in props || {}) { if (k === "text") node.textContent = props[k]; else node.setAttribute(k, props[k]); }
  (children || []).forEach(function (c) { node.appendChild(c); });
  return node;
}
function time(iso) { return new Date(iso).toLocaleTimeString(); }
function statusOf(r) { return r.responseStatus == null ? "" : String(r.responseStatus); }
function forwardText(r) {
  if (!r.forward) return r.rejected ? "rejected: " + r.rejected : "answered " + statusOf(r) + " (no target)";
  if (r.forward.error) return r.forward.error + " (" + Math.round(r.forward.latencyMs) + " ms)";
  return r.forward.status + " in " + r.forward.latencyMs + " ms";
}
function attemptText(r) {
  if (r.attempt == null) return "";
  if (r.failed) return "attempt " + r.attempt + ": FAILED, no retries left (replay it)";
  return "attempt " + r.attempt + (r.nextAttemptAt ? ", next at " + time(r.nextAttemptAt) : "");
}
function shown(r) { return !state.filter || (r.event || "(none)") === state.filter; }

function rowFor(r) {
  var tr = el("tr", { "data-id": r.id }, [
    el("td", { text: time(r.receivedAt) }),
    el("td", { text: r.method }),
    el("td", { text: r.path }),
    el("td", { text: r.event || "\\u2013" }),
    el("td", { "class": r.signature, text: VERDICT[r.signature] || r.signature }),
    el("td", { "class": "s" + statusOf(r).charAt(0), text: statusOf(r) + (r.failed ? " failed" : "") })
  ]);
  tr.onclick = function () { select(r.id); };
  if (!shown(r)) tr.style.display = "none";
  return tr;
}

function add(r) {
  if (state.byId[r.id]) return;
  state.items.push(r);
  state.byId[r.id] = r;
  $("rows").insertBefore(rowFor(r), $("rows").firstChild);
  while (state.items.length > MAX_ITEMS) {
    var old = state.items.shift();
    delete state.byId[old.id];
    var tr = document.querySelector('tr[data-id="' + old.id + '"]');
    if (tr) tr.remove();
  }
  var name = r.event || "(none)";
  if (!state.events[name]) { state.events[name] = true; $("filter").appendChild(el("option", { value: name, text: name })); }
  $("empty").style.display = "none";
}

function applyFilter() {
  state.filter = $("filter").value;
  state.items.forEach(function (r) {
    var tr = document.querySelector('tr[data-id="' + r.id + '"]');
    if (tr) tr.style.display = shown(r) ? "" : "none";
  });
}

function bodyText(r) {
  if (r.bodyEncoding === "base64") return "(" + r.bodySize + " bytes, not UTF-8; base64)\\n" + r.body;
  return r.body;
}
function pretty(r) {
  if (r.bodyEncoding !== "utf8" || r.bodyTruncated) return null;
  try { return JSON.stringify(JSON.parse(r.body), null, 2); } catch (e) { return null; }
}
function section(title, node) { return [el("h3", { text: title }), node]; }
function kvTable(pairs) {
  return el("table", { "class": "kv" }, pairs.map(function (p) { return el("tr", {}, [el("td", { text: p[0] }), el("td", { text: p[1] })]); }));
}

function select(id) {
  state.selected = id;
  document.querySelectorAll("#rows tr").forEach(function (tr) { tr.classList.toggle("selected", tr.getAttribute("data-id") === id); });
  var r = state.byId[id];
  var d = $("details");
  d.textContent = "";
  if (!r) return;
  var headerPairs = [];
  Object.keys(r.headers).forEach(function (name) { [].concat(r.headers[name]).forEach(function (v) { headerPairs.push([name, v]); }); });
  var replay = el("button", { id: "replay", text: "Replay to target" });
  if (!state.target) { replay.disabled = true; replay.title = "start listen with --forward to replay"; }
  var replayResult = el("span", { id: "replay-result", "class": "muted" });
  replay.onclick = function () {
    replayResult.textContent = "replaying…";
    fetch("/api/requests/" + encodeURIComponent(r.id) + "/replay", { method: "POST" })
      .then(function (res) { return res.json(); })
      .then(function (out) { replayResult.textContent = out.error ? "failed: " + out.error : "\\u2192 " + out.status + " in " + out.latencyMs + " ms"; })
      .catch(function (e) { replayResult.textContent = "failed: " + e.message; });
  };
  var curl = el("textarea", { id: "curl", rows: "4", style: "width:100%;display:none", readonly: "readonly" });
  var copy = el("button", { id: "copy-curl", text: "Copy as curl" });
  // The server builds the command from the whole body (the page may hold only a preview).
  copy.onclick = function () {
    fetch("/api/requests/" + encodeURIComponent(r.id) + "/curl")
      .then(function (res) { if (!res.ok) throw new Error("HTTP " + res.status); return res.text(); })
      .then(function (text) {
        curl.value = text;
        curl.style.display = "";
        curl.select();
        if (navigator.clipboard) return navigator.clipboard.writeText(text).then(function () { copy.textContent = "Copied"; }, function () {});
      })
      .catch(function (e) { copy.textContent = "Copy failed: " + e.message; });
  };
  var p = pretty(r);
  var nodes = [
    el("h2", { text: r.method + " " + r.path }),
    el("p", {}, [replay, document.createTextNode(" "), copy, document.createTextNode(" "), replayResult]),
    curl,
    kvTable([
      ["id", r.id], ["received", r.receivedAt], ["event", r.event || "\\u2013"],
      ["signature", VERDICT[r.signature] || r.signature], ["forward", forwardText(r)],
      ["answered", statusOf(r)]].concat(r.attempt == null ? [] : [["retries", attemptText(r)]]).concat([["body", r.bodySize + " bytes, " + r.bodyEncoding + (r.bodyTruncated ? " (preview)" : "")]
    ]))
  ];
  nodes = nodes.concat(section("Headers", kvTable(headerPairs)));
  if (p !== null) nodes = nodes.concat(section("Body (pretty JSON)", el("pre", { id: "pretty", text: p })));
  nodes = nodes.concat(section("Body (raw)", el("pre", { id: "raw", text: bodyText(r) })));
  if (r.bodyTruncated) nodes.push(el("a", { href: "/api/requests/" + encodeURIComponent(r.id) + "/body", text: "download the whole body" }));
  nodes.forEach(function (n) { d.appendChild(n); });
}

function connect() {
  // The server first sends what came after the newest request shown (missed while away);
  // add() skips any it already has.
  var last = state.items[state.items.length - 1];
  var ws = new WebSocket("ws://" + location.host + "/ws" + (last ? "?after=" + encodeURIComponent(last.id) : ""));
  state.ws = ws;
  ws.onopen = function () { $("status").textContent = "live"; };
  ws.onmessage = function (m) { var msg = JSON.parse(m.data); if (msg.type === "request") add(msg.request); };
  ws.onclose = function () { $("status").textContent = "disconnected, retrying…"; setTimeout(connect, 1000); };
}

$("filter").onchange = applyFilter;
fetch("/api/requests").then(function (res) { return res.json(); }).then(function (data) {
  state.webhookUrl = data.webhookUrl;
  state.target = data.target;
  $("webhook-url").textContent = data.webhookUrl;
  $("target").textContent = data.target || "none";
  data.requests.forEach(add);
  connect();
});
</script>
</body>
</html>
`;
