"""What `modal deploy` would send Modal for a function or class, captured without an account.

Modal's public `Function.info()` tells the GPU, volumes, batching and timeouts of a local
definition, but not the autoscaler, snapshot or auth options. Those are only written into the
`FunctionCreate` request that deploying sends to Modal's control plane. So we stand in for the
control plane only: the definition's own loader runs, with its dependencies (image, volume,
secrets, mounts) given placeholder ids, and the request it would send is caught instead of
sent. Everything above the wire is Modal's real code; the placeholders are removed afterwards.
This reaches into Modal internals (pinned: modal>=1.6,<2) on purpose and in this file only.
"""

from __future__ import annotations

import asyncio
from typing import Any

from modal._utils.async_utils import synchronizer
from modal_proto import api_pb2


class _Caught(Exception):
    pass


class _ControlPlane:
    """Receives `FunctionCreate` and answers nothing: the request is all we want."""

    def __init__(self) -> None:
        self.requests: list[api_pb2.FunctionCreateRequest] = []

    async def FunctionCreate(self, request: api_pb2.FunctionCreateRequest) -> None:
        self.requests.append(request)
        raise _Caught


class _Client:
    def __init__(self) -> None:
        self._stub = _ControlPlane()


class _LoadContext:
    app_id = "ap-captured"

    def __init__(self) -> None:
        self.client = _Client()


async def _capture(function: Any) -> api_pb2.Function:
    inner = synchronizer._translate_in(function)
    placeholders = []
    for dep in inner._deps():
        if not dep._is_hydrated:
            dep._object_id = f"{type(dep)._type_prefixes[0]}-captured{len(placeholders)}"
            dep._is_hydrated = True
            placeholders.append(dep)
    context = _LoadContext()
    try:
        await inner._load(inner, None, context, None)
    except _Caught:
        pass
    finally:
        for dep in placeholders:
            dep._unhydrate()
    (request,) = context.client._stub.requests
    return request.function


def deploy_request(function_or_cls: Any) -> api_pb2.Function:
    """The `api_pb2.Function` that deploying this `modal.Function` or `modal.Cls` would create."""
    if hasattr(function_or_cls, "_get_class_service_function"):
        function_or_cls = function_or_cls._get_class_service_function()
    return asyncio.run(_capture(function_or_cls))
