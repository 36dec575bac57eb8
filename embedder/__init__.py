"""The embedding service: model backends behind the OpenAI-compatible contract of the core.

`backends` says what a backend does; `loading` picks and loads one (torch is imported only by the
backend modules, `sentence_transformer` and `instructor`, inside its branches); `pins` hashes and
pins weights on disk, `instructor_recipe` reads a recipe from a model folder without torch. `app`
serves one backend over HTTP with dynamic batching (`batching`), `cli` runs it under uvicorn.
`modal_app` deploys instructor-xl on Modal GPUs (`modal_bridge` joins its classes to `app`,
`weights` fetches the model once, `modal_client` is the SDK transport callers use to reach it);
`cost` prices that deployment.
"""
