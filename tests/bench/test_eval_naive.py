"""The naive reference pipeline's passages: whole speaker turns, "Speaker: words", ~120 words."""

from __future__ import annotations

from pathlib import Path

from bench.eval.corpus import SAMPLE_CORPUS, read_questions, subset_manifest
from bench.eval.naive import PASSAGE_WORDS, NaiveIndex, passages
from podsearch.manifest import read_manifest
from podsearch.models import Utterance
from podsearch.transcripts import parse_transcript
from search_api.schemas import SearchMode
from tests.fakes import HashEmbedder
from tests.support import REPO


def test_turns_are_gathered_whole_and_say_who_spoke() -> None:
    cues = [
        Utterance(0, 10, "Hello there.", "Ann"),
        Utterance(10, 20, "More from Ann.", "Ann"),
        Utterance(20, 33, " ".join(["word"] * 130), "Bob"),
        Utterance(33, 40, "Bye.", None),
    ]
    first, second = passages("ep", cues)
    assert first.text == "Ann: Hello there. More from Ann.\nBob: " + " ".join(["word"] * 120)
    assert (first.start, first.end) == (0, 32)  # Bob's 120th word, of 130 in 13 s
    assert second.text == "Bob: " + " ".join(["word"] * 10) + "\nBye."
    assert (second.start, second.end) == (32, 40)


def test_every_word_of_a_real_transcript_lands_in_one_passage_once() -> None:
    episode = read_manifest(REPO / "sample" / "episodes.jsonl")[0]
    cues = parse_transcript(episode.transcript)
    prefixes = tuple(f"{c.speaker}: " for c in cues if c.speaker)
    said = []
    for passage in passages(episode.episode_id, cues):
        assert len(passage.text.split()) < 2 * PASSAGE_WORDS
        for line in passage.text.split("\n"):
            prefix = next((p for p in prefixes if line.startswith(p)), "")
            said += line.removeprefix(prefix).split()
    assert said == [w for c in sorted(cues, key=lambda c: c.start) for w in c.text.split()]


async def test_the_reference_indexes_the_eval_manifest_whose_transcripts_live_elsewhere(
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "eval" / "episodes.jsonl"
    questions = read_questions(SAMPLE_CORPUS.questions)
    subset_manifest(SAMPLE_CORPUS.manifest, questions, None, manifest)  # absolute paths
    reference = NaiveIndex(tmp_path / "naive", HashEmbedder())
    try:
        await reference.build(manifest)
        found = await reference.search(questions[0].text, SearchMode.hybrid, None)
    finally:
        reference.close()
    assert found and {s.episode_id for s in found} <= {q.episode_id for q in questions}
