"""A counting semaphore that hands free slots to the most urgent waiter first.

A bot serves several pairs. With a first-come semaphore the pairs launched first keep
winning its slots and the last pairs run alone at the end, leaving the bot idle while
they work through their remaining batches. Serving the pair with the most work left
first keeps every pair moving and shortens the tournament's tail.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools


class PrioritySlots:
    def __init__(self, capacity: int) -> None:
        self._free = capacity
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def acquire(self, priority: float) -> None:
        """Take a slot; among waiters, the lowest `priority` goes first (FIFO on ties)."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed over as we were cancelled
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)
                return
        self._free += 1
