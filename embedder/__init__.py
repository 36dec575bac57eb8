"""The embedding service: model backends behind the OpenAI-compatible contract of the core.

`backends` loads models (torch is imported only by the backend modules, inside the factory's
branch), `app` serves one backend over HTTP, `cli` runs it under uvicorn.
"""
