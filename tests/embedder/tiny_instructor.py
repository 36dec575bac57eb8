"""A tiny INSTRUCTOR model folder, built in seconds from nothing (docs/design-notes.md).

Same layout as hkunlp/instructor-xl after our download step (T5 encoder weights as
`model.safetensors`, `1_Pooling` mean, `2_Dense` projection with the old config keys,
`3_Normalize`), only 32 wide: the real code paths run, no weights are downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast, T5Config, T5EncoderModel

TINY_MODEL_ID = "test/tiny-instructor"
TINY_DIMENSION = 16
TINY_WIDTH = 32
POISON = "☠"  # never seen in training: tokenised as <unk>, whose embedding can be poisoned

_SENTENCES = [
    "Represent the podcast transcript passage for retrieval:",
    "Represent the podcast listener question for retrieving relevant transcript passages:",
    "how do they handle on-call burnout in small teams",
    "raising a seed round from venture capital firms",
    "drip irrigation for tomato plants in a dry summer",
    "the founders talk about pricing, hiring and growth",
    "warming up the embedding model",
    "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz .,:;!?'-",
]


def _tokenizer(folder: Path) -> int:
    tokenizer = Tokenizer(models.Unigram())
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=200, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"
    )
    tokenizer.train_from_iterator(_SENTENCES * 4, trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", tokenizer.token_to_id("</s>"))]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    fast.save_pretrained(folder)
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config["model_input_names"] = ["input_ids", "attention_mask"]
    config_path.write_text(json.dumps(config))
    return int(tokenizer.get_vocab_size())


def build_tiny_instructor(folder: Path, *, seed: int = 0) -> Path:
    """Write the model folder and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab_size = _tokenizer(folder)
    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=vocab_size,
        d_model=TINY_WIDTH,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        feed_forward_proj="gated-gelu",
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    T5EncoderModel(config).save_pretrained(folder)  # config.json + model.safetensors
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": 512, "do_lower_case": False})
    )
    modules = [
        ("0", "", "sentence_transformers.models.Transformer"),
        ("1", "1_Pooling", "sentence_transformers.models.Pooling"),
        ("2", "2_Dense", "sentence_transformers.models.Dense"),
        ("3", "3_Normalize", "sentence_transformers.models.Normalize"),
    ]
    (folder / "modules.json").write_text(
        json.dumps([{"idx": int(i), "name": i, "path": p, "type": t} for i, p, t in modules])
    )
    pooling = folder / "1_Pooling"
    pooling.mkdir(exist_ok=True)
    (pooling / "config.json").write_text(
        json.dumps({"word_embedding_dimension": TINY_WIDTH, "pooling_mode_mean_tokens": True})
    )
    dense = folder / "2_Dense"
    dense.mkdir(exist_ok=True)
    (dense / "config.json").write_text(
        json.dumps(
            {
                "in_features": TINY_WIDTH,
                "out_features": TINY_DIMENSION,
                "bias": False,
                "activation_function": "torch.nn.modules.linear.Identity",
            }
        )
    )
    linear = torch.nn.Linear(TINY_WIDTH, TINY_DIMENSION, bias=False)
    torch.save({"linear.weight": linear.weight.detach().clone()}, dense / "pytorch_model.bin")
    (folder / "3_Normalize").mkdir(exist_ok=True)
    return folder


def poison_unknown_token(folder: Path) -> None:
    """Make the `<unk>` embedding NaN: any text with an unseen character embeds to NaN."""
    from safetensors.torch import load_file, save_file

    weights = load_file(folder / "model.safetensors")
    unk = 2
    for name, tensor in weights.items():
        if name.endswith("shared.weight") or name.endswith("embed_tokens.weight"):
            tensor[unk] = float("nan")
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
