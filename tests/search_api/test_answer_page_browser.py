"""The answer panel of the search page in headless chromium, over the real API under uvicorn
and a loopback chat-completions server (tests/chat_server.py): no model runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from podsearch.settings import StoreSettings
from podsearch.stores.edge import EdgeReader
from search_api.app import create_app
from search_api.settings import ApiSettings, LlmSettings
from tests.chat_server import ChatServer, Script
from tests.fakes import HashEmbedder
from tests.search_api.test_page_browser import (  # noqa: F401  (browser, shots: fixtures)
    answered,
    browser,
    css,
    serve,
    shots,
    wait,
)


@pytest.fixture(scope="module")
def chat() -> Iterator[ChatServer]:
    with ChatServer().running() as server:
        yield server


@pytest.fixture(scope="module")
def base(index_root: Path, chat: ChatServer) -> Iterator[str]:
    settings = ApiSettings(
        store=StoreSettings(path=index_root), llm=LlmSettings(url=chat.url, token_timeout_s=2)
    )
    app = create_app(settings, embedder=HashEmbedder(), reader=EdgeReader(index_root))
    with serve(app) as url:
        yield url


def panel_settled(driver: Any) -> Any:
    panel = driver.find_element(By.ID, "answer")
    return panel if panel.get_attribute("aria-busy") is None and panel.text else False


def test_the_answer_appears_above_the_moments_with_clickable_citations(
    browser: Any,  # noqa: F811  (the fixture imported above)
    base: str,
    chat: ChatServer,
    shots: Path,  # noqa: F811  (the fixture imported above)
) -> None:
    chat.script = Script(tokens=["Rotate the pager [", "1] and sleep [2]", " [7]."], delay_s=0.05)
    browser.get(f"{base}/?q=on-call+burnout")
    answered(browser, "on-call burnout")
    panel = wait(browser, panel_settled)
    text = panel.find_element(By.CLASS_NAME, "answer-text").text
    assert text == "Rotate the pager [1] and sleep [2] ."
    cites = css(browser, "#answer a.cite")
    assert [a.text for a in cites] == ["[1]", "[2]"]
    for a in cites:
        assert a.get_attribute("href").startswith("https://media.podcasts.example/")
        assert "#t=" in a.get_attribute("href") and a.get_attribute("title")
    assert len(css(browser, "#answer .answer-sources li")) == 2
    above = browser.execute_script(
        "return document.getElementById('answer').compareDocumentPosition("
        "document.getElementById('results')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert above, "the answer is above the moments"
    browser.save_screenshot(str(shots / "answer.png"))


def test_a_failing_model_leaves_a_note_and_the_moments(
    browser: Any,  # noqa: F811  (the fixture imported above)
    base: str,
    chat: ChatServer,
) -> None:
    chat.script = Script(status=503)
    browser.get(f"{base}/?q=compost")
    answered(browser, "compost")
    panel = wait(browser, panel_settled)
    assert "No answer: the model endpoint answered HTTP 503" in panel.text
    assert css(browser, "#results .moment")


def test_without_a_model_the_page_shows_no_answer_panel(
    browser: Any,  # noqa: F811  (the fixture imported above)
    index_root: Path,
) -> None:
    app = create_app(
        ApiSettings(store=StoreSettings(path=index_root)),
        embedder=HashEmbedder(),
        reader=EdgeReader(index_root),
    )
    with serve(app) as url:
        browser.get(f"{url}/?q=compost")
        answered(browser, "compost")
        assert not browser.find_element(By.ID, "answer").is_displayed()
