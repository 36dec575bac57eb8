// The episode page: /episodes/{id}?t=SECONDS. Plays the audio from the moment, highlights the word
// being said as it plays (word times are interpolated inside each utterance, at an even pace, as
// the indexer does), and gives a link to the current second. Text goes in through textContent only.
"use strict";

const audio = $("audio"), list = $("transcript"), share = $("share-link");
const episodeId = decodeURIComponent(location.pathname.replace(/^\/episodes\//, ""));
const said = []; // {start, end, item, words: [span]} in time order
let position = Math.max(0, Number(new URLSearchParams(location.search).get("t")) || 0);
let current = null; // {utterance, word} highlighted now

const JSON_ONLY = { headers: { Accept: "application/json" } };

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = String(m).padStart(2, "0"), ss = String(sec).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

async function getJson(url) {
  const response = await fetch(url, JSON_ONLY);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.error?.message || `HTTP ${response.status}`);
  return body;
}

function webUrl(href) {
  try {
    const url = new URL(href, location.href);
    return ["http:", "https:"].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

// ## Drawing

function showEpisode(info) {
  document.title = `${info.title} · podsearch`;
  $("title").textContent = info.title;
  $("podcast").textContent = info.podcast;
  const facts = [];
  if (info.published) facts.push(new Date(info.published).toLocaleDateString(undefined, { dateStyle: "medium", timeZone: "UTC" }));
  if (info.duration) facts.push(clock(info.duration));
  $("facts").textContent = facts.length ? `· ${facts.join(" · ")}` : "";
  $("speakers").textContent = info.speakers.join(", ");
  const src = info.audio_url && webUrl(info.audio_url);
  if (src) {
    audio.src = src;
    audio.hidden = false;
  }
  if (info.chapters.length) {
    const chapters = $("chapters");
    for (const chapter of info.chapters) {
      const button = el("button", null, `${clock(chapter.start)} ${chapter.title}`);
      button.type = "button";
      button.addEventListener("click", () => seek(chapter.start, true));
      const item = el("li");
      item.append(button);
      chapters.querySelector("ol").append(item);
    }
    chapters.hidden = false;
  }
}

function utteranceItem(u) {
  const item = el("li", "utterance");
  const time = el("button", "time", clock(u.start));
  time.type = "button";
  time.setAttribute("aria-label", `Play from ${clock(u.start)}`);
  time.addEventListener("click", () => seek(u.start, true));
  const words = el("p", "words");
  const spans = [];
  for (const word of u.text.split(/\s+/).filter(Boolean)) {
    const span = el("span", "word", word);
    words.append(span, " ");
    spans.push(span);
  }
  item.append(time);
  if (u.speaker) item.append(el("span", "speaker", u.speaker));
  item.append(words);
  said.push({ start: u.start, end: u.end, item, words: spans });
  return item;
}

// ## Following the audio

function at(t) {
  let lo = 0, hi = said.length - 1, found = -1;
  while (lo <= hi) { // the last utterance that started by t
    const mid = (lo + hi) >> 1;
    if (said[mid].start <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

function highlight(t, scroll) {
  const index = at(t);
  const u = said[index];
  let word = null;
  if (u && u.words.length) {
    const share = u.end > u.start ? (t - u.start) / (u.end - u.start) : 0;
    word = u.words[Math.min(u.words.length - 1, Math.max(0, Math.floor(share * u.words.length)))];
  }
  if (current?.utterance !== u) {
    current?.utterance?.item.classList.remove("current");
    u?.item.classList.add("current");
    if (u && scroll) u.item.scrollIntoView({ block: "center" });
  }
  if (current?.word !== word) {
    current?.word?.classList.remove("now");
    word?.classList.add("now");
  }
  current = { utterance: u, word };
}

function moment(t) {
  position = t;
  $("now").textContent = clock(t);
  share.value = `${location.origin}/episodes/${encodeURIComponent(episodeId)}?t=${Math.floor(t)}`;
}

function seek(t, play) {
  moment(t);
  highlight(t, true);
  if (audio.hidden) return;
  if (audio.readyState >= 1) audio.currentTime = t;
  else audio.addEventListener("loadedmetadata", () => { audio.currentTime = position; }, { once: true });
  if (play) audio.play().catch(() => {}); // a browser may refuse to play without a gesture
}

function follow() {
  moment(audio.currentTime);
  highlight(audio.currentTime, true);
}

function playing() { // every frame, so the highlight moves word by word
  follow();
  if (!audio.paused && !audio.ended) requestAnimationFrame(playing);
}

audio.addEventListener("play", () => requestAnimationFrame(playing));
audio.addEventListener("seeked", follow);

$("copy").addEventListener("click", async () => {
  const status = $("copy-status");
  try {
    await navigator.clipboard.writeText(share.value);
    status.textContent = "Copied.";
  } catch {
    share.select(); // no clipboard permission: the link is selected for the listener to copy
    status.textContent = "Press Ctrl+C to copy the selected link.";
  }
});

// ## Start

async function load() {
  const base = `/episodes/${encodeURIComponent(episodeId)}`;
  try {
    showEpisode(await getJson(base));
    let start = 0;
    while (start !== null) {
      const page = await getJson(`${base}/utterances?start=${start}&limit=500`);
      list.append(...page.utterances.map(utteranceItem));
      start = page.next_start;
    }
  } catch (error) {
    $("error").textContent = error instanceof TypeError ? "Could not reach podsearch." : error.message;
    $("error").hidden = false;
  } finally {
    $("episode").removeAttribute("aria-busy");
  }
  seek(position, false);
}

load();
