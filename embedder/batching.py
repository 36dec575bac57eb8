"""Dynamic batching: concurrent requests share one encode call.

A model encodes 32 texts in little more time than one (on a GPU, in about the same time), so
requests that arrive together are coalesced: the first waits up to `max_wait_ms` for company,
then up to `max_texts` texts of the same input type go to the model in one call, and each request
gets its own slice back. Requests that arrive while the model is busy queue up and form the next
batch. One worker task drains the queue and ends when it is empty; nothing runs while idle.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from embedder.backends import EncodeResult
from podsearch.contract import InputType
from podsearch.errors import EmbedderResponseInvalid

BATCH_HISTORY = 1000  # recent batch sizes kept for inspection

RunBatch = Callable[[list[str], InputType], Awaitable[EncodeResult]]


@dataclass(eq=False)
class _Job:
    texts: Sequence[str]
    input_type: InputType
    future: asyncio.Future[EncodeResult]
    arrived: float


class MicroBatcher:
    """Coalesces `submit` calls into `run_batch` calls; at most `concurrency` run at once.

    No request waits more than `max_wait_ms` for company; a request larger than `max_texts`
    runs alone. `run_batch` must return one result per text, or raise: a failed batch of several
    requests is run again one request at a time, so the error reaches only the request(s) that
    fail alone, never a caller whose inputs merely shared the batch.
    """

    def __init__(
        self,
        run_batch: RunBatch,
        *,
        max_texts: int = 64,
        max_wait_ms: float = 5.0,
        concurrency: int = 1,
    ) -> None:
        if max_texts < 1 or concurrency < 1 or max_wait_ms < 0:
            raise ValueError("max_texts and concurrency must be >= 1, max_wait_ms >= 0")
        self._run_batch = run_batch
        self.max_texts = max_texts
        self.max_wait_s = max_wait_ms / 1000
        self._concurrency = concurrency
        self._pending: deque[_Job] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._worker: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        # Texts per encode call, the most recent only: a server runs for weeks.
        self.batches: deque[int] = deque(maxlen=BATCH_HISTORY)

    async def submit(self, texts: Sequence[str], input_type: InputType) -> EncodeResult:
        """Encode `texts` (alone or beside others) and return their results only."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # asyncio primitives must not outlive their event loop
            self._loop, self._pending, self._worker = loop, deque(), None
            self._arrived, self._slots = asyncio.Event(), asyncio.Semaphore(self._concurrency)
        job = _Job(texts, input_type, loop.create_future(), loop.time())
        self._pending.append(job)
        self._arrived.set()
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain())
        return await job.future

    def _queued_texts(self) -> int:
        return sum(len(job.texts) for job in self._pending if not job.future.done())

    async def _drain(self) -> None:
        while self._pending:
            await self._slots.acquire()
            await self._gather_company()
            batch = self._take_batch()
            if not batch:
                self._slots.release()
                continue
            task = asyncio.create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._slots.release()

    async def _gather_company(self) -> None:
        """Wait until the queue holds max_texts texts or its oldest job has waited max_wait."""
        loop = asyncio.get_running_loop()
        while self._pending and self._queued_texts() < self.max_texts:
            remaining = self._pending[0].arrived + self.max_wait_s - loop.time()
            if remaining <= 0:
                return
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                return

    def _take_batch(self) -> list[_Job]:
        """The oldest live job plus the next ones of its input type that fit in max_texts."""
        while self._pending and self._pending[0].future.done():  # cancelled by its caller
            self._pending.popleft()
        if not self._pending:
            return []
        input_type, size = self._pending[0].input_type, 0
        batch: list[_Job] = []
        kept: deque[_Job] = deque()
        while self._pending:
            job = self._pending.popleft()
            if job.future.done():
                continue
            fits = not batch or size + len(job.texts) <= self.max_texts
            if job.input_type == input_type and fits:
                batch.append(job)
                size += len(job.texts)
            else:
                kept.append(job)
        self._pending.extendleft(reversed(kept))
        return batch

    async def _run(self, batch: list[_Job]) -> None:
        texts = [text for job in batch for text in job.texts]
        self.batches.append(len(texts))
        try:
            result = await self._run_batch(texts, batch[0].input_type)
            if len(result.vectors) != len(texts):
                raise EmbedderResponseInvalid(
                    f"asked the model for {len(texts)} vectors, got {len(result.vectors)}"
                )
        except Exception as exc:
            if len(batch) > 1:  # find whose input it was: each request alone, so only it fails
                for job in batch:
                    await self._run([job])
                return
            if not batch[0].future.done():
                batch[0].future.set_exception(exc)
            return
        except asyncio.CancelledError:
            for job in batch:
                job.future.cancel()
            raise
        start = 0
        for job in batch:
            stop = start + len(job.texts)
            if not job.future.done():
                job.future.set_result(result.part(start, stop))
            start = stop
