"""The truncation count: the shipped model's tokenizer on the indexer's own cut."""

from __future__ import annotations

from bench.eval.corpus import SAMPLE_CORPUS
from bench.eval.truncation import count
from podsearch.index_meta import ChunkerConfig


def test_no_segment_but_a_quarter_of_the_contexts_are_longer_than_the_model_reads() -> None:
    lengths = count(SAMPLE_CORPUS, ChunkerConfig())
    assert lengths["segments"].limit == 256 and lengths["segments"].over == 0
    # README's figure; the indexer's summary says the same after embedding them
    assert (lengths["contexts"].over, len(lengths["contexts"].pieces)) == (61, 269)
