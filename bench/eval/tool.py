"""What the offline eval tools share: which corpus they ask, and the embedder their question
vectors come from (cached on disk; a local one is started unless `--embedder-url` is given)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from bench.eval.corpus import REPO, Corpus, changelog, qmsum
from bench.eval.embedder_process import local_embedder

Run = Callable[[argparse.Namespace, str], Coroutine[Any, Any, None]]


def tool_parser(prog: str, description: str | None, corpus: str) -> argparse.ArgumentParser:
    """`--corpus`, `--episodes`, `--cache` and `--embedder-url`; the tool adds its own."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", choices=("qmsum", "changelog"), default=corpus)
    parser.add_argument("--episodes", type=int, default=49, help="Changelog subset size")
    parser.add_argument("--cache", type=Path, default=REPO / "data" / "eval")
    parser.add_argument("--embedder-url", help="use this embedder instead of starting one")
    return parser


def chosen_corpus(args: argparse.Namespace) -> Corpus:
    return qmsum() if args.corpus == "qmsum" else changelog(args.episodes)


def run_tool(args: argparse.Namespace, run: Run) -> None:
    """`run(args, embedder_url)` with the given embedder, or a local one for the run."""
    log = args.cache / "embedder.log"
    with nullcontext(args.embedder_url) if args.embedder_url else local_embedder(log) as url:
        asyncio.run(run(args, url))
