// amslack local preview: renders what amslack posted to its in-process fake
// Slack the way Slack renders Block Kit, and sends clicks back to amslack
// through the preview API. Plain JavaScript, no dependencies, nothing loaded
// from the network.
"use strict";

(() => {
  // ---- state --------------------------------------------------------------

  const params = new URLSearchParams(location.search);
  let state = null;           // the last answer of /preview/api/state
  let userID = params.get("user") || "";
  const openThreads = new Set(); // "channel ts" of expanded threads
  // showHome is set while the user's App Home is shown instead of the
  // channels; homeAsked is the user whose Home was last opened.
  let showHome = params.get("tab") === "home";
  let homeAsked = "";
  let renders = 0;
  let loading = false;
  let reloadAgain = false;
  let renderDeferred = false;

  const $ = (sel) => document.querySelector(sel);

  // ---- text: mrkdwn and plain_text ----------------------------------------

  const htmlEscapes = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const escapeHTML = (s) => String(s).replace(/[&<>"']/g, (c) => htmlEscapes[c]);
  // Slack escapes only &, < and > in message text.
  const unescapeSlack = (s) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

  // A few emoji short codes, for text that uses them instead of characters.
  const emoji = {
    fire: "🔥", white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", warning: "⚠️",
    rotating_light: "🚨", red_circle: "🔴", large_orange_circle: "🟠", large_yellow_circle: "🟡",
    large_green_circle: "🟢", large_blue_circle: "🔵", eyes: "👀", mute: "🔇", no_bell: "🔕",
    bell: "🔔", book: "📖", mag: "🔍", information_source: "ℹ️", hourglass: "⌛", tada: "🎉",
  };
  const emojify = (s) => s.replace(/:([a-z0-9_+-]+):/g, (m, name) => emoji[name] || m);

  const userName = (id) => {
    const u = state && state.users.find((x) => x.id === id);
    return u ? u.name : id;
  };

  // permalink reads a Slack message permalink,
  // https://<domain>.slack.com/archives/<channel>/p<ts without its dot>.
  function permalink(url) {
    const m = /^https:\/\/[a-z0-9-]+\.slack\.com\/archives\/([A-Z0-9]+)\/p(\d+)(\d{6})$/.exec(url);
    return m ? { channel: m[1], ts: m[2] + "." + m[3] } : null;
  }

  // token renders the inside of one of Slack's <…> tokens.
  function token(inner) {
    const bar = inner.indexOf("|");
    const target = bar < 0 ? inner : inner.slice(0, bar);
    const label = bar < 0 ? "" : unescapeSlack(inner.slice(bar + 1));
    if (target.startsWith("@")) {
      return `<span class="mention" data-user="${escapeHTML(target.slice(1))}">@${escapeHTML(label || userName(target.slice(1)))}</span>`;
    }
    if (target.startsWith("#")) {
      return `<span class="mention">#${escapeHTML(label || target.slice(1))}</span>`;
    }
    if (target.startsWith("!")) {
      const cmd = target.slice(1);
      if (cmd === "here" || cmd === "channel" || cmd === "everyone") {
        return `<span class="mention mention-broadcast">@${cmd}</span>`;
      }
      if (cmd.startsWith("subteam^")) {
        const name = label ? label.replace(/^@/, "") : cmd.slice("subteam^".length);
        return `<span class="mention mention-group">@${escapeHTML(name)}</span>`;
      }
      return escapeHTML(label || cmd);
    }
    const url = unescapeSlack(target);
    const jump = permalink(url);
    if (jump) {
      // A link to a message of the fake Slack shows that message here.
      return `<a href="#" class="jump" data-jump-channel="${escapeHTML(jump.channel)}" data-jump-ts="${escapeHTML(jump.ts)}">${escapeHTML(label || url)}</a>`;
    }
    if (/^(https?:|mailto:)/i.test(url)) {
      return `<a href="${escapeHTML(url)}" target="_blank" rel="noopener noreferrer">${escapeHTML(label || url)}</a>`;
    }
    return escapeHTML(label || url);
  }

  // mrkdwn turns Slack mrkdwn into HTML. Every piece of the input is
  // escaped; only the markup added here is HTML.
  function mrkdwn(src) {
    const slots = [];
    const hold = (html) => "\u0000" + (slots.push(html) - 1) + "\u0001";
    let s = String(src == null ? "" : src).replace(/[\u0000\u0001]/g, "");
    s = s.replace(/```([\s\S]*?)```/g, (_, code) =>
      hold(`<pre class="pre">${escapeHTML(unescapeSlack(code.replace(/^\n/, "")))}</pre>`));
    s = s.replace(/`([^`\n]+)`/g, (_, code) => hold(`<code>${escapeHTML(unescapeSlack(code))}</code>`));
    s = s.replace(/<([^<>\n]+)>/g, (_, inner) => hold(token(inner)));
    s = escapeHTML(unescapeSlack(emojify(s)));
    // Bold, italic and strike need a word boundary outside and no space
    // inside, as in Slack: snake_case_names and 2*3*4 stay as they are.
    const style = (mark, tag) => {
      const m = mark.replace(/[*]/, "\\*");
      const re = new RegExp(`(^|[\\s(\\[{.,;:!?/-])${m}(?=\\S)([^${m}\\n]*?\\S)${m}(?=$|[\\s)\\]}.,;:!?/&-])`, "g");
      s = s.replace(re, `$1<${tag}>$2</${tag}>`);
    };
    style("*", "b");
    style("_", "i");
    style("~", "s");
    // Lines starting with > are quotes.
    const out = [];
    let quote = null;
    for (const line of s.split("\n")) {
      const q = /^&gt; ?(.*)$/.exec(line);
      if (q) {
        (quote = quote || []).push(q[1]);
        continue;
      }
      if (quote) {
        out.push(`<blockquote>${quote.join("<br>")}</blockquote>`);
        quote = null;
      }
      out.push(line);
    }
    if (quote) out.push(`<blockquote>${quote.join("<br>")}</blockquote>`);
    s = out.join("\n").replace(/\n/g, "<br>").replace(/<\/blockquote><br>/g, "</blockquote>").replace(/<br><blockquote>/g, "<blockquote>");
    return s.replace(/\u0000(\d+)\u0001/g, (_, i) => slots[Number(i)]);
  }

  // text renders a Block Kit text object.
  function text(obj) {
    if (!obj) return "";
    if (typeof obj === "string") return escapeHTML(obj);
    if (obj.type === "mrkdwn") return mrkdwn(obj.text);
    return escapeHTML(obj.emoji === false ? obj.text || "" : emojify(obj.text || ""));
  }

  // plain returns a text object's text without markup, for titles and
  // option labels.
  const plain = (obj) => (obj ? (typeof obj === "string" ? obj : obj.text || "") : "");

  // ---- DOM helpers --------------------------------------------------------

  // h builds an element: h("div", {class: "x", "data-ts": ts}, child, …).
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "html") el.innerHTML = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  const timeOf = (ts) => {
    const d = new Date(parseFloat(ts) * 1000);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  };

  function showStatus(msg, ok) {
    const el = $("#status");
    el.textContent = msg;
    el.className = "status " + (ok ? "status-ok" : "status-error");
    el.dataset.ok = ok ? "true" : "false";
    clearTimeout(showStatus.timer);
    showStatus.timer = setTimeout(() => { el.className = "status"; }, 6000);
  }

  // ---- API ----------------------------------------------------------------

  async function post(path, body) {
    const res = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await res.json(); } catch (_) { /* an empty answer */ }
    return { status: res.status, data };
  }

  async function load() {
    if (loading) { reloadAgain = true; return; }
    loading = true;
    try {
      const asked = userID;
      const res = await fetch("/preview/api/state?user=" + encodeURIComponent(asked), { cache: "no-store" });
      if (!res.ok) throw new Error("state: HTTP " + res.status);
      const got = await res.json();
      // Switched to another user while this was on its way: the state is
      // that of the previous user, whose id must not replace the choice.
      if (userID !== asked) { reloadAgain = true; return; }
      state = got;
      userID = state.user.id;
      // Opened with ?tab=home: Home opens once the user is known.
      if (showHome && homeAsked !== userID) openHome();
      render();
    } catch (err) {
      showStatus("Cannot read the preview state: " + err.message, false);
    } finally {
      loading = false;
      if (reloadAgain) { reloadAgain = false; load(); }
    }
  }

  function connect() {
    const events = new EventSource("/preview/api/events");
    // Every change in the fake Slack is a tick; the state is read anew.
    events.addEventListener("tick", () => load());
    // EventSource reconnects by itself; the "hello" tick then catches up.
  }

  // ---- clicks -------------------------------------------------------------

  // confirm shows a Block Kit confirm dialog and resolves to true when the
  // user confirms.
  function confirmDialog(c) {
    const dlg = $("#confirm");
    dlg.querySelector("[data-role=confirm-title]").textContent = plain(c.title) || "Are you sure?";
    dlg.querySelector("[data-role=confirm-text]").innerHTML = text(c.text);
    const yes = dlg.querySelector("[data-role=confirm-yes]");
    yes.textContent = plain(c.confirm) || "Yes";
    yes.className = "btn " + (c.style === "danger" ? "btn-danger" : "btn-primary");
    const no = dlg.querySelector("[data-role=confirm-no]");
    no.textContent = plain(c.deny) || "Cancel";
    // The answer comes from this dialog's own buttons, not from its close
    // event, which fires later and could reach the next dialog's listener.
    return new Promise((resolve) => {
      const answer = (ok) => (ev) => {
        ev.preventDefault();
        yes.onclick = no.onclick = dlg.oncancel = null;
        dlg.close();
        resolve(ok);
      };
      yes.onclick = answer(true);
      no.onclick = answer(false);
      dlg.oncancel = answer(false); // Escape
      dlg.showModal();
    });
  }

  // act sends a click on an element to amslack: on a message (ctx:
  // channel, ts, blockID, ephemeral), or inside a modal or App Home (ctx:
  // viewID, blockID, and form, the modal's inputs, which Slack sends with
  // every action in a modal). value is a select's choice, or the text of an
  // input that sends its actions.
  async function act(ctx, elem, value, control) {
    if (elem.confirm && !(await confirmDialog(elem.confirm))) return false;
    let path = "/preview/api/click";
    let body = {
      channel: ctx.channel, ts: ctx.ts, block_id: ctx.blockID, action_id: elem.action_id,
      user: userID, ephemeral: !!ctx.ephemeral,
    };
    if (value !== undefined) body.selected_option = { value };
    if (ctx.viewID) {
      path = "/preview/api/view-action";
      body = { view_id: ctx.viewID, user: userID, block_id: ctx.blockID, action_id: elem.action_id, ...formValues(ctx.form) };
      if (value !== undefined) body.value = value;
    }
    if (control) control.classList.add("busy");
    try {
      const { status, data } = await post(path, body);
      const what = elem.action_id + (value !== undefined ? " = " + value : "");
      if (status >= 200 && status < 300) {
        showStatus(`Sent ${what} as ${userName(userID)}; amslack answered ${status}.`, true);
      } else {
        showStatus(`Click ${what} failed: ${data.error || data.body || "HTTP " + status}`, false);
      }
    } catch (err) {
      showStatus("Click failed: " + err.message, false);
    } finally {
      if (control) control.classList.remove("busy");
    }
    return true;
  }

  // ---- Block Kit elements -------------------------------------------------

  function button(elem, ctx) {
    const cls = "btn" + (elem.style === "primary" ? " btn-primary" : elem.style === "danger" ? " btn-danger" : "");
    const b = h("button", {
      type: "button", class: cls, "data-action-id": elem.action_id, "data-block-id": ctx.blockID,
      html: text(elem.text),
    });
    b.addEventListener("click", () => {
      if (elem.url) window.open(elem.url, "_blank", "noopener");
      act(ctx, elem, undefined, b);
    });
    return b;
  }

  function options(elem) {
    const list = [];
    for (const o of elem.options || []) list.push(h("option", { value: o.value }, plain(o.text)));
    for (const g of elem.option_groups || []) {
      list.push(h("optgroup", { label: plain(g.label) }, (g.options || []).map((o) => h("option", { value: o.value }, plain(o.text)))));
    }
    return list;
  }

  function select(elem, ctx) {
    const placeholder = elem.type === "overflow" ? "⋯" : plain(elem.placeholder) || "Select an item";
    const s = h("select", {
      class: elem.type === "overflow" ? "select overflow" : "select",
      "data-action-id": elem.action_id, "data-block-id": ctx.blockID, "aria-label": placeholder,
    }, h("option", { value: "", disabled: true, selected: true, hidden: true }, placeholder), options(elem));
    s.addEventListener("change", async () => {
      const value = s.value;
      const sent = await act(ctx, elem, value, s);
      if (!sent) s.value = "";
      // Let go of the select so that the message can update.
      s.blur();
      if (renderDeferred) render();
    });
    return s;
  }

  function element(elem, ctx) {
    switch (elem.type) {
      case "button": return button(elem, ctx);
      case "static_select":
      case "overflow":
      case "radio_buttons": return select(elem, ctx);
      case "image": return h("img", { class: "el-image", src: elem.image_url, alt: elem.alt_text || "" });
      case "mrkdwn":
      case "plain_text": return h("span", { class: "mrkdwn", html: text(elem) });
      default: return h("span", { class: "unsupported" }, `[${elem.type}]`);
    }
  }

  // ---- Block Kit blocks ---------------------------------------------------

  function block(b, ctx) {
    const c = { ...ctx, blockID: b.block_id || "" };
    const attrs = { class: "block b-" + b.type, "data-block-id": c.blockID, "data-block-type": b.type };
    switch (b.type) {
      case "header":
        return h("div", { ...attrs, html: text(b.text) });
      case "section": {
        const body = h("div", { class: "section-body" });
        if (b.text) body.append(h("div", { class: "mrkdwn", html: text(b.text) }));
        if (b.fields && b.fields.length) {
          body.append(h("div", { class: "fields" }, b.fields.map((f) => h("div", { class: "field mrkdwn", html: text(f) }))));
        }
        const el = h("div", attrs, body);
        if (b.accessory) el.append(h("div", { class: "accessory" }, element(b.accessory, c)));
        return el;
      }
      case "context":
        return h("div", attrs, (b.elements || []).map((e) => element(e, c)));
      case "divider":
        return h("hr", attrs);
      case "image":
        return h("figure", attrs,
          b.title ? h("figcaption", { html: text(b.title) }) : null,
          h("img", { src: b.image_url, alt: b.alt_text || "" }));
      case "actions":
        return h("div", attrs, (b.elements || []).map((e) => element(e, c)));
      case "markdown":
        return h("div", { ...attrs, html: mrkdwn(b.text) });
      case "input":
        return input(b, attrs, c);
      default:
        return h("div", { ...attrs, class: "block b-unsupported" }, `[${b.type} block]`);
    }
  }

  function blocks(list, ctx) {
    return h("div", { class: "blocks" }, (list || []).map((b) => block(b, ctx)));
  }

  // ---- messages -----------------------------------------------------------

  function meta(ts, extra) {
    return h("div", { class: "meta" },
      h("span", { class: "sender" }, "amslack"),
      h("span", { class: "app-badge" }, "APP"),
      h("time", { class: "time" }, timeOf(ts)),
      extra);
  }

  function body(m, ctx) {
    const parts = [];
    if (m.deleted) {
      parts.push(h("div", { class: "deleted" }, "This message was deleted."));
    } else if (m.blocks && m.blocks.length) {
      parts.push(blocks(m.blocks, ctx));
    } else {
      parts.push(h("div", { class: "mrkdwn fallback", html: mrkdwn(m.text) }));
    }
    if (m.edited) parts.push(h("span", { class: "edited", "data-role": "edited" }, "(edited)"));
    return parts;
  }

  function message(m, channel, ephemerals, isReply) {
    const ctx = { channel, ts: m.ts };
    const el = h("div", {
      class: "message" + (isReply ? " reply" : ""), "data-channel": channel, "data-ts": m.ts,
      "data-thread-ts": m.thread_ts || null,
    },
    h("div", { class: "avatar", "aria-hidden": "true" }, "am"),
    h("div", { class: "content" },
      meta(m.ts, m.broadcast ? h("span", { class: "broadcast" }, "also sent to the channel") : null),
      body(m, ctx)));
    if (isReply) return el;

    const threadEph = ephemerals.filter((e) => e.thread_ts === m.ts);
    const n = m.replies.length;
    if (n === 0 && threadEph.length === 0) return el;
    const key = channel + " " + m.ts;
    const open = openThreads.has(key);
    const replies = h("div", { class: "replies", "data-role": "replies", hidden: !open },
      timeline(m.replies, threadEph, channel, true));
    const label = n === 0 ? "View thread" : n === 1 ? "1 reply" : `${n} replies`;
    const toggle = h("button", {
      type: "button", class: "thread-toggle", "data-role": "thread-toggle",
      "aria-expanded": open ? "true" : "false",
    }, open ? "Hide thread" : label);
    toggle.addEventListener("click", () => {
      const nowOpen = replies.hidden;
      replies.hidden = !nowOpen;
      toggle.setAttribute("aria-expanded", nowOpen ? "true" : "false");
      toggle.textContent = nowOpen ? "Hide thread" : label;
      if (nowOpen) openThreads.add(key); else openThreads.delete(key);
    });
    el.querySelector(".content").append(toggle, replies);
    return el;
  }

  function ephemeralMessage(e, channel) {
    const ctx = { channel, ts: e.ts, ephemeral: true };
    return h("div", { class: "message ephemeral", "data-ephemeral": true, "data-channel": channel, "data-ts": e.ts },
      h("div", { class: "avatar", "aria-hidden": "true" }, "am"),
      h("div", { class: "content" },
        h("div", { class: "only-you" }, h("span", { class: "eye", "aria-hidden": "true" }, "👁"), "Only visible to you"),
        meta(e.ts),
        body(e, ctx)));
  }

  // timeline interleaves messages and ephemerals by ts, as Slack shows them.
  function timeline(messages, ephemerals, channel, isReply) {
    const items = [
      ...messages.map((m) => ({ ts: m.ts, node: () => message(m, channel, isReply ? [] : ephemerals, isReply) })),
      ...ephemerals.filter((e) => isReply || !e.thread_ts || !messages.some((m) => m.ts === e.thread_ts))
        .map((e) => ({ ts: e.ts, node: () => ephemeralMessage(e, channel) })),
    ];
    items.sort((a, b) => parseFloat(a.ts) - parseFloat(b.ts) || (a.ts < b.ts ? -1 : 1));
    return items.map((i) => i.node());
  }

  // ---- modals -------------------------------------------------------------

  function input(b, attrs, ctx) {
    const e = b.element || {};
    const id = `in-${b.block_id}-${e.action_id}`;
    const common = {
      id, class: "input", "data-block-id": b.block_id, "data-action-id": e.action_id,
      required: !b.optional, placeholder: plain(e.placeholder) || null,
    };
    let control;
    if (e.type === "checkboxes") {
      control = h("div", { id, class: "checkboxes", "data-block-id": b.block_id, "data-action-id": e.action_id, "data-type": "checkboxes" },
        (e.options || []).map((o) => h("label", { class: "checkbox" },
          h("input", { type: "checkbox", value: o.value, checked: (e.initial_options || []).some((i) => i.value === o.value) }),
          h("span", { html: text(o.text) }))));
    } else if (e.type === "static_select" || e.type === "radio_buttons") {
      control = h("select", { ...common, class: "input select" },
        h("option", { value: "" }, plain(e.placeholder) || "Select an item"), options(e));
      if (e.initial_option) control.value = e.initial_option.value;
    } else if (e.multiline) {
      control = h("textarea", { ...common, rows: 3, maxlength: e.max_length || null });
      control.value = e.initial_value || "";
    } else {
      control = h("input", { ...common, type: e.type === "number_input" ? "number" : "text", maxlength: e.max_length || null });
      control.value = e.initial_value || "";
      // An input block with dispatch_action sends block_actions when Enter
      // is pressed in it, the default trigger
      // (https://docs.slack.dev/reference/block-kit/composition-objects/dispatch-action-configuration-object).
      const triggers = (e.dispatch_action_config || {}).trigger_actions_on || ["on_enter_pressed"];
      if (b.dispatch_action && ctx.viewID && triggers.includes("on_enter_pressed")) {
        control.addEventListener("keydown", (ev) => {
          if (ev.key !== "Enter") return;
          ev.preventDefault();
          act({ ...ctx, blockID: b.block_id }, e, control.value, control);
        });
      }
    }
    return h("div", attrs,
      h("label", { for: id, class: "input-label" }, plain(b.label), b.optional ? h("span", { class: "optional" }, " (optional)") : null),
      control,
      b.hint ? h("div", { class: "hint", html: text(b.hint) }) : null,
      h("div", { class: "field-error", "data-role": "field-error", hidden: true }));
  }

  // formValues reads a modal's inputs as the preview API takes them: the
  // values by block and action id, and the ticked options of checkboxes.
  function formValues(form) {
    const values = {};
    const checked = {};
    if (!form) return { values, checked };
    for (const c of form.querySelectorAll("[data-block-id][data-action-id]")) {
      if (!c.closest(".b-input")) continue;
      const { blockId, actionId } = c.dataset;
      if (c.dataset.type === "checkboxes") {
        (checked[blockId] = checked[blockId] || {})[actionId] = [...c.querySelectorAll("input:checked")].map((i) => i.value);
      } else {
        (values[blockId] = values[blockId] || {})[actionId] = c.value;
      }
    }
    return { values, checked };
  }

  // keepValues copies what was typed and ticked in the inputs of one form
  // to those of another with the same block and action ids, as Slack keeps
  // them across views.update.
  function keepValues(from, to) {
    const { values, checked } = formValues(from);
    for (const c of to.querySelectorAll("[data-block-id][data-action-id]")) {
      if (!c.closest(".b-input")) continue;
      const { blockId, actionId } = c.dataset;
      if (c.dataset.type === "checkboxes") {
        const ticked = (checked[blockId] || {})[actionId];
        if (ticked) for (const i of c.querySelectorAll("input")) i.checked = ticked.includes(i.value);
      } else if (values[blockId] && actionId in values[blockId]) {
        c.value = values[blockId][actionId];
      }
    }
  }

  function modal(v) {
    const view = v.view || {};
    const form = h("form", { class: "modal-body", novalidate: true });
    form.append(...(view.blocks || []).map((b) => block(b, { viewID: v.id, form })));
    const close = () => closeModal(v.id);
    const el = h("div", { class: "modal-backdrop", "data-view-id": v.id, "data-hash": v.hash || "" },
      h("div", { class: "modal", role: "dialog", "aria-modal": "true", "data-view-id": v.id, "data-hash": v.hash || "", "data-callback-id": view.callback_id || null },
        h("div", { class: "modal-header" },
          h("h2", {}, plain(view.title)),
          h("button", { type: "button", class: "modal-x", "aria-label": "Close", onclick: close }, "×")),
        form,
        h("div", { class: "modal-footer" },
          h("button", { type: "button", class: "btn", "data-role": "view-close", onclick: close }, plain(view.close) || "Cancel"),
          view.submit ? h("button", { type: "button", class: "btn btn-primary", "data-role": "view-submit", onclick: () => submitModal(v.id, form) }, plain(view.submit)) : null)));
    form.addEventListener("submit", (ev) => { ev.preventDefault(); submitModal(v.id, form); });
    return el;
  }

  async function submitModal(id, form) {
    for (const err of form.querySelectorAll("[data-role=field-error]")) { err.hidden = true; err.textContent = ""; }
    if (!form.reportValidity()) return;
    try {
      const { status, data } = await post("/preview/api/view-submit", { view_id: id, user: userID, ...formValues(form) });
      if (data.errors) {
        for (const [blockID, msg] of Object.entries(data.errors)) {
          const err = form.querySelector(`.block[data-block-id="${CSS.escape(blockID)}"] [data-role=field-error]`);
          if (err) { err.textContent = msg; err.hidden = false; }
        }
        showStatus("amslack kept the dialog open: fix the marked fields.", false);
        return;
      }
      if (status >= 200 && status < 300) {
        showStatus(`Submitted the dialog as ${userName(userID)}; amslack answered ${status}.`, true);
      } else {
        showStatus(`Submitting the dialog failed: ${data.error || data.body || "HTTP " + status}`, false);
      }
    } catch (err) {
      showStatus("Submitting the dialog failed: " + err.message, false);
    }
    load();
  }

  async function closeModal(id) {
    try { await post("/preview/api/view-close", { view_id: id, user: userID }); } catch (_) { /* shown by the reload */ }
    load();
  }

  // renderModals adds the modals that opened, removes those that closed
  // and renders again those that amslack updated (views.update), leaving
  // the others alone so that typed text survives a refresh. An updated
  // modal keeps what was typed in its inputs, and the focus.
  function renderModals() {
    const host = $("#modals");
    const want = new Map(state.views.map((v) => [v.id, v]));
    for (const el of [...host.children]) {
      const v = want.get(el.dataset.viewId);
      want.delete(el.dataset.viewId);
      if (!v) { el.remove(); continue; }
      if ((v.hash || "") === el.dataset.hash) continue;
      const fresh = modal(v);
      const active = document.activeElement;
      const focused = active && el.contains(active) && active.dataset.blockId
        ? `[data-block-id="${CSS.escape(active.dataset.blockId)}"][data-action-id="${CSS.escape(active.dataset.actionId || "")}"]` : "";
      keepValues(el.querySelector("form"), fresh.querySelector("form"));
      el.replaceWith(fresh);
      if (focused) fresh.querySelector(focused)?.focus();
    }
    for (const v of want.values()) host.append(modal(v));
  }

  // ---- page ---------------------------------------------------------------

  function renderUsers() {
    const sel = $("#user");
    sel.replaceChildren(...state.users.map((u) => h("option", { value: u.id, selected: u.id === userID }, `${u.name} (${u.id})`)));
  }

  function renderExamples() {
    const list = $("#examples");
    if (list.dataset.names === state.examples.join("\n")) return;
    list.dataset.names = state.examples.join("\n");
    list.replaceChildren(...state.examples.map((name) => {
      const send = h("button", { type: "button", class: "btn btn-small", "data-role": "send-example" }, "Send");
      send.addEventListener("click", async () => {
        send.classList.add("busy");
        try {
          const { status, data } = await post("/preview/api/send-example", { name });
          // The note says whether the example went to Alertmanager or,
          // when none answers, directly to amslack.
          if (status >= 200 && status < 300) showStatus(data.note ? `Sent ${name}: ${data.note}.` : `Sent ${name}; amslack answered ${status}.`, true);
          else showStatus(`Sending ${name} failed: ${data.error || data.body || "HTTP " + status}`, false);
        } catch (err) {
          showStatus(`Sending ${name} failed: ${err.message}`, false);
        } finally {
          send.classList.remove("busy");
        }
      });
      return h("li", { "data-example": name }, h("span", { class: "example-name", title: name }, name), send);
    }));
  }

  function renderChannels() {
    const main = $("#channels");
    $("#channel-list").replaceChildren(...state.channels.map((c) =>
      h("li", {}, h("a", { href: "#channel-" + c.id, onclick: () => openChannels() }, h("span", { class: "hash" }, "#"), c.id))));
    $("#home-open").classList.toggle("active", showHome);
    if (showHome) {
      main.replaceChildren(home());
      return;
    }
    if (state.channels.length === 0) {
      main.replaceChildren(h("p", { class: "empty" }, "No messages yet. Send an example alert, or point Alertmanager at amslack."));
      return;
    }
    main.replaceChildren(...state.channels.map((c) =>
      h("section", { class: "channel", id: "channel-" + c.id, "data-channel": c.id },
        h("h2", { class: "channel-name" }, h("span", { class: "hash" }, "#"), c.id),
        h("div", { class: "timeline" }, timeline(c.messages, c.ephemerals, c.id, false)))));
  }

  // ---- App Home -----------------------------------------------------------

  // home renders the user's App Home as amslack published it.
  function home() {
    const v = state.home;
    const head = h("div", { class: "home-head" },
      h("div", { class: "avatar", "aria-hidden": "true" }, "am"),
      h("h2", { class: "channel-name" }, "amslack"),
      h("span", { class: "home-tab" }, "Home"));
    if (!state.home_enabled) {
      return h("section", { class: "home", "data-role": "home-empty" }, head,
        h("p", { class: "empty" }, "App Home needs amslack's Events API handler, which this preview was not given."));
    }
    // Just switched users: the state read so far is the previous user's.
    if (!v || state.user.id !== userID) {
      return h("section", { class: "home", "data-role": "home-empty" }, head,
        h("p", { class: "empty" }, "Waiting for amslack to publish your Home (app_home_opened → views.publish)…"));
    }
    return h("section", { class: "home", "data-role": "home", "data-view-id": v.id }, head,
      blocks((v.view || {}).blocks, { viewID: v.id }));
  }

  // openHome shows the user's App Home and tells amslack that the user
  // opened it, as Slack does each time (app_home_opened).
  async function openHome() {
    showHome = true;
    setTab("home");
    if (state) render();
    homeAsked = userID;
    try {
      const { status, data } = await post("/preview/api/home-open", { user: userID });
      if (status < 200 || status >= 300) showStatus(`Opening App Home failed: ${data.error || data.body || "HTTP " + status}`, false);
    } catch (err) {
      showStatus("Opening App Home failed: " + err.message, false);
    }
  }

  function openChannels() {
    if (!showHome) return;
    showHome = false;
    setTab("");
    render();
  }

  function setTab(tab) {
    const url = new URL(location.href);
    if (tab) url.searchParams.set("tab", tab); else url.searchParams.delete("tab");
    history.replaceState(null, "", url);
  }

  // jump shows the message a permalink names.
  function jump(channel, ts) {
    openChannels();
    const m = document.querySelector(`.message[data-channel="${CSS.escape(channel)}"][data-ts="${CSS.escape(ts)}"]`);
    if (!m) { showStatus(`No message ${ts} in ${channel}.`, false); return; }
    m.scrollIntoView({ block: "center" });
    m.classList.add("highlight");
    setTimeout(() => m.classList.remove("highlight"), 2000);
  }

  function render() {
    // Replacing an open select would close it under the user's pointer;
    // render once it loses focus.
    const active = document.activeElement;
    if (active && active.tagName === "SELECT" && $("#channels").contains(active)) {
      if (!renderDeferred) {
        renderDeferred = true;
        active.addEventListener("blur", () => { if (renderDeferred) render(); }, { once: true });
      }
      return;
    }
    renderDeferred = false;
    renderUsers();
    renderExamples();
    renderChannels();
    renderModals();
    document.body.dataset.rendered = String(++renders);
  }

  function start() {
    $("#user").addEventListener("change", (ev) => {
      userID = ev.target.value;
      const url = new URL(location.href);
      url.searchParams.set("user", userID);
      history.replaceState(null, "", url);
      // Another user looking at Home opens their own.
      if (showHome) openHome();
      load();
    });
    $("#home-open").addEventListener("click", () => openHome());
    document.addEventListener("click", (ev) => {
      const a = ev.target.closest && ev.target.closest("a[data-jump-ts]");
      if (!a) return;
      ev.preventDefault();
      jump(a.dataset.jumpChannel, a.dataset.jumpTs);
    });
    connect();
    load();
  }

  // Exposed for tests of the text rendering.
  window.amslackPreview = { mrkdwn, text };
  start();
})();
