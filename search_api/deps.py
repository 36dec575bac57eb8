"""Dependencies as `Annotated` aliases: routes ask for what they need by type.

All `async def`: FastAPI runs a plain `def` dependency in its threadpool, a thread handoff per
request for what is an attribute read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from search_api.llm import ChatClient
from search_api.service import SearchService
from search_api.settings import ApiSettings


async def _service(request: Request) -> SearchService:
    service: SearchService = request.app.state.service
    return service


async def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def _chat(request: Request) -> ChatClient | None:
    chat: ChatClient | None = request.app.state.chat
    return chat


Chat = Annotated[ChatClient | None, Depends(_chat)]
Service = Annotated[SearchService, Depends(_service)]
Settings = Annotated[ApiSettings, Depends(_settings)]
