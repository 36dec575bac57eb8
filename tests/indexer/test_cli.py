"""`podsearch-index` as an operator runs it, against the real embedder app on loopback: what
would fail every episode alike stops the run once, with one line and no traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from embedder.app import create_app
from indexer.cli import EXIT_REBUILD, main
from podsearch.index_meta import REBUILD, IndexMeta
from tests.loopback import HashBackend, serve
from tests.support import free_port

VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:05.000\n<v Ana>Term sheets and {}.\n"


@pytest.fixture(scope="module")
def embedder_url() -> Iterator[str]:
    app = create_app(HashBackend(), token=SecretStr("right-token"), warm_up=False)
    with serve(app) as url:
        yield url


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    lines = []
    for n in range(3):
        (folder / f"ep{n}.vtt").write_text(VTT.format(n))
        record = {"episode_id": f"ep{n}", "podcast": "P", "title": "T", "transcript": f"ep{n}.vtt"}
        lines.append(json.dumps(record))
    (folder / "episodes.jsonl").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("PODSEARCH_STORE__PATH", str(tmp_path / "index"))
    monkeypatch.setenv("PODSEARCH_EMBEDDER__RETRIES", "0")
    return folder / "episodes.jsonl"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int | str | None, str, str]:
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--no-progress"])
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return stopped.value.code, out, err


@pytest.mark.parametrize(
    ("reachable", "token", "says"),
    [
        (True, None, "embedder refused our token"),
        (True, "wrong-token", "embedder refused our token"),
        (False, None, ""),
    ],
    ids=["missing_token", "wrong_token", "unreachable_embedder"],
)
def test_a_configuration_error_stops_the_run_once_with_one_line(
    reachable: bool,
    token: str | None,
    says: str,
    corpus: Path,
    embedder_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = embedder_url if reachable else f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("PODSEARCH_EMBEDDER__URL", url)
    if token:
        monkeypatch.setenv("PODSEARCH_EMBEDDER__TOKEN", token)
    code, out, err = run(capsys, str(corpus))
    assert isinstance(code, str) and code.startswith(f"podsearch-index: {says}")
    assert "\n" not in code and "Traceback" not in out + err
    assert "wrong-token" not in code + out + err


def test_a_negative_context_width_is_refused_before_any_episode(
    corpus: Path,
    embedder_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PODSEARCH_EMBEDDER__URL", embedder_url)
    monkeypatch.setenv("PODSEARCH_CHUNKER__CONTEXT_WORDS", "-1")
    code, out, err = run(capsys, str(corpus))
    assert isinstance(code, str) and "chunker.context_words" in code and "\n" not in code
    assert "Traceback" not in out + err
    assert not (corpus.parent.parent / "index").exists()


def test_an_empty_manifest_with_prune_deletes_nothing_and_fails(
    corpus: Path,
    embedder_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PODSEARCH_EMBEDDER__URL", embedder_url)
    monkeypatch.setenv("PODSEARCH_EMBEDDER__TOKEN", "right-token")
    assert run(capsys, str(corpus))[0] == 0
    corpus.write_text("")
    code, _, _ = run(capsys, str(corpus), "--prune")
    assert isinstance(code, str) and "would delete 3 of 3" in code and "--force" in code
    code, out, _ = run(capsys, str(corpus), "--prune", "--force")
    assert code == 0 and "3 deleted" in out


def test_an_index_built_differently_stops_the_run_with_its_own_exit_status(
    corpus: Path,
    embedder_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Status 3, and only for this, is what `make demo` rebuilds on (scripts/demo.sh)."""
    monkeypatch.setenv("PODSEARCH_EMBEDDER__URL", embedder_url)
    monkeypatch.setenv("PODSEARCH_EMBEDDER__TOKEN", "right-token")
    assert run(capsys, str(corpus))[0] == 0
    staging = corpus.parent.parent / "index" / "staging" / "meta.json"
    built = IndexMeta.stored(staging.read_text())
    staging.write_text(built.model_copy(update={"schema_version": 1}).model_dump_json())
    code, _, err = run(capsys, str(corpus))
    assert code == EXIT_REBUILD
    assert err.startswith("podsearch-index: index was built differently: schema_version")
    assert err.endswith(f"{REBUILD}\n") and err.count("\n") == 1
    assert run(capsys, str(corpus), "--rebuild")[0] == 0
