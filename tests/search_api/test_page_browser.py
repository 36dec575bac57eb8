"""The search page in a real browser: Debian chromium driven by Selenium, over the real API.

The API runs under uvicorn in a thread on a free loopback port, over an Edge index of the sample
corpus built with the HashEmbedder. Without chromium the tests skip locally and fail in CI.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from podsearch.settings import StoreSettings
from podsearch.stores.edge import EdgeReader
from search_api.app import create_app
from search_api.settings import ApiSettings
from tests.fakes import HashEmbedder
from tests.loopback import serve

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # reported by the `browser` fixture: skip locally, fail in CI
    webdriver = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1100,1400",
)
WAIT_S = 15


# ## The live API and the browser


@dataclass
class LiveApi:
    base: str
    embedder: HashEmbedder

    def search(self, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.base}/search", params=params, timeout=10)


@contextmanager
def live_api(index_root: Path, embedder: HashEmbedder) -> Iterator[LiveApi]:
    settings = ApiSettings(store=StoreSettings(path=index_root))
    app = create_app(settings, embedder=embedder, reader=EdgeReader(index_root))
    with serve(app) as base:
        yield LiveApi(base, embedder)


@pytest.fixture(scope="module")
def api(index_root: Path) -> Iterator[LiveApi]:
    with live_api(index_root, HashEmbedder()) as live:
        yield live


def _unavailable(reason: str, fix: str) -> None:
    """Skip where a developer lacks the browser; in CI (CI=true) a missing browser is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: the browser test must run in CI ({fix})")
    pytest.skip(f"{reason} ({fix})")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Debian chromium; the driver path is given so Selenium Manager never downloads."""
    if webdriver is None:
        _unavailable("selenium is not installed", "pip install -e '.[dev]'")
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        _unavailable(f"{' and '.join(missing)} missing", "run scripts/ensure-chromium.sh")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser: Any, api: LiveApi) -> Iterator[Any]:
    """A freshly loaded page; afterwards, the page must have logged no JavaScript error."""
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    browser.get(f"{api.base}/")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#podcasts input"))
    browser.get_log("browser")
    yield browser
    errors = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
    ]
    assert errors == []


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


# ## Driving the page


def wait(driver: Any, condition: Callable[[Any], Any]) -> Any:
    stale = (StaleElementReferenceException,)  # the page re-renders while we look
    return WebDriverWait(driver, WAIT_S, ignored_exceptions=stale).until(condition)


def css(driver: Any, selector: str) -> list[Any]:
    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def submit(driver: Any, query: str) -> None:
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(query, Keys.ENTER)


def answered(driver: Any, query: str) -> str:
    """Wait until the results count names `query` (the server's echo) and nothing is in flight."""

    def done(d: Any) -> str | bool:
        text = d.find_element(By.ID, "count").text
        busy = d.find_element(By.ID, "results").get_attribute("aria-busy")
        return text if f"“{query}”" in text and busy is None else False

    result: str = wait(driver, done)
    return result


def page_query(driver: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(driver.current_url).query, keep_blank_values=True)


def shown_podcasts(driver: Any) -> set[str]:
    script = "return [...document.querySelectorAll('#results .podcast')].map(e => e.textContent)"
    return set(driver.execute_script(script))


def clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


# ## What a listener does


def test_a_submitted_query_shows_moments_with_play_links(
    page: Any, api: LiveApi, shots: Path
) -> None:
    query = "liquidation preference participating"
    submit(page, query)
    assert answered(page, query).startswith("10 moments")
    top = api.search(q=query, limit=10).json()["results"][0]
    moment = css(page, ".moment")[0]
    assert moment.find_element(By.CSS_SELECTOR, ".title").text == top["episode_title"]
    assert moment.find_element(By.CSS_SELECTOR, ".podcast").text == top["podcast"]
    assert moment.find_element(By.CSS_SELECTOR, ".speakers").text == ", ".join(top["speakers"])
    play = moment.find_element(By.CSS_SELECTOR, "a.play")
    assert play.get_attribute("href") == top["url"]
    assert play.get_attribute("href").endswith(f"#t={top['start']:.0f}")
    assert play.text == f"▶ {clock(top['start'])}–{clock(top['end'])}"
    if "clip_url" in top:
        clip = moment.find_element(By.CSS_SELECTOR, "a.clip").get_attribute("href")
        assert clip == top["clip_url"]
    assert page_query(page) == {"q": [query], "mode": ["hybrid"]}
    assert page.find_element(By.ID, "count").get_attribute("aria-live") == "polite"
    page.save_screenshot(str(shots / "light.png"))
    page.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    dark = page.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert dark == "rgb(18, 19, 22)"
    page.save_screenshot(str(shots / "dark.png"))


def test_a_keyword_query_highlights_the_matched_terms(page: Any) -> None:
    Select(page.find_element(By.ID, "mode")).select_by_value("keyword")
    submit(page, "vesting cliff")
    answered(page, "vesting cliff")
    marks = [m.text.lower() for m in css(page, ".snippet mark")]
    assert marks and all("vest" in m or "cliff" in m for m in marks)
    tags = page.execute_script(
        "return [...document.querySelectorAll('.snippet *')].map(e => e.tagName)"
    )
    assert set(tags) == {"MARK"}


def test_switching_the_mode_changes_the_request(page: Any, api: LiveApi) -> None:
    calls = len(api.embedder.calls)
    submit(page, "who pays for the night shift coffee")
    assert "(hybrid," in answered(page, "who pays for the night shift coffee")
    assert len(api.embedder.calls) == calls + 1
    Select(page.find_element(By.ID, "mode")).select_by_value("keyword")  # re-runs the search
    wait(page, lambda d: "(keyword," in d.find_element(By.ID, "count").text)
    assert page_query(page)["mode"] == ["keyword"]
    assert len(api.embedder.calls) == calls + 1  # keyword mode never embeds


def test_the_podcast_filter_restricts_results(page: Any, api: LiveApi) -> None:
    everyone = api.search(q="budget", limit=10).json()["results"]
    assert len({r["podcast"] for r in everyone}) > 1
    page.find_element(By.CSS_SELECTOR, "#podcasts input[value='The Night Shift']").click()
    submit(page, "budget")
    answered(page, "budget")
    assert shown_podcasts(page) == {"The Night Shift"}
    assert page_query(page)["podcast"] == ["The Night Shift"]
    page.find_element(By.CSS_SELECTOR, "#podcasts input[value='The Night Shift']").click()
    wait(page, lambda d: len(shown_podcasts(d)) > 1)
    assert "podcast" not in page_query(page)


def test_an_empty_query_shows_the_servers_message_and_the_page_still_works(
    page: Any, api: LiveApi
) -> None:
    answer = api.search(q="")
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "empty_query"
    submit(page, "")
    error = wait(page, lambda d: css(d, "#error:not([hidden])"))[0]
    assert error.text == answer.json()["error"]["message"]
    assert error.get_attribute("role") == "alert" and css(page, ".moment") == []
    submit(page, "compost")
    answered(page, "compost")
    assert css(page, ".moment") and not page.find_element(By.ID, "error").is_displayed()


def test_a_search_url_loads_results_directly(page: Any, api: LiveApi) -> None:
    query = "83(b) election letter to the IRS"
    page.get(f"{api.base}/?{urlencode({'q': query, 'mode': 'keyword'})}")
    answered(page, query)
    top = api.search(q=query, mode="keyword").json()["results"][0]
    assert top["episode_id"] == "ledger-lines-109"
    assert css(page, ".moment .title")[0].text == top["episode_title"]
    assert page.find_element(By.ID, "q").get_attribute("value") == query
    assert Select(page.find_element(By.ID, "mode")).first_selected_option.text == "keyword"


def test_back_and_forward_replay_searches(page: Any) -> None:
    submit(page, "vesting cliff")
    answered(page, "vesting cliff")
    submit(page, "compost")
    answered(page, "compost")
    page.back()
    answered(page, "vesting cliff")
    assert page.find_element(By.ID, "q").get_attribute("value") == "vesting cliff"
    page.forward()
    answered(page, "compost")
    assert page_query(page)["q"] == ["compost"]


def test_more_results_appends_the_next_page_until_the_last(page: Any, api: LiveApi) -> None:
    submit(page, "money")
    first = answered(page, "money")
    assert first.startswith("10 moments")
    page.find_element(By.ID, "more").click()
    wait(page, lambda d: d.find_element(By.ID, "count").text != first)
    assert answered(page, "money").startswith("20 moments")
    links = [a.get_attribute("href") for a in css(page, ".moment a.play")]
    assert len(links) == 20 and len(set(links)) == 20
    page.get(f"{api.base}/?q=compost&mode=keyword")  # three moments: one page, no more
    assert answered(page, "compost").startswith("3 moments")
    assert not page.find_element(By.ID, "more").is_displayed()


def test_grouping_by_episode_shows_each_episode_once(page: Any) -> None:
    page.find_element(By.ID, "group").click()
    submit(page, "money")
    first = answered(page, "money")
    assert " episodes for " in first and page_query(page)["group_by"] == ["episode"]
    if page.find_element(By.ID, "more").is_displayed():  # the next page joins the same groups
        page.find_element(By.ID, "more").click()
        wait(page, lambda d: answered(d, "money") != first)
    titles = [t.text for t in css(page, ".episode > .episode-head .title")]
    assert titles and len(titles) == len(set(titles))
    assert all(css(group, ".moment") for group in css(page, ".episode"))


def test_only_mark_survives_from_a_snippet_and_only_web_links_are_linked(page: Any) -> None:
    html = page.execute_script(
        "return snippet({snippet: '&lt;b&gt; <img src=x onerror=alert(1)>"
        "<mark>cliff</mark> <a href=x>vesting</a>'}).innerHTML"
    )
    assert html == "&lt;b&gt; <mark>cliff</mark> vesting"
    assert page.execute_script("return link('javascript:alert(1)', 'x', 'play', 'x')") is None


def test_a_degraded_answer_shows_the_banner(browser: Any, index_root: Path, shots: Path) -> None:
    embedder = HashEmbedder()
    embedder.down = True
    with live_api(index_root, embedder) as api:
        browser.get(f"{api.base}/?q=compost")
        answered(browser, "compost")
        banner = browser.find_element(By.ID, "degraded")
        assert banner.is_displayed() and "keyword results only" in banner.text
        assert css(browser, ".moment")
        browser.save_screenshot(str(shots / "degraded.png"))
