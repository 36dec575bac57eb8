// Facets on the search page: counts per podcast, speaker and year over the search's candidates,
// each a button that narrows the search (and widens it again when pressed a second time).
// The podcast facet drives the podcast checkboxes; speaker and year become `speaker=` and
// `published_after=`/`published_before=` in the page URL, like every other filter.
"use strict";

const FACETS = "podcast,speaker,year";
const FACET_TITLES = { podcast: "Podcast", speaker: "Speaker", year: "Year" };
const FACET_KEYS = ["speaker", "published_after", "published_before"];
let facetFilters = new URLSearchParams(); // the facet-chosen filters of the search on screen

function facetFiltersFrom(params) {
  facetFilters = new URLSearchParams();
  for (const key of FACET_KEYS) for (const value of params.getAll(key)) facetFilters.append(key, value);
}

function addFacetFilters(params) {
  for (const [key, value] of facetFilters) params.append(key, value);
}

function yearOf(params) {
  const after = params.get("published_after");
  return after ? after.slice(0, 4) : null;
}

function isActive(facet, value) {
  if (facet === "podcast") return document.querySelector(`#podcasts input[value="${CSS.escape(value)}"]:checked`) !== null;
  if (facet === "speaker") return facetFilters.getAll("speaker").includes(value);
  return yearOf(facetFilters) === value;
}

function toggleFacet(facet, value) {
  if (facet === "podcast") {
    const box = document.querySelector(`#podcasts input[value="${CSS.escape(value)}"]`);
    if (box) box.checked = !box.checked;
  } else if (facet === "speaker") {
    const chosen = facetFilters.getAll("speaker");
    facetFilters.delete("speaker");
    const next = chosen.includes(value) ? chosen.filter((s) => s !== value) : [...chosen, value];
    for (const speaker of next) facetFilters.append("speaker", speaker);
  } else {
    const same = yearOf(facetFilters) === value;
    facetFilters.delete("published_after");
    facetFilters.delete("published_before");
    if (!same) {
      facetFilters.set("published_after", `${value}-01-01T00:00:00Z`);
      facetFilters.set("published_before", `${value}-12-31T23:59:59Z`);
    }
  }
  document.getElementById("search").requestSubmit();
}

// A chosen speaker or year stays on screen (count 0) even when no candidate has it, so it can be
// pressed again to widen the search.
function chosenValues(facet) {
  if (facet === "speaker") return facetFilters.getAll("speaker");
  if (facet === "year") return yearOf(facetFilters) ? [yearOf(facetFilters)] : [];
  return [];
}

function renderFacets(body) {
  const panel = document.getElementById("facets");
  panel.replaceChildren();
  const facets = body.facets || {};
  for (const facet of Object.keys(FACET_TITLES)) {
    const values = (facets[facet] || []).slice(0, 12);
    for (const value of chosenValues(facet)) {
      if (!values.some((v) => v.value === value)) values.push({ value, count: 0 });
    }
    if (!values.length) continue;
    const group = el("section", "facet");
    group.dataset.facet = facet;
    group.append(el("h2", null, FACET_TITLES[facet]));
    const items = el("ul");
    for (const { value, count } of values) {
      const button = el("button", "facet-value");
      button.type = "button";
      button.dataset.value = value;
      button.setAttribute("aria-pressed", String(isActive(facet, value)));
      button.append(el("span", "facet-name", value), " ", el("span", "facet-count", String(count)));
      button.addEventListener("click", () => toggleFacet(facet, value));
      const item = el("li");
      item.append(button);
      items.append(item);
    }
    group.append(items);
    panel.append(group);
  }
  panel.hidden = !panel.childElementCount;
}
