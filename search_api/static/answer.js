// The answer panel: a short answer above the moments, citing them as [1], [2]…, streamed from
// GET /answer (Server-Sent Events). Apart from app.js on purpose: it reads the search from the
// page URL (which app.js keeps), reuses app.js's el/link/clock helpers, and never touches the
// results list. It stays hidden unless /features says this deployment answers.
"use strict";

(() => {
  const panel = document.getElementById("answer");
  const FILTERS = ["q", "mode", "podcast", "episode_id", "speaker", "published_after", "published_before"];
  let source = null; // the stream of the answer on screen; a newer search closes it

  function answerRequest() {
    const params = new URLSearchParams(location.search);
    if (!(params.get("q") || "").trim()) return null;
    const request = new URLSearchParams();
    for (const key of FILTERS) for (const value of params.getAll(key)) request.append(key, value);
    return request;
  }

  function ask() {
    if (source) source.close();
    source = null;
    const request = answerRequest();
    if (!request) {
      panel.hidden = true;
      return;
    }
    const text = el("p", "answer-text", "");
    const note = el("p", "answer-note hint", "Writing an answer…");
    panel.replaceChildren(el("h2", "answer-title", "Answer"), text, note);
    panel.setAttribute("aria-busy", "true");
    panel.hidden = false;
    const stream = new EventSource(`/answer?${request}`);
    source = stream;
    let written = "";
    stream.addEventListener("token", (event) => {
      written += JSON.parse(event.data).text;
      text.textContent = written;
    });
    stream.addEventListener("answer", (event) => {
      stream.close();
      finish(JSON.parse(event.data), text, note);
    });
    stream.addEventListener("error", () => {
      if (source !== stream) return;
      stream.close();
      finish({ answer: null, reason: "the answer could not be loaded" }, text, note);
    });
  }

  function finish(result, text, note) {
    panel.removeAttribute("aria-busy");
    if (result.answer === null) {
      text.replaceChildren();
      note.textContent = `No answer: ${result.reason}. The moments below still match your search.`;
      return;
    }
    const byNumber = new Map(result.citations.map((c) => [c.n, c]));
    text.replaceChildren(...withCitations(result.answer, byNumber));
    note.replaceChildren();
    if (result.citations.length) note.append(sources(result.citations));
    else note.textContent = "The answer cites no moment.";
  }

  // "[n]" becomes a link that plays cited moment n; every other piece stays plain text.
  function withCitations(answer, byNumber) {
    const nodes = [];
    for (const [i, piece] of answer.split(/\[(\d+)\]/).entries()) {
      if (i % 2 === 0) {
        if (piece) nodes.push(piece);
        continue;
      }
      const cited = byNumber.get(Number(piece));
      const label = cited ? `${cited.episode_title} at ${clock(cited.start)}` : "";
      const a = cited && link(cited.url, `[${piece}]`, "cite", `Play moment ${piece}: ${label}`);
      if (a) a.title = label;
      nodes.push(a || `[${piece}]`);
    }
    return nodes;
  }

  function sources(citations) {
    const list = el("ol", "answer-sources");
    for (const c of citations) {
      const item = el("li");
      item.value = c.n;
      const when = `${clock(c.start)}–${clock(c.end)}`;
      item.append(link(c.url, `▶ ${when}`, "play", `Play ${c.episode_title} from ${clock(c.start)}`) || when);
      item.append(" ", el("span", "podcast", c.podcast), " · ", c.episode_title);
      list.append(item);
    }
    return list;
  }

  async function start() {
    try {
      const response = await fetch("/features", { headers: { Accept: "application/json" } });
      if (!response.ok || !(await response.json()).answers) return;
    } catch {
      return; // no answers: the page is the search page it always was
    }
    document.getElementById("search").addEventListener("submit", ask); // after app.js's handler
    window.addEventListener("popstate", ask);
    ask();
  }

  start();
})();
