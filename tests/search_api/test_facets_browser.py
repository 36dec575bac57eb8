"""Facets on the search page in headless chromium: counts beside the results, each one a filter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.search_api import test_page_browser as ui
from tests.search_api.test_page_browser import By, LiveApi, answered, css, page_query, submit, wait

browser, api, page, shots = ui.browser, ui.api, ui.page, ui.shots  # the same browser and API


def shown_facets(driver: Any) -> dict[str, dict[str, int]]:
    script = """
      const out = {};
      for (const group of document.querySelectorAll('#facets .facet')) {
        out[group.dataset.facet] = Object.fromEntries([...group.querySelectorAll('.facet-value')]
          .map(b => [b.dataset.value, Number(b.querySelector('.facet-count').textContent)]));
      }
      return out;"""
    return driver.execute_script(script)  # type: ignore[no-any-return]


def counts(facets: dict[str, Any], facet: str) -> dict[str, int]:
    return {v["value"]: v["count"] for v in facets[facet]}


def facet_button(driver: Any, facet: str, value: str) -> Any:
    """The button, once the answer that shows it is drawn."""
    selector = f"#facets [data-facet='{facet}'] .facet-value[data-value='{value}']"
    return wait(driver, lambda d: css(d, selector))[0]


def test_facets_show_the_apis_counts_and_narrow_the_search(
    page: Any, api: LiveApi, shots: Path
) -> None:
    submit(page, "budget")
    answered(page, "budget")
    expected = api.search(q="budget", limit=10, facets="podcast,speaker,year").json()["facets"]
    assert shown_facets(page) == {
        facet: {v["value"]: v["count"] for v in values[:12]} for facet, values in expected.items()
    }
    page.save_screenshot(str(shots / "facets.png"))

    speaker = expected["speaker"][0]["value"]
    facet_button(page, "speaker", speaker).click()
    wait(page, lambda d: page_query(d).get("speaker") == [speaker])
    answered(page, "budget")
    wait(
        page, lambda d: facet_button(d, "speaker", speaker).get_attribute("aria-pressed") == "true"
    )
    said = [m.text for m in css(page, ".moment .speakers")]
    assert said and all(speaker in s.split(", ") for s in said)

    facet_button(page, "speaker", speaker).click()  # pressed again: the filter goes
    wait(page, lambda d: "speaker" not in page_query(d))
    wait(page, lambda d: set(shown_facets(d).get("year", {})) == set(counts(expected, "year")))

    year = expected["year"][-1]["value"]
    facet_button(page, "year", year).click()
    wait(page, lambda d: page_query(d).get("published_after") == [f"{year}-01-01T00:00:00Z"])
    answered(page, "budget")
    wait(page, lambda d: set(shown_facets(d)["year"]) == {year})
    dates = [t.get_attribute("datetime") for t in css(page, ".moment time")]
    assert dates and all(d.startswith(year) for d in dates)

    podcast = next(iter(shown_facets(page)["podcast"]))  # one of that year's
    facet_button(page, "podcast", podcast).click()
    wait(page, lambda d: page_query(d).get("podcast") == [podcast])
    box = page.find_element(By.CSS_SELECTOR, f"#podcasts input[value='{podcast}']")
    assert box.is_selected()
