import asyncio

from adversarial_arena.orchestrator.slots import PrioritySlots


async def test_free_slot_goes_to_the_most_urgent_waiter() -> None:
    slots = PrioritySlots(1)
    await slots.acquire(0)
    order: list[str] = []

    async def wait(name: str, priority: float) -> None:
        await slots.acquire(priority)
        order.append(name)
        slots.release()

    tasks = [
        asyncio.create_task(wait(n, p))
        for n, p in (("late", 5), ("urgent", -3), ("mid", 0), ("mid2", 0))
    ]
    await asyncio.sleep(0)
    slots.release()
    await asyncio.gather(*tasks)
    assert order == ["urgent", "mid", "mid2", "late"]


async def test_capacity_is_never_exceeded_and_cancelled_waiters_give_back() -> None:
    slots = PrioritySlots(2)
    held = 0
    peak = 0

    async def use(priority: float) -> None:
        nonlocal held, peak
        await slots.acquire(priority)
        held += 1
        peak = max(peak, held)
        try:
            await asyncio.sleep(0.001)
        finally:
            held -= 1
            slots.release()

    users = [asyncio.create_task(use(i % 3)) for i in range(20)]
    await asyncio.sleep(0)
    doomed = asyncio.create_task(use(-100))  # waits: both slots are taken
    await asyncio.sleep(0)
    doomed.cancel()
    await asyncio.gather(*users)
    assert peak == 2
    await asyncio.wait_for(slots.acquire(0), 1)
    await asyncio.wait_for(slots.acquire(0), 1)  # both slots came back
