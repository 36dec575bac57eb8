"""The speaker-text experiment changes only the embedded text: same windows, same words."""

from __future__ import annotations

from bench.eval.corpus import SAMPLE_CORPUS
from bench.eval.naive import passages
from bench.eval.speaker_text import named_windows, plain_passages
from podsearch.index_meta import ChunkerConfig
from podsearch.manifest import read_manifest
from podsearch.segmenting import segment_episode
from podsearch.transcripts import parse_transcript


def test_every_indexed_window_has_a_named_form_with_the_same_words() -> None:
    chunker = ChunkerConfig()
    named = named_windows(SAMPLE_CORPUS.manifest, chunker)
    lines_with_names = 0
    for episode in read_manifest(SAMPLE_CORPUS.manifest):
        utterances = parse_transcript(episode.transcript)
        prefixes = {f"{u.speaker}: " for u in utterances if u.speaker}
        for segment in segment_episode(episode, utterances, chunker):
            said = []
            for line in named[segment.text].split("\n"):
                prefix = next((p for p in prefixes if line.startswith(p)), "")
                assert prefix or not prefixes  # a transcript with speakers names every turn
                lines_with_names += bool(prefix)
                said.append(line[len(prefix) :])
            assert " ".join(said) == segment.text
    assert lines_with_names > 0


def test_naive_passages_lose_only_their_names() -> None:
    plain = plain_passages(SAMPLE_CORPUS.manifest)
    for episode in read_manifest(SAMPLE_CORPUS.manifest):
        utterances = parse_transcript(episode.transcript)
        named = any(u.speaker for u in utterances)
        for passage in passages(episode.episode_id, utterances):
            pairs = zip(passage.text.split("\n"), plain[passage.text].split("\n"), strict=True)
            for named_line, plain_line in pairs:
                assert named_line.endswith(plain_line)
                assert (named_line != plain_line) == named
