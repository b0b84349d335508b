"""The statistics chart has dates on its axis and a table with the same figures, day by day."""

from __future__ import annotations

import re
from typing import Any

from redis.asyncio import Redis

from chatbot.store import keys as chat_keys
from tests.console.test_live import signed_in


async def test_the_chart_has_dates_and_a_table_alternative(
    make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    # Two contacts on Monday 23 November (Stockholm), as the gateway counts them.
    await redis.hset(chat_keys.stats_day("2026-11-23"), mapping={"contacts": 2, "queued": 1})
    await redis.expire(chat_keys.stats_day("2026-11-23"), 3600)
    sam = await signed_in(make_account, staff_factory, "sam", "supervisor")
    _, page = await sam.get("/stats?period=week")
    ticks = re.findall(r'<text class="tick"[^>]*>([^<]+)</text>', page)
    assert ticks == ["18/11", "19/11", "20/11", "21/11", "22/11", "23/11", "24/11"]
    rows = re.findall(r'<tr data-day="([^"]+)"><th scope="row">[^<]+</th><td>(\d+)</td><td>(\d+)</td>', page)
    assert len(rows) == 7 and ("2026-11-23", "2", "1") in rows
    assert 'aria-describedby="per-day-note"' in page
    _, page = await sam.get("/stats?period=year")
    ticks = re.findall(r'<text class="tick"[^>]*>([^<]+)</text>', page)
    assert 5 <= len(ticks) <= 11 and ticks[-1] != ticks[0]  # a year's axis keeps its dates apart
