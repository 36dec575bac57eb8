"""`modal deploy` would deploy the app as written: what Modal is asked to create, checked
without an account (tests/modal/deploy_capture.py stands in for Modal's control plane)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from modal_proto import api_pb2
from pydantic import ValidationError

import embedder.modal_app as modal_app
from embedder.settings import ModalSettings
from tests.embedder.tiny_instructor import TINY_MODEL_ID
from tests.modal.deploy_capture import deploy_request
from tests.support import REPO


def autoscaler(definition: api_pb2.Function) -> tuple[int, int, int]:
    settings = definition.autoscaler_settings
    return settings.min_containers, settings.max_containers, settings.scaledown_window


def gpus(definition: api_pb2.Function) -> tuple[str, int]:
    return definition.resources.gpu_config.gpu_type, definition.resources.gpu_config.count


def test_the_app_registers_its_classes_and_functions_under_its_name() -> None:
    assert modal_app.app.name == "podsearch-embedder"
    definitions = (
        modal_app.QueryEmbedder,
        modal_app.BulkEmbedder,
        modal_app.web,
        modal_app.recipe,
        modal_app.download_weights,
        modal_app.Reranker,
    )
    names = {deploy_request(definition).function_name for definition in definitions}
    assert names == {
        "QueryEmbedder.*",
        "BulkEmbedder.*",
        "Reranker.*",
        "web",
        "recipe",
        "download_weights",
    }


def test_the_query_class_batches_on_a_snapshotted_gpu_with_the_volume() -> None:
    query = deploy_request(modal_app.QueryEmbedder)

    assert gpus(query) == ("A10G", 1)
    assert query.checkpointing_enabled  # enable_memory_snapshot=True
    assert dict(query.experimental_options) == {"enable_gpu_snapshot": "True"}
    assert (query.batch_max_size, query.batch_linger_ms) == (32, 5)
    assert list(query.method_definitions) == ["embed"]  # @modal.batched: the only method
    assert autoscaler(query) == (0, 4, 120)
    assert [m.mount_path for m in query.volume_mounts] == ["/models"]
    assert (query.timeout_secs, query.startup_timeout_secs) == (60, 900)


def test_the_bulk_class_scales_to_zero_with_a_bound_and_no_batching() -> None:
    bulk = deploy_request(modal_app.BulkEmbedder)

    assert gpus(bulk) == ("A10G", 1)
    assert bulk.checkpointing_enabled and bulk.experimental_options["enable_gpu_snapshot"]
    assert autoscaler(bulk) == (0, 4, 60)
    assert bulk.batch_max_size == 0
    assert list(bulk.method_definitions) == ["embed"]
    assert [m.mount_path for m in bulk.volume_mounts] == ["/models"]
    assert bulk.timeout_secs == 600


def test_the_reranker_class_runs_on_a_snapshotted_gpu_with_its_weights_in_the_image() -> None:
    reranker = deploy_request(modal_app.Reranker)

    assert gpus(reranker) == ("A10G", 1)
    assert reranker.checkpointing_enabled and reranker.experimental_options["enable_gpu_snapshot"]
    assert autoscaler(reranker) == (0, 2, 120)
    assert list(reranker.method_definitions) == ["rerank"]
    assert not reranker.volume_mounts  # the weights are in the image, baked at build time
    assert modal_app.settings.rerank_model_id == "cross-encoder/ms-marco-MiniLM-L-6-v2"


def test_the_web_endpoint_is_an_asgi_app_without_a_gpu_and_with_the_token_secret() -> None:
    web = deploy_request(modal_app.web)

    assert web.webhook_config.type == api_pb2.WEBHOOK_TYPE_ASGI_APP
    assert not web.webhook_config.requires_proxy_auth  # bearer token by default
    assert gpus(web) == ("", 0)
    assert web.max_concurrent_inputs == 64
    assert len(web.secret_ids) == 2  # the container settings and the token Secret
    assert (
        modal_app.token_secrets and web.image_id != deploy_request(modal_app.QueryEmbedder).image_id
    )


def test_helpers_that_need_no_gpu_get_none() -> None:
    assert gpus(deploy_request(modal_app.recipe)) == ("", 0)
    download = deploy_request(modal_app.download_weights)
    assert (download.timeout_secs, download.resources.memory_mb) == (3600, 16384)
    assert [m.mount_path for m in download.volume_mounts] == ["/models"]


def test_public_function_info_agrees() -> None:
    info = modal_app.QueryEmbedder._get_class_service_function().info()

    assert info.gpus == [("A10G", 1)]
    assert info.batching_info is not None
    assert (info.batching_info.max_batch_size, info.batching_info.wait_ms) == (32, 5)
    assert info.volumes["/models"].name == "podsearch-models"


def test_knobs_are_set_from_the_environment_at_deploy_time() -> None:
    script = (
        "import json, embedder.modal_app as m;"
        "from tests.modal.deploy_capture import deploy_request;"
        "q, w = deploy_request(m.QueryEmbedder), deploy_request(m.web);"
        "print(json.dumps([q.resources.gpu_config.gpu_type, q.autoscaler_settings.min_containers,"
        " q.batch_max_size, q.batch_linger_ms, w.webhook_config.requires_proxy_auth,"
        " len(w.secret_ids), m.container_env['PODSEARCH_MODAL__INSTRUCTOR__DTYPE']]))"
    )
    env = {
        "PODSEARCH_MODAL__GPU": "H100",
        "PODSEARCH_MODAL__QUERY_MIN_CONTAINERS": "1",
        "PODSEARCH_MODAL__QUERY_MAX_BATCH": "64",
        "PODSEARCH_MODAL__QUERY_WAIT_MS": "10",
        "PODSEARCH_MODAL__PROXY_AUTH": "true",
        "PODSEARCH_MODAL__TOKEN_SECRET": "",
        "PODSEARCH_MODAL__INSTRUCTOR__DTYPE": "bf16",
    }
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["H100", 1, 64, 10, True, 1, "bfloat16"]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"token_secret": None, "proxy_auth": False}, "needs token_secret"),
        ({"token_secret": "", "proxy_auth": False}, "needs token_secret"),
        ({"query_min_containers": 5, "query_max_containers": 2}, "cannot exceed"),
        ({"instructor": {"dtype": "float16"}}, "float16 overflows"),
    ],
)
def test_settings_that_would_deploy_something_unsafe_are_refused(
    overrides: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        ModalSettings.model_validate(overrides)


def test_callers_look_classes_up_by_name_never_with_the_deprecated_lookup() -> None:
    sources = [*(REPO / "embedder").glob("*.py"), *(REPO / "podsearch").glob("*.py")]
    text = "\n".join(path.read_text() for path in sources)

    assert "Function.lookup" not in text and "Cls.lookup" not in text
    assert "Cls.from_name" in (REPO / "embedder" / "modal_client.py").read_text()


def test_the_web_endpoint_serves_from_an_image_without_torch(volume: Path) -> None:
    """The web image installs no torch: the app file must import and build its web app anyway
    (`gpu_image.imports()` swallows the ImportError outside the GPU image's containers)."""
    script = (
        "import sys, json\n"
        "for name in ('torch', 'transformers', 'sentence_transformers', 'InstructorEmbedding'):\n"
        "    sys.modules[name] = None  # import fails, as in the web image\n"
        "import embedder.modal_app as m\n"
        "app = m.serve(lambda t, k: [], lambda t, k: {}, lambda q, d: {})\n"
        "print(json.dumps(sorted(r.path for r in app.routes)))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(Path.home()),
        "PODSEARCH_MODAL__MODELS_DIR": str(volume),
        "PODSEARCH_MODAL__INSTRUCTOR__MODEL_ID": TINY_MODEL_ID,
        "PODSEARCH_EMBEDDER_SERVER__TOKEN": "s3cret",
    }
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert {"/v1/embeddings", "/v1/rerank", "/health"} <= set(json.loads(result.stdout))
