"""Vercel entry point: the search API as a serverless function (no model, no torch).

Vercel's Python runtime serves the ASGI `app` found here. Configure it with environment
variables: a Qdrant server/cluster (`PODSEARCH_STORE__BACKEND=qdrant`, `PODSEARCH_STORE__URL`,
`PODSEARCH_STORE__API_KEY`) and a remote embedder (`PODSEARCH_EMBEDDER__URL`, e.g. the Modal
web endpoint, with `PODSEARCH_EMBEDDER__TOKEN`). See docs/deploy.md.
"""

from search_api.app import create_app

app = create_app()
