"""Group commit: many sessions' writes, one transaction, one thread hop.

A session awaits the durability of each message before it asks the next bot, so a
crash can never leave a bot having seen a message the store does not have. Awaiting a
commit per message would cap the arena at the disk's commit rate; instead, writes that
arrive while a commit is running are gathered into the next one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from adversarial_arena.core.errors import StoreError
from adversarial_arena.store.store import Store, WriteBatch


class GroupCommitWriter:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._batch = WriteBatch()
        self._waiters: list[asyncio.Future[None]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.failure: StoreError | None = None
        self.commits = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="store-writer")

    def add(self, kind: str, row: dict[str, Any]) -> asyncio.Future[None]:
        """Queue a row (kind is a WriteBatch field); the future resolves once it is durable."""
        if self.failure is not None:
            raise self.failure
        getattr(self._batch, kind).append(row)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        self._wakeup.set()
        return future

    async def close(self) -> None:
        """Flush what is queued, then stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while True:
            if not len(self._batch):
                if self._closing:
                    return
                await self._wakeup.wait()
                self._wakeup.clear()
                continue
            batch, waiters = self._batch, self._waiters
            self._batch, self._waiters = WriteBatch(), []
            try:
                await asyncio.to_thread(self._store.write, batch)
            except Exception as exc:  # any failure must reach every waiter
                if not isinstance(exc, StoreError):
                    exc = StoreError(f"cannot write to the store: {type(exc).__name__}: {exc}")
                # Nothing of this batch was written (one transaction); every waiter hears
                # why, and later writes are refused, so the tournament stops resumable.
                self.failure = exc
                waiters += self._waiters
                self._batch, self._waiters = WriteBatch(), []
                _settle(waiters, exc)
                continue
            self.commits += 1
            _settle(waiters, None)


def _settle(waiters: list[asyncio.Future[None]], error: StoreError | None) -> None:
    for future in waiters:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
