"""instructor-xl's compute on a GPU, without its weights: latency, throughput, NaN check.

    python bench/gpu_embedder.py            # on a GPU: under 5 minutes
    python bench/gpu_embedder.py --tiny     # anywhere, in seconds (the test suite runs this)

A randomly initialised encoder with instructor-xl's exact shapes (the T5-v1.1-XL encoder:
d_model 2048, d_kv 64, d_ff 5120, 24 layers, 32 heads, gated-gelu; then mean pooling, the
2048->768 projection and L2 normalisation, as InstructorEmbedding computes them) does the same
arithmetic as the real model, so its timings are the real model's. It measures one query's
latency and segments/s at 128 tokens, in float32 and in bfloat16 (encoder in bf16, pooling and
projection in fp32, as `embedder.instructor` runs it), counts non-finite outputs, compares bf16
with fp32, and prints the figures beside the A10G limits of docs/design-notes.md.
float16 is not measured: T5 overflows in it (the NaN of the system this one replaces).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import torch
from transformers import T5Config, T5EncoderModel

XL = {"d_model": 2048, "d_kv": 64, "d_ff": 5120, "num_layers": 24, "num_heads": 32}
TINY = {"d_model": 64, "d_kv": 16, "d_ff": 128, "num_layers": 2, "num_heads": 4}
# docs/design-notes.md: A10G ~70 TFLOPS bf16 / ~35 fp32 -> at most ~210 / ~105
# segments/s of 128 tokens; one query reads the weights once: at least ~4 ms bf16 / ~8 ms fp32.
A10G = {
    "float32": {"segments_per_s": 105, "query_ms": 8},
    "bfloat16": {"segments_per_s": 210, "query_ms": 4},
}
OLD_SYSTEM_QUERY_MS = (22, 24)


class Instructor(torch.nn.Module):
    """T5 encoder -> masked mean pooling -> projection -> L2 normalisation."""

    def __init__(self, shape: dict[str, int], dimension: int) -> None:
        super().__init__()
        config = T5Config(vocab_size=32128, feed_forward_proj="gated-gelu", **shape)
        self.encoder = T5EncoderModel(config)
        self.projection = torch.nn.Linear(shape["d_model"], dimension, bias=False)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        tokens = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        weights = mask.unsqueeze(-1).float()
        pooled = (tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(self.projection(pooled), dim=-1)


def timed(run: Callable[[], torch.Tensor], device: torch.device, repeats: int) -> float:
    """Median seconds of `run()` after two warm-up calls."""
    for _ in range(2):
        run()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def measure(
    model: Instructor, device: torch.device, args: argparse.Namespace
) -> tuple[dict[str, float], torch.Tensor]:
    generator = torch.Generator().manual_seed(0)

    def batch(size: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        ids = torch.randint(3, 32000, (size, length), generator=generator).to(device)
        return ids, torch.ones_like(ids)

    query = batch(1, args.query_tokens)
    segments = batch(args.batch, 128)
    with torch.inference_mode():
        query_s = timed(lambda: model(*query), device, args.repeats)
        batch_s = timed(lambda: model(*segments), device, max(3, args.repeats // 4))
        check = torch.cat([model(*query), model(*segments)])
    figures = {
        "query_ms": query_s * 1000,
        "segments_per_s": args.batch / batch_s,
        "non_finite": int((~torch.isfinite(check)).sum().item()),
    }
    return figures, check.detach().float().cpu()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiny", action="store_true", help="a tiny model on CPU, in seconds")
    parser.add_argument("--batch", type=int, default=64, help="segments per forward pass")
    parser.add_argument("--query-tokens", type=int, default=32, help="instruction + question")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() and not args.tiny else "cpu")
    if args.tiny:
        args.batch, args.repeats = min(args.batch, 8), min(args.repeats, 5)
    torch.manual_seed(0)
    started = time.perf_counter()
    with device:
        model = Instructor(TINY if args.tiny else XL, 32 if args.tiny else 768).eval()
    params = sum(p.numel() for p in model.parameters())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    built = time.perf_counter() - started
    print(
        f"{name}, torch {torch.__version__} (CUDA {torch.version.cuda}), "
        f"{params / 1e9:.2f}B params, built in {built:.1f}s"
    )
    if args.tiny:
        print("tiny model on CPU: proves the script runs; the figures are not a GPU's")
    results: dict[str, dict[str, float]] = {}
    vectors: dict[str, torch.Tensor] = {}
    for dtype in ("float32", "bfloat16"):
        model.encoder.to(getattr(torch, dtype))  # pooling and projection stay float32
        results[dtype], vectors[dtype] = measure(model, device, args)
    fp32, bf16 = vectors["float32"], vectors["bfloat16"]
    agreement = torch.nn.functional.cosine_similarity(fp32, bf16).min().item()
    flop_per_segment = 2 * params * 128
    for dtype, figures in results.items():
        limits = A10G[dtype]
        tflops = figures["segments_per_s"] * flop_per_segment / 1e12
        print(
            f"{dtype:>8}: query {figures['query_ms']:7.2f} ms "
            f"(A10G floor ~{limits['query_ms']} ms, "
            f"old system {OLD_SYSTEM_QUERY_MS[0]}-{OLD_SYSTEM_QUERY_MS[1]} ms) | "
            f"{figures['segments_per_s']:8.1f} segments/s at 128 tokens "
            f"(A10G ceiling ~{limits['segments_per_s']}/s; {tflops:.1f} TFLOPS achieved) | "
            f"non-finite values: {figures['non_finite']}"
        )
    print(f"bf16 vs fp32: min cosine {agreement:.5f} over {len(fp32)} vectors")
    print(json.dumps({"device": name, "params": params, "bf16_min_cosine": agreement, **results}))
    bad = sum(int(r["non_finite"]) for r in results.values())
    if bad or agreement < 0.99:
        raise SystemExit(f"FAIL: {bad} non-finite values, bf16/fp32 min cosine {agreement:.4f}")


if __name__ == "__main__":
    main()
