"""A tiny BERT cross-encoder folder, built in a second from nothing: the layout of
cross-encoder/ms-marco-MiniLM-L-6-v2 (BertForSequenceClassification with one label, a WordPiece
vocabulary, `model.safetensors`), only 32 wide and with random weights. Its scores mean nothing;
the code paths that load, tokenise and score pairs are the real ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

TINY_RERANKER_ID = "test/tiny-cross-encoder"
_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_WORDS = """
the a an and or of to in on for with is are was were be it that this they we you i he she
how what who why when do did does say said think about team teams call burnout on-call pager
seed round venture capital funding founders pricing hiring growth tomato tomatoes water garden
podcast episode show question answer night shift ledger lines sleep rotate weekly money
""".split()


def _vocabulary() -> list[str]:
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("0123456789")
    punctuation = list(".,:;!?'-\"()")
    words = sorted({w for w in _WORDS if re.fullmatch(r"[a-z]{2,}", w)})
    return _SPECIAL + punctuation + letters + [f"##{c}" for c in letters] + words


def build_tiny_cross_encoder(folder: Path, *, seed: int = 0) -> Path:
    """Write the model folder and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(_vocabulary()) + "\n")
    BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True).save_pretrained(folder)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(_vocabulary()),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=1,
        initializer_range=0.5,  # scores spread over (0, 1), not all 0.5
    )
    model = BertForSequenceClassification(config)
    model.config.architectures = ["BertForSequenceClassification"]
    model.save_pretrained(folder, safe_serialization=True)
    return folder


POISON = "☠"  # not in the vocabulary: tokenised as [UNK], whose embedding can be poisoned


def poison_unknown_token(folder: Path) -> Path:
    """Make [UNK]'s embedding NaN, so a pair with an unknown character scores NaN."""
    from safetensors.torch import load_file, save_file

    weights = load_file(folder / "model.safetensors")
    key = next(k for k in weights if k.endswith("word_embeddings.weight"))
    weights[key][_SPECIAL.index("[UNK]")] = float("nan")
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    return folder
