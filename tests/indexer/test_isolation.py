"""One bad transcript costs only its own episode: every other episode is indexed, the bad one is
reported by name, and nothing of it is stored. Real Edge store, the counting HashEmbedder."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import httpx
import pytest

from embedder.app import create_app as create_embedder
from indexer.pipeline import Indexer, IndexReport
from podsearch.circuit import CircuitBreaker
from podsearch.contract import InputType
from podsearch.errors import CircuitOpen, PruneRefused, TranscriptError
from podsearch.http_transport import HttpTransport
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.models import Episode, StoreQuery
from podsearch.remote_embedder import RemoteEmbedder, open_embedder
from podsearch.segmenting import tail_slack
from podsearch.settings import EmbedderClientSettings
from podsearch.stores.edge import EdgeReader, EdgeWriter
from podsearch.transcripts import DEFAULT_LIMITS, ReadLimits
from tests.fakes import HashEmbedder
from tests.loopback import HashBackend, serve

GOOD_VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\n<v Ana>Liquidation preferences, explained.\n"


def episode(folder: Path, name: str, content: str | bytes | None) -> Episode:
    """An episode whose transcript `name` holds `content` (None: leave the path as it is)."""
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    return Episode(episode_id=path.stem, podcast="Show", title=name, transcript=path)


async def index(
    root: Path, episodes: list[Episode], limits: ReadLimits = DEFAULT_LIMITS, **run: bool
) -> IndexReport:
    writer = EdgeWriter(root / "index")
    try:
        indexer = Indexer(HashEmbedder(), writer, ChunkerConfig(), limits=limits)
        return await indexer.run(episodes, **run)
    finally:
        await writer.close()


async def stored(root: Path) -> set[str]:
    reader = EdgeReader(root / "index")
    try:
        hits = await reader.search(StoreQuery(limit=100, dense=HashEmbedder().vector("x")))
    finally:
        await reader.close()
    return {hit.episode_id for hit in hits}


def deep_json(folder: Path) -> Episode:
    return episode(folder, "deep.json", '{"segments": ' + "[" * 50_000 + "]" * 50_000 + "}")


def lone_surrogate(folder: Path) -> Episode:
    body = '{"startTime": 0, "endTime": 2, "body": "caf\\ud800 au lait"}'
    return episode(folder, "surrogate.json", '{"version": "1.0.0", "segments": [' + body + "]}")


def giant_line(folder: Path) -> Episode:
    return episode(folder, "giant.vtt", GOOD_VTT + "x" * 60_000 + "\n")


def oversized(folder: Path) -> Episode:
    return episode(folder, "big.vtt", GOOD_VTT + ("words and more words\n" * 15_000))


def named_pipe(folder: Path) -> Episode:
    os.mkfifo(folder / "pipe.vtt")  # nobody ever writes: reading it would block forever
    return episode(folder, "pipe.vtt", None)


def device_file(folder: Path) -> Episode:
    return Episode(episode_id="zero", podcast="Show", title="zero", transcript=Path("/dev/zero"))


BAD: dict[str, tuple[Callable[[Path], Episode], str]] = {
    "deeply_nested_json": (deep_json, "nested too deeply"),
    "lone_surrogate_escape": (lone_surrogate, "lone surrogate"),
    "giant_line_without_spaces": (giant_line, "longer than 50000 characters"),
    "transcript_over_the_size_limit": (oversized, "larger than 200000 bytes"),
    "named_pipe": (named_pipe, "not a regular file"),
    "device_file": (device_file, "not a regular file"),
}


@pytest.fixture(scope="module")
def one_run_over_every_bad_kind(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[IndexReport, set[str], dict[str, str]]:
    """One indexer run over a good episode and one episode of each bad kind (one index build
    for all of them): its report, what it stored, and each bad kind's episode id."""
    folder = tmp_path_factory.mktemp("bad-kinds")
    bad = {kind: make(folder) for kind, (make, _) in BAD.items()}
    episodes = [*bad.values(), episode(folder, "good.vtt", GOOD_VTT)]

    async def run() -> tuple[IndexReport, set[str]]:
        report = await index(folder, episodes, ReadLimits(max_bytes=200_000))
        return report, await stored(folder)

    report, kept = asyncio.run(run())
    return report, kept, {kind: e.episode_id for kind, e in bad.items()}


@pytest.mark.parametrize("kind", list(BAD))
def test_a_bad_transcript_fails_only_its_own_episode(
    kind: str, one_run_over_every_bad_kind: tuple[IndexReport, set[str], dict[str, str]]
) -> None:
    report, kept, ids = one_run_over_every_bad_kind
    mine = [f for f in report.failures if f.startswith(f"{ids[kind]}: ")]
    assert len(mine) == 1 and BAD[kind][1] in mine[0]
    assert report.indexed == 1 and len(report.failures) == len(BAD)
    assert kept == {"good"}


async def test_a_rerun_reports_the_same_bad_episode_again_and_indexes_nothing_twice(
    tmp_path: Path,
) -> None:
    episodes = [episode(tmp_path, "good.vtt", GOOD_VTT), deep_json(tmp_path)]
    await index(tmp_path, episodes)
    again = await index(tmp_path, episodes)
    assert (again.indexed, again.unchanged, len(again.failures)) == (0, 1, 1)


def manifest(folder: Path, *transcripts: str) -> Path:
    path = folder / "corpus" / "episodes.jsonl"
    path.parent.mkdir(exist_ok=True)
    lines = [
        json.dumps({"episode_id": f"ep-{n}", "podcast": "P", "title": "T", "transcript": t})
        for n, t in enumerate(transcripts)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("escape", ["../secret.vtt", "/etc/hostname", "link.vtt"])
def test_transcript_paths_stay_inside_the_manifest_folder(escape: str, tmp_path: Path) -> None:
    (tmp_path / "secret.vtt").write_text(GOOD_VTT)
    path = manifest(tmp_path, "inside.vtt", escape)
    (path.parent / "link.vtt").symlink_to(tmp_path / "secret.vtt")
    with pytest.raises(TranscriptError, match="outside the manifest's folder") as caught:
        read_manifest(path)
    assert caught.value.line == 2
    assert read_manifest(path, allow_outside=True)[1].transcript == path.parent / escape


@pytest.mark.parametrize(
    "line", ['{"episode_id": ' + "[" * 50_000, '{"episode_id": "caf\\udc80", "podcast": "P"}']
)
def test_a_hostile_manifest_line_is_reported_with_its_number(line: str, tmp_path: Path) -> None:
    path = manifest(tmp_path, "a.vtt")
    path.write_text(path.read_text() + line + "\n")
    with pytest.raises(TranscriptError) as caught:
        read_manifest(path)
    assert caught.value.line == 2


async def test_prune_refuses_to_empty_the_index_unless_forced(tmp_path: Path) -> None:
    episodes = [episode(tmp_path, f"ep{n}.vtt", GOOD_VTT) for n in range(3)]
    await index(tmp_path, episodes)

    with pytest.raises(PruneRefused, match="delete 3 of 3"):
        await index(tmp_path, [], prune=True)  # an empty manifest
    with pytest.raises(PruneRefused, match="delete 2 of 3"):
        await index(tmp_path, episodes[:1], prune=True)
    assert await stored(tmp_path) == {"ep0", "ep1", "ep2"}

    assert (await index(tmp_path, [], prune=True, force=True)).deleted == 3
    assert await stored(tmp_path) == set()


def scripted_embedder(
    answer: Callable[[httpx.Request], Awaitable[httpx.Response | None]],
) -> RemoteEmbedder:
    """The real RemoteEmbedder and embedder app (hash backend); `answer` may replace the
    network's answer to a request (None: the app answers)."""
    app = httpx.ASGITransport(app=create_embedder(HashBackend(), warm_up=False))

    async def network(request: httpx.Request) -> httpx.Response:
        return await answer(request) or await app.handle_async_request(request)

    settings = EmbedderClientSettings(url="http://embedder", retries=0, read_timeout_s=0.3)
    transport = HttpTransport(settings, httpx.MockTransport(network))
    return RemoteEmbedder(settings, transport, backoff_s=0.01, circuit=CircuitBreaker(2))


async def run_with(embedder: RemoteEmbedder, root: Path, episodes: list[Episode]) -> IndexReport:
    writer = EdgeWriter(root / "index")
    try:
        return await Indexer(embedder, writer, ChunkerConfig(), concurrency=1).run(episodes)
    finally:
        await writer.close()
        await embedder.aclose()


class GlacialBackend(HashBackend):
    """Takes longer than the client waits over one word."""

    def vectors(self, texts: Sequence[str], input_type: InputType) -> list[list[float]]:
        if any("Glacier" in text for text in texts):
            time.sleep(2)
        return super().vectors(texts, input_type)


async def test_an_episode_whose_embedding_times_out_fails_alone(tmp_path: Path) -> None:
    slow = episode(tmp_path, "slow.vtt", GOOD_VTT.replace("Liquidation", "Glacier"))
    episodes = [episode(tmp_path, f"ep{n}.vtt", GOOD_VTT) for n in range(3)] + [slow]
    with serve(create_embedder(GlacialBackend(), warm_up=False)) as url:
        settings = EmbedderClientSettings(url=url, retries=0, read_timeout_s=0.5)
        report = await run_with(open_embedder(settings), tmp_path, episodes)
    assert report.indexed == 3 and len(report.failures) == 1
    assert report.failures[0].startswith("slow: ") and "ReadTimeout" in report.failures[0]
    assert await stored(tmp_path) == {"ep0", "ep1", "ep2"}


async def test_an_embedder_that_dies_mid_run_stops_it_once_its_circuit_opens(
    tmp_path: Path,
) -> None:
    answered = 0

    async def dies(request: httpx.Request) -> httpx.Response | None:
        nonlocal answered
        if request.url.path == "/v1/embeddings":
            answered += 1
            if answered > 1:
                return httpx.Response(503, json={"error": {"code": "down", "message": "gone"}})
        return None

    episodes = [episode(tmp_path, f"ep{n}.vtt", GOOD_VTT) for n in range(6)]
    with pytest.raises(CircuitOpen):
        await run_with(scripted_embedder(dies), tmp_path, episodes)
    assert await stored(tmp_path) == {"ep0"}  # what was complete is published


async def test_an_episode_whose_context_vector_comes_back_short_is_never_stored(
    tmp_path: Path,
) -> None:
    """Contexts travel in the segments' calls and are checked like them: the network (the one
    thing replaced) cuts a float off the vector of every text longer than a segment."""
    app = httpx.ASGITransport(app=create_embedder(HashBackend(), warm_up=False))
    longest = ChunkerConfig().window_words + tail_slack(ChunkerConfig().window_words)

    async def network(request: httpx.Request) -> httpx.Response:
        answer = await app.handle_async_request(request)
        if request.url.path != "/v1/embeddings":
            return answer
        texts = json.loads(request.content)["input"]
        body = json.loads(await answer.aread())
        for row in body["data"]:
            if len(texts[row["index"]].split()) > longest:
                row["embedding"] = row["embedding"][:-1]
        return httpx.Response(answer.status_code, json=body)

    settings = EmbedderClientSettings(url="http://embedder", retries=0)
    embedder = RemoteEmbedder(settings, HttpTransport(settings, httpx.MockTransport(network)))
    talk = " ".join(f"word{n}" for n in range(300))  # contexts of 160-200 words
    long = episode(tmp_path, "long.vtt", GOOD_VTT.replace("Liquidation", f"{talk} Liquidation"))
    episodes = [episode(tmp_path, f"ep{n}.vtt", GOOD_VTT) for n in range(2)] + [long]
    report = await run_with(embedder, tmp_path, episodes)
    assert report.indexed == 2 and len(report.failures) == 1
    assert report.failures[0].startswith("long: ") and "dimension 255" in report.failures[0]
    assert await stored(tmp_path) == {"ep0", "ep1"}
