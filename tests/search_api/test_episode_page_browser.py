"""The episode page in headless chromium: it seeks to ?t=, highlights the word being said as the
audio plays, copies a link to the current second, and search results link to it.

The podcast's audio host is faked at the process boundary: a loopback server (Starlette's
static files, which answer Range requests like a CDN) serves a generated silent WAV.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from indexer.pipeline import Indexer
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.stores.edge import EdgeWriter
from tests.fakes import HashEmbedder
from tests.search_api import test_page_browser as ui
from tests.search_api.test_page_browser import By, LiveApi, answered, css, live_api, serve, wait
from tests.support import REPO

browser, shots = ui.browser, ui.shots  # the same headless chromium and screenshot folder

EPISODE = "night-shift-012"
AUDIO_S = 300


def silent_wav(path: Path, seconds: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(b"\x80" * 8000 * seconds)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("media")
    silent_wav(folder / f"{EPISODE}.wav", AUDIO_S)
    with serve(Starlette(routes=[Mount("/", StaticFiles(directory=folder))])) as base:
        yield base


@pytest.fixture(scope="module")
def episode_api(tmp_path_factory: pytest.TempPathFactory, media: str) -> Iterator[LiveApi]:
    """The sample corpus, with this episode's audio on the loopback media host."""
    folder = tmp_path_factory.mktemp("corpus") / "sample"
    shutil.copytree(REPO / "sample", folder)
    lines = []
    for line in (folder / "episodes.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["episode_id"] == EPISODE:
            record["audio_url"] = f"{media}/{EPISODE}.wav"
        lines.append(json.dumps(record))
    (folder / "episodes.jsonl").write_text("\n".join(lines))
    root = folder / "index"

    async def build() -> None:
        writer = EdgeWriter(root)
        await Indexer(HashEmbedder(), writer, ChunkerConfig()).run(
            read_manifest(folder / "episodes.jsonl")
        )
        await writer.close()

    asyncio.run(build())
    with live_api(root, HashEmbedder()) as api:
        yield api


def transcript(api: LiveApi) -> list[dict[str, Any]]:
    url = f"{api.base}/episodes/{EPISODE}/utterances"
    return httpx.get(url, params={"limit": 1000}, timeout=10).json()["utterances"]  # type: ignore[no-any-return]


def said_at(api: LiveApi, t: float) -> dict[str, Any]:
    return [u for u in transcript(api) if u["start"] <= t][-1]


def now(driver: Any) -> tuple[str, str]:
    """(text of the highlighted utterance, the highlighted word)."""
    return driver.execute_script(
        "const u = document.querySelector('.utterance.current .words');"
        "const w = document.querySelector('.word.now');"
        "return [u ? u.textContent.trim() : '', w ? w.textContent : ''];"
    )  # type: ignore[no-any-return]


def current_time(driver: Any) -> float:
    return float(driver.execute_script("return document.getElementById('audio').currentTime"))


def test_the_page_seeks_to_t_and_highlights_what_is_said_there(
    browser: Any, episode_api: LiveApi, shots: Path
) -> None:
    browser.get(f"{episode_api.base}/episodes/{EPISODE}?t=120")
    wait(browser, lambda d: now(d)[1])
    expected = said_at(episode_api, 120)
    text, word = now(browser)
    assert text == expected["text"] and word in expected["text"].split()
    assert browser.find_element(By.ID, "title").text
    assert browser.find_element(By.ID, "share-link").get_attribute("value") == (
        f"{episode_api.base}/episodes/{EPISODE}?t=120"
    )
    wait(browser, lambda d: abs(current_time(d) - 120) < 0.5)
    browser.save_screenshot(str(shots / "episode-view.png"))


def test_playing_moves_the_highlight_and_the_link_follows(
    browser: Any, episode_api: LiveApi
) -> None:
    browser.get(f"{episode_api.base}/episodes/{EPISODE}?t=30")
    wait(browser, lambda d: now(d)[1])
    before = now(browser)
    css(browser, ".utterance.current .time")[0].click()  # a listener's click plays from there
    wait(browser, lambda d: current_time(d) > said_at(episode_api, 30)["start"] + 1.5)
    wait(browser, lambda d: now(d)[1] and now(d) != before)  # the highlight moved as it played
    browser.execute_script("const a = document.getElementById('audio'); a.pause();")
    browser.execute_script(
        "const a = document.getElementById('audio'); a.currentTime = a.currentTime;"
    )
    position = current_time(browser)
    wait(browser, lambda d: now(d)[0] == said_at(episode_api, position)["text"])
    browser.find_element(By.ID, "copy").click()
    wait(browser, lambda d: d.find_element(By.ID, "copy-status").text)
    link = browser.find_element(By.ID, "share-link").get_attribute("value")
    assert link == f"{episode_api.base}/episodes/{EPISODE}?t={int(position)}"


def test_a_search_result_links_to_the_episode_at_its_moment(
    browser: Any, episode_api: LiveApi
) -> None:
    browser.get(f"{episode_api.base}/?q=coffee&mode=keyword")
    answered(browser, "coffee")
    top = episode_api.search(q="coffee", mode="keyword").json()["results"][0]
    link = css(browser, ".moment a.episode-link")[0]
    assert link.get_attribute("href") == (
        f"{episode_api.base}/episodes/{top['episode_id']}?t={int(top['start'])}"
    )
    link.click()
    wait(browser, lambda d: now(d)[1])
    assert browser.find_element(By.ID, "title").text == top["episode_title"]
