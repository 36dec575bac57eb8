"""Zero-downtime rebuilds on a Qdrant server: readers use an alias, rebuilds a new collection.

`--rebuild` indexes into `<alias>-<timestamp>` while readers keep using `<alias>`; when the run
is complete and a smoke query answers, one `update_collection_aliases` request (atomic on the
server) moves the alias. The collection it pointed at is kept for `rollback`, older ones are
dropped. Readers never see the new collection half-built.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from qdrant_client import AsyncQdrantClient, models

from podsearch.errors import IndexNotReady, StoreUnavailable
from podsearch.stores.schema import DENSE


def use_a_new_name(collection: str) -> str:
    """What to do when a rebuild (or an upgrade) meets a real collection under the name."""
    return (
        f"{collection!r} is a collection, and a rebuild needs an alias there (readers switch to "
        "the new collection once it is complete): set PODSEARCH_STORE__COLLECTION to a new name "
        "for the indexer and the API, then run `podsearch-index --rebuild`"
    )


def new_collection(alias: str) -> str:
    """Names sort by creation time, so 'the one before' is the previous name."""
    return f"{alias}-{time.time_ns():020d}"


async def check_alias_name(client: AsyncQdrantClient, alias: str) -> None:
    """A rebuild needs `alias` to be an alias or unused: a real collection cannot be aliased."""
    if await is_collection(client, alias):
        raise StoreUnavailable(use_a_new_name(alias))


async def is_collection(client: AsyncQdrantClient, name: str) -> bool:
    """Whether `name` is a real collection (a first run without `--rebuild` makes one)."""
    return name not in await _aliases(client) and await client.collection_exists(name)


async def smoke_test(client: AsyncQdrantClient, collection: str) -> None:
    """The new collection answers a real query (its first point finds itself) before going live."""
    records, _ = await client.scroll(collection, limit=1, with_vectors=[DENSE])
    vector = records[0].vector if records else None
    if not isinstance(vector, dict) or DENSE not in vector:
        raise IndexNotReady(f"collection {collection!r} is empty: the alias is not switched")
    response = await client.query_points(collection, query=vector[DENSE], using=DENSE, limit=1)
    if not response.points:
        raise IndexNotReady(f"collection {collection!r} answers no query: not switched")


async def switch(client: AsyncQdrantClient, alias: str, target: str) -> None:
    """Point `alias` at `target` in one atomic request; keep only `target` and the collection
    the alias left (for `rollback`), so leftovers of failed rebuilds go too."""
    previous = (await _aliases(client)).get(alias)
    operations: list[models.AliasOperations] = []
    if previous is not None:
        delete = models.DeleteAlias(alias_name=alias)
        operations.append(models.DeleteAliasOperation(delete_alias=delete))
    create = models.CreateAlias(collection_name=target, alias_name=alias)
    operations.append(models.CreateAliasOperation(create_alias=create))
    await client.update_collection_aliases(change_aliases_operations=operations)
    for name in await built_collections(client, alias):
        if name not in (target, previous):
            await client.delete_collection(name)


async def rollback(
    client: AsyncQdrantClient, alias: str, check: Callable[[str], Awaitable[None]]
) -> str:
    """Point `alias` back at the collection before the live one, once `check` (which raises
    to refuse) accepts it; drop the rolled-back one."""
    live = (await _aliases(client)).get(alias)
    older = [name for name in await built_collections(client, alias) if live and name < live]
    if live is None or not older:
        raise IndexNotReady(f"no earlier collection to roll {alias!r} back to")
    await check(older[-1])
    await switch(client, alias, older[-1])
    await client.delete_collection(live)
    return older[-1]


async def built_collections(client: AsyncQdrantClient, alias: str) -> list[str]:
    """The collections rebuilds made for `alias`, oldest first."""
    names = [c.name for c in (await client.get_collections()).collections]
    stamp = len(f"{alias}-") + 20
    return sorted(n for n in names if n.startswith(f"{alias}-") and len(n) == stamp)


async def _aliases(client: AsyncQdrantClient) -> dict[str, str]:
    response = await client.get_aliases()
    return {a.alias_name: a.collection_name for a in response.aliases}
