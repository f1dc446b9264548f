// The staff console. Plain JavaScript, no build step. Every text that comes from a user, a
// ticket or the server is put into the page with textContent, never as HTML.
"use strict";

const POLL_MS = 3000;
const state = { t: {}, csrf: null, me: null, tab: "open", lists: {}, selected: null, revision: -1, timer: null };
const $ = (id) => document.getElementById(id);

function fmt(key, values) {
  const text = state.t[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (values && name in values ? String(values[name]) : ""));
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}

class ApiError extends Error {
  constructor(status, body) { super(body.error || String(status)); this.status = status; this.body = body; }
}

async function api(method, path, body) {
  const headers = {};
  if (method !== "GET") headers["X-CSRF-Token"] = state.csrf || "";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = {};
  try { data = await response.json(); } catch (_) { /* an empty or non-JSON answer */ }
  // A 401 while signed in means the session ended (expired, or the account was removed).
  if (response.status === 401 && state.csrf) { signedOut(true); throw new ApiError(401, data); }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function notice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

function problemText(err) {
  const body = (err && err.body) || {};
  switch (body.error) {
    case "conflict": return fmt("conflict", { agent: body.claimed_by });
    case "closed": return fmt("ticket_closed");
    case "window_closed": return fmt("window_closed");
    case "quota_used": return fmt("window_quota");
    case "no_channel": return fmt("no_channel");
    case "send_failed": return fmt("send_failed", { detail: body.detail || "" });
    default: return fmt("error");
  }
}

// Signing in and out -----------------------------------------------------------------------

function signedIn(data) {
  state.csrf = data.csrf;
  state.me = data.username;
  $("me").textContent = data.username;
  $("who").hidden = false;
  $("login").hidden = true;
  $("desk").hidden = false;
  notice("");
  refresh(true);
  clearInterval(state.timer);
  state.timer = setInterval(() => refresh(false), POLL_MS);
}

function signedOut(expired) {
  clearInterval(state.timer);
  state.csrf = null;
  state.revision = -1;
  $("who").hidden = true;
  $("desk").hidden = true;
  $("login").hidden = false;
  if (expired) notice(fmt("expired"));
}

async function login(event) {
  event.preventDefault();
  const form = event.target;
  $("login-error").hidden = true;
  try {
    const data = await api("POST", "/staff/api/login", {
      username: form.username.value, password: form.password.value,
    });
    form.password.value = "";
    signedIn(data);
  } catch (err) {
    $("login-error").textContent = err.status === 429 ? fmt("rate_limited") : fmt("bad_login");
    $("login-error").hidden = false;
  }
}

// Lists, refreshed when the revision moves ---------------------------------------------------

async function refresh(force) {
  try {
    const { revision } = await api("GET", "/staff/api/revision");
    notice("");
    if (!force && revision === state.revision) return;
    state.revision = revision;
    for (const status of ["open", "claimed", "closed"]) {
      const data = await api("GET", "/staff/api/handoffs?status=" + status);
      state.lists[status] = data.handoffs;
    }
    renderLists();
    if (state.selected) {
      const fresh = findTicket(state.selected.id);
      if (fresh) showTicket(fresh);
      else loadTicket(state.selected.id);
    }
  } catch (err) {
    if (err.status !== 401) notice(fmt("offline"));
  }
}

function findTicket(id) {
  for (const list of Object.values(state.lists)) {
    const found = (list || []).find((t) => t.id === id);
    if (found) return found;
  }
  return null;
}

async function loadTicket(id) {
  try { showTicket(await api("GET", "/staff/api/handoffs/" + encodeURIComponent(id))); } catch (_) { /* gone */ }
}

function renderLists() {
  $("count-open").textContent = (state.lists.open || []).length || "";
  $("count-claimed").textContent = (state.lists.claimed || []).length || "";
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.setAttribute("aria-selected", String(tab.dataset.status === state.tab));
  }
  const list = state.lists[state.tab] || [];
  const ul = $("tickets");
  ul.replaceChildren();
  for (const ticket of list) {
    const li = el("li");
    li.dataset.id = ticket.id;
    if (state.selected && state.selected.id === ticket.id) li.setAttribute("aria-current", "true");
    const line1 = el("div", "line1");
    line1.append(el("strong", null, fmt("ticket", { id: ticket.id })), el("span", "sub", when(ticket.opened_at)));
    const sub = el("div", "sub", [channelName(ticket.channel), reasonName(ticket.reason)].join(" · "));
    li.append(line1, sub);
    if (ticket.claimed_by) li.append(el("div", "sub", fmt("claimed_by", { agent: ticket.claimed_by })));
    li.addEventListener("click", () => { showTicket(ticket); $("desk").classList.add("reading"); });
    ul.append(li);
  }
  $("empty").textContent = fmt("empty_" + state.tab);
  $("empty").hidden = list.length > 0;
}

function channelName(channel) { return (state.t.channels || {})[channel] || channel; }
function reasonName(reason) { return (state.t.reasons || {})[reason] || reason; }

// One ticket ------------------------------------------------------------------------------

function showTicket(ticket) {
  const changed = !state.selected || state.selected.id !== ticket.id;
  state.selected = ticket;
  $("pick").hidden = true;
  $("ticket").hidden = false;
  if (changed) { $("t-error").hidden = true; $("reply-text").value = ""; }
  $("t-title").textContent = fmt("ticket", { id: ticket.id });
  $("t-status").textContent = fmt("status_" + ticket.status);
  $("t-status").className = "badge " + ticket.status;
  $("t-channel").textContent = channelName(ticket.channel);
  const meta = [fmt("opened_at", { at: when(ticket.opened_at) }), reasonName(ticket.reason), ticket.user];
  if (ticket.status === "claimed") meta.push(fmt("claimed_by", { agent: ticket.claimed_by }));
  if (ticket.status === "closed") {
    meta.push(ticket.closed_by === "user" ? fmt("closed_by_user") : fmt("closed_by", { agent: ticket.closed_by }));
  }
  $("t-meta").textContent = meta.join(" · ");
  const blocked = renderWindow(ticket);
  const mine = ticket.status === "claimed" && ticket.claimed_by === state.me;
  const free = ticket.status === "open";
  $("claim").hidden = !free;
  $("close").hidden = !(free || mine);
  $("compose").hidden = !(free || mine);
  $("send").disabled = blocked;
  $("reply-text").disabled = blocked;
  renderChat($("t-messages"), ticket.messages, fmt("no_messages"));
  renderChat($("t-transcript"), ticket.transcript, "");
  renderAssessment(ticket.assessment || []);
  for (const li of document.querySelectorAll("#tickets li")) {
    li.setAttribute("aria-current", String(li.dataset.id === ticket.id));
  }
}

// Whether a reply can go out now, said plainly (the WeChat window, a channel not reachable
// from this server); true when it cannot.
function renderWindow(ticket) {
  const box = $("t-window");
  const w = ticket.window;
  if (ticket.status === "closed" || (ticket.reachable && !w)) { box.hidden = true; return false; }
  box.hidden = false;
  let text, closed = true;
  if (!ticket.reachable) text = fmt("no_channel");
  else if (!w.last_user_at) text = fmt("window_none");
  else if (!w.open) text = fmt("window_closed");
  else if (w.remaining <= 0) text = fmt("window_quota");
  else { text = fmt("window_open", { remaining: w.remaining, closes: when(w.closes_at) }); closed = false; }
  box.textContent = text;
  box.className = closed ? "window closed" : "window";
  return closed;
}

function renderChat(list, messages, emptyText) {
  list.replaceChildren();
  if (!messages || messages.length === 0) {
    if (emptyText) list.append(el("li", "empty", emptyText));
    return;
  }
  for (const m of messages) {
    const kind = m.sender.startsWith("staff:") ? "staff" : m.sender;
    const who = kind === "staff" ? fmt("sender_staff", { agent: m.sender.slice(6) }) : fmt("sender_" + kind);
    const li = el("li", kind);
    li.append(el("span", "who", who + " · " + when(m.at)), el("div", "text", m.text));
    list.append(li);
  }
}

function renderAssessment(items) {
  const box = $("t-assessment");
  box.replaceChildren();
  if (items.length === 0) { box.append(el("p", "empty", fmt("no_assessment"))); return; }
  for (const a of items) {
    const card = el("div", "cert");
    card.append(el("h4", null, a.name));
    let points = fmt("points_none");
    if (a.points !== null && a.points !== undefined) points = fmt("points", { points: a.points });
    else if (a.full_points !== null && a.full_points !== undefined) points = fmt("points_full", { points: a.full_points });
    card.append(el("div", null, points));
    if (a.review) card.append(el("div", "review", fmt("review", { reasons: (a.review_reasons || []).join("；") })));
    const ul = el("ul");
    for (const c of a.conditions || []) ul.append(el("li", null, fmt("condition_" + c.status, { label: c.label })));
    card.append(ul);
    box.append(card);
  }
}

async function act(path, body) {
  const ticket = state.selected;
  if (!ticket) return null;
  $("t-error").hidden = true;
  try {
    const fresh = await api("POST", "/staff/api/handoffs/" + encodeURIComponent(ticket.id) + "/" + path, body);
    showTicket(fresh);
    if (fresh.handback_problem) showError(fmt("handback_failed", { detail: problemText({ body: { error: fresh.handback_problem } }) }));
    refresh(true);
    return fresh;
  } catch (err) {
    if (err.status !== 401) showError(problemText(err));
    loadTicket(ticket.id);
    return null;
  }
}

function showError(text) { $("t-error").textContent = text; $("t-error").hidden = false; }

async function send(event) {
  event.preventDefault();
  const text = $("reply-text").value.trim();
  if (!text) return;
  $("send").disabled = true;
  $("send").textContent = fmt("sending");
  const done = await act("reply", { text });
  $("send").textContent = fmt("send");
  $("send").disabled = false;
  if (done) $("reply-text").value = "";
}

// Start --------------------------------------------------------------------------------------

async function start() {
  state.t = await (await fetch("/staff/api/texts", { credentials: "same-origin" })).json();
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = fmt(node.dataset.t);
  $("reply-text").placeholder = fmt("reply_placeholder");
  $("login").addEventListener("submit", login);
  $("compose").addEventListener("submit", send);
  $("reply-text").addEventListener("keydown", (e) => { if (e.key === "Enter" && e.ctrlKey) send(e); });
  $("claim").addEventListener("click", () => act("claim"));
  $("close").addEventListener("click", () => { if (window.confirm(fmt("close_confirm"))) act("close"); });
  $("back").addEventListener("click", () => $("desk").classList.remove("reading"));
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/staff/api/logout"); } catch (_) { /* signed out anyway */ }
    signedOut(false);
  });
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.addEventListener("click", () => { state.tab = tab.dataset.status; renderLists(); });
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden && state.csrf) refresh(true); });
  try { signedIn(await api("GET", "/staff/api/session")); } catch (_) { signedOut(false); }
}

start();
