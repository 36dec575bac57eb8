// podsearch's search page: plain DOM, no framework, no build step.
// Every piece of text goes in through textContent; the only markup taken from the server is
// <mark> inside a snippet, and that is rebuilt element by element, never inserted as HTML.
"use strict";

const PAGE_SIZE = 10;
const form = $("search"), input = $("q"), modeSelect = $("mode"), groupBox = $("group");
const list = $("results"), more = $("more"), count = $("count");
const errorBox = $("error"), banner = $("degraded");
let page = null; // the search on screen: {next, shown, groups}
let latest = 0; // answers to superseded searches are dropped

// ## The page URL is the state: ?q=&mode=&podcast=&group_by= (the API's own parameter names)

function formParams() {
  const params = new URLSearchParams({ q: input.value, mode: modeSelect.value });
  for (const box of document.querySelectorAll("#podcasts input:checked")) params.append("podcast", box.value);
  if (groupBox.checked) params.set("group_by", "episode");
  addFacetFilters(params);
  return params;
}

function checkPodcasts(params) {
  const chosen = new Set(params.getAll("podcast"));
  for (const box of document.querySelectorAll("#podcasts input")) box.checked = chosen.has(box.value);
}

function showUrl() {
  const params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  modeSelect.value = params.get("mode") || "hybrid";
  groupBox.checked = params.get("group_by") === "episode";
  checkPodcasts(params);
  facetFiltersFrom(params);
  if (params.has("q")) search(params);
  else clear();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const params = formParams();
  if (`?${params}` !== location.search) history.pushState(null, "", `?${params}`);
  search(params);
});
// Changing the mode, a podcast or grouping re-runs a search that is already there.
form.addEventListener("change", (event) => {
  if (event.target !== input && input.value.trim()) form.requestSubmit();
});
more.addEventListener("click", () => page && page.next && search(page.next, true));
window.addEventListener("popstate", showUrl);

// ## Talking to the API

async function search(params, append = false) {
  const mine = ++latest;
  const request = new URLSearchParams(params);
  if (!request.has("limit")) request.set("limit", PAGE_SIZE);
  if (!append) request.set("facets", FACETS);
  list.setAttribute("aria-busy", "true");
  more.disabled = true;
  let body = null;
  try {
    const response = await fetch(`/search?${request}`, { headers: { Accept: "application/json" } });
    body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(errorMessage(response, body));
  } catch (error) {
    const message = error instanceof TypeError ? "Could not reach podsearch." : error.message;
    if (mine === latest) fail(message, append);
    return;
  } finally {
    if (mine === latest) {
      list.removeAttribute("aria-busy");
      more.disabled = false;
    }
  }
  if (mine === latest) render(request, body, append);
}

function errorMessage(response, body) {
  let message = body?.error?.message || `The search failed (HTTP ${response.status}).`;
  const retry = response.headers.get("Retry-After");
  if (response.status === 429 && retry) message += ` Try again in ${retry} s.`;
  return message;
}

function nextPage(request, body) {
  const next = new URLSearchParams(request);
  next.delete("cursor");
  next.delete("offset");
  if (!body.results.length) return null; // an empty page is the end, whatever else it says
  if (body.next_cursor) next.set("cursor", body.next_cursor);
  else if ("next_cursor" in body || body.results.length < body.limit) return null;
  else next.set("offset", body.offset + body.limit);
  return next;
}

// ## Drawing the answer

function clear() {
  list.replaceChildren();
  $("facets").replaceChildren();
  $("facets").hidden = true;
  count.textContent = "";
  errorBox.hidden = banner.hidden = more.hidden = true;
  page = null;
}

function fail(message, append) {
  if (!append) clear();
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function render(request, body, append) {
  if (!append || !page) {
    clear();
    page = { shown: 0, groups: new Map() };
  }
  errorBox.hidden = true;
  const grouped = request.get("group_by") === "episode";
  for (const moment of body.results) {
    const item = momentItem(moment, grouped);
    (grouped ? episodeGroup(moment) : list).append(item);
  }
  if (!append) renderFacets(body);
  page.shown += body.results.length;
  page.next = nextPage(request, body);
  more.hidden = !page.next;
  banner.hidden = !body.degraded;
  banner.textContent = body.degraded
    ? `Degraded: keyword results only${body.degraded_reason ? ` (${body.degraded_reason})` : ""}.`
    : "";
  const n = page.shown, episodes = page.groups.size;
  const where = grouped ? ` in ${episodes} episode${episodes === 1 ? "" : "s"}` : "";
  count.textContent = n
    ? `${n} moment${n === 1 ? "" : "s"}${where} for “${body.query}” (${body.mode}, ${Math.round(body.took_ms)} ms)`
    : `No moments for “${body.query}”.`;
}

function episodeHead(m) {
  const head = el("div", "episode-head");
  const meta = el("p", "meta");
  meta.append(el("span", "podcast", m.podcast));
  if (m.published) {
    const time = el("time", null, formatDate(m.published));
    time.dateTime = m.published;
    meta.append(" · ", time);
  }
  head.append(el("h2", "title", m.episode_title), meta);
  return head;
}

function episodeGroup(m) {
  let group = page.groups.get(m.episode_id);
  if (!group) {
    const item = el("li", "episode");
    group = el("ol", "moments");
    item.append(episodeHead(m), group);
    list.append(item);
    page.groups.set(m.episode_id, group);
  }
  return group;
}

function momentItem(m, grouped) {
  const item = el("li", "moment");
  if (!grouped) item.append(episodeHead(m));
  const line = el("p", "when");
  const span = `${clock(m.start)}–${clock(m.end)}`;
  const play = link(m.url, `▶ ${span}`, "play", `Play ${m.episode_title} from ${clock(m.start)}`);
  line.append(play || el("span", "play", span));
  const clip = link(m.clip_url, "clip", "clip", `Play only ${span} of ${m.episode_title}`);
  if (clip) line.append(" ", clip);
  if (m.speakers && m.speakers.length) line.append(" ", el("span", "speakers", m.speakers.join(", ")));
  line.append(" ", episodeLink(m));
  item.append(line, snippet(m));
  return item;
}

// The episode view, at the moment: its transcript read along with the audio.
function episodeLink(m) {
  const a = el("a", "episode-link", "read along");
  a.href = `/episodes/${encodeURIComponent(m.episode_id)}?t=${Math.floor(m.start)}`;
  a.setAttribute("aria-label", `Read ${m.episode_title} along from ${clock(m.start)}`);
  return a;
}

// Only <mark> survives: the snippet is parsed in an inert <template> and rebuilt from its text.
function snippet(m) {
  const p = el("p", "snippet");
  if (typeof m.snippet === "string") {
    const template = document.createElement("template");
    template.innerHTML = m.snippet;
    for (const node of template.content.childNodes) {
      p.append(node.nodeName === "MARK" ? el("mark", null, node.textContent) : node.textContent);
    }
  } else if (Array.isArray(m.highlights) && m.highlights.length) {
    const chars = Array.from(m.text); // offsets count code points, as Python does
    let at = 0;
    for (const [start, end] of m.highlights) {
      if (start < at) continue;
      p.append(chars.slice(at, start).join(""), el("mark", null, chars.slice(start, end).join("")));
      at = end;
    }
    p.append(chars.slice(at).join(""));
  } else {
    p.textContent = m.text;
  }
  return p;
}

function link(href, text, className, label) {
  let url = null;
  try {
    url = href ? new URL(href, location.href) : null;
  } catch {
    return null;
  }
  if (!url || !["http:", "https:"].includes(url.protocol)) return null;
  const a = el("a", className, text);
  a.href = url.href;
  a.target = "_blank";
  a.rel = "noopener";
  a.setAttribute("aria-label", label);
  return a;
}

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function formatDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
}

// ## Start: fill the podcast filter, then show whatever search the URL names

async function loadPodcasts() {
  const status = $("podcasts-status");
  try {
    const response = await fetch("/podcasts", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    for (const { podcast, episodes, segments } of await response.json()) {
      const n = episodes ?? segments;
      const unit = episodes == null ? "segment" : "episode";
      const box = el("input");
      Object.assign(box, { type: "checkbox", name: "podcast", value: podcast });
      const label = el("label", "check");
      label.append(box, ` ${podcast} `, el("span", "hint", `(${n} ${unit}${n === 1 ? "" : "s"})`));
      $("podcasts").append(label);
    }
    status.remove();
  } catch {
    status.textContent = "The podcast list could not be loaded; searches cover all podcasts.";
  }
  checkPodcasts(new URLSearchParams(location.search));
}

loadPodcasts();
showUrl();
