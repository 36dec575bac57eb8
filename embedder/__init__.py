"""The embedding service: model backends behind the OpenAI-compatible contract of the core.

`backends` loads models (torch is imported only by the backend modules, `sentence_transformer`
and `instructor`, inside the factory's branches), `app` serves one backend over HTTP with dynamic
batching (`batching`), `cli` runs it under uvicorn. `modal_app` deploys instructor-xl on Modal
GPUs (`modal_bridge` joins its classes to `app`, `weights` fetches the model once); `cost` prices
that deployment.
"""
