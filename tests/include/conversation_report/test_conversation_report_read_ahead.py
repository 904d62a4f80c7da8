"""The extraction's read-ahead: order, errors and early stops cross the thread unchanged."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from genesys_cloud.exceptions import GenesysRateLimitError
from genesys_cloud.hooks.pagination import read_ahead


def test_items_arrive_complete_and_in_order() -> None:
    assert list(read_ahead(iter(range(1000)), ahead=50, batch=7)) == list(range(1000))
    assert list(read_ahead([], ahead=10)) == []


def test_the_producer_stays_bounded_by_ahead() -> None:
    pulled = []

    def source() -> Iterator[int]:
        for i in range(10_000):
            pulled.append(i)
            yield i

    items = read_ahead(source(), ahead=100, batch=10)
    assert next(items) == 0
    threading.Event().wait(0.3)  # give the producer time to run as far ahead as it may
    # queue of 10 batches + the batch being offered + the one the consumer holds, plus the one pulled
    assert len(pulled) <= 100 + 3 * 10 + 1
    items.close()


def test_errors_reraise_after_the_items_before_them() -> None:
    def source() -> Iterator[int]:
        yield from range(5)
        raise GenesysRateLimitError(429, message="429 after retries")

    got = []
    with pytest.raises(GenesysRateLimitError, match="429 after retries"):
        for item in read_ahead(source(), ahead=2, batch=1):
            got.append(item)
    assert got == [0, 1, 2, 3, 4]


def test_closing_early_stops_the_thread() -> None:
    def endless() -> Iterator[int]:
        i = 0
        while True:
            yield i
            i += 1

    before = {t.ident for t in threading.enumerate()}
    items = read_ahead(endless(), ahead=10, batch=2)
    assert next(items) == 0
    items.close()
    extra = [t for t in threading.enumerate() if t.ident not in before and t.name.endswith("read-ahead")]
    assert not any(t.is_alive() for t in extra)


def test_extract_to_chunks_writes_everything(tmp_path) -> None:
    convs = [{"conversationId": f"c{i}", "conversationStart": f"2026-06-10T00:00:{i % 60:02d}.000Z"}
             for i in range(250)]
    from genesys_pipelines.conversation_report.chunks import ChunkWriter

    stats = ChunkWriter(tmp_path).add_all(read_ahead(iter(convs), ahead=16))
    assert (stats.conversations, stats.rows, stats.duplicates) == (250, 250, 0)
