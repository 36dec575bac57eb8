"""The answer model's Modal app, checked without an account or a GPU: what `modal deploy` would
ask Modal to create (tests/modal/deploy_capture.py), and the vLLM command its container runs.
No model is downloaded or run here."""

from __future__ import annotations

import subprocess
import sys

from modal_proto import api_pb2

import answer_model.modal_app as modal_app
from answer_model.settings import AnswerModelSettings, vllm_command
from search_api.settings import LlmSettings
from tests.modal.deploy_capture import deploy_request
from tests.support import REPO


def test_the_server_is_a_web_server_on_one_gpu_that_scales_to_zero() -> None:
    serve = deploy_request(modal_app.serve)
    assert modal_app.app.name == "podsearch-answers"
    assert serve.webhook_config.type == api_pb2.WEBHOOK_TYPE_WEB_SERVER
    assert serve.webhook_config.web_server_port == modal_app.PORT
    assert (serve.resources.gpu_config.gpu_type, serve.resources.gpu_config.count) == ("L4", 1)
    scaling = serve.autoscaler_settings
    assert (scaling.min_containers, scaling.max_containers, scaling.scaledown_window) == (
        0,
        2,
        300,
    )
    assert serve.max_concurrent_inputs == 32
    assert [m.mount_path for m in serve.volume_mounts] == ["/cache"]
    assert len(serve.secret_ids) == 2  # the container settings and the key Secret


def test_vllm_serves_the_name_the_api_asks_for_and_never_takes_the_key_as_an_argument() -> None:
    settings = AnswerModelSettings()
    command = vllm_command(settings, 8000)
    assert command[:3] == ["vllm", "serve", "Qwen/Qwen2.5-1.5B-Instruct"]
    served = command[command.index("--served-model-name") + 1]
    assert served == LlmSettings().model
    assert "--api-key" not in command  # VLLM_API_KEY comes from the Secret
    assert command[command.index("--max-num-seqs") + 1] == str(settings.max_inputs)


def test_gpu_and_scaling_are_settings_read_at_deploy_time() -> None:
    script = (
        "import answer_model.modal_app as m\n"
        "from tests.modal.deploy_capture import deploy_request\n"
        "f = deploy_request(m.serve)\n"
        "print(f.resources.gpu_config.gpu_type, f.autoscaler_settings.max_containers)"
    )
    env = {
        "PODSEARCH_ANSWER_MODEL__GPU": "H100",
        "PODSEARCH_ANSWER_MODEL__MAX_CONTAINERS": "5",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
    }
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["H100", "5"]
