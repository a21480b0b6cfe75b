"""Rows and bytes stay together under concurrent requests: readers during overwrites always get one whole version,
and of two simultaneous uploads of a new name without upsert exactly one wins (the other gets 409)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from storage3.exceptions import StorageApiError

from oncore_cli.local.gateway.storage.files import FileStore
from storage_support import make_tour, storage_for


@pytest.fixture
def tour(stack, unique):
    return make_tour(stack, unique)


def test_readers_see_whole_versions_while_the_object_is_replaced(stack, tour):
    path = f"{tour.folder}/schedule.txt"
    versions = [bytes([65 + i]) * (50_000 + i) for i in range(12)]   # each version distinct in size and content
    writer = storage_for(stack, tour.owner.token).from_("advancing")
    writer.upload(path, versions[0])

    def write_all():
        for version in versions[1:]:
            writer.update(path, version)

    def read_many():
        reader = storage_for(stack, tour.owner.token).from_("advancing")
        return [reader.download(path) for _ in range(25)]

    with ThreadPoolExecutor(3) as pool:
        writing = pool.submit(write_all)
        readings = [pool.submit(read_many) for _ in range(2)]
        writing.result()
        seen = [body for r in readings for body in r.result()]
    assert all(body in versions for body in seen)
    assert writer.download(path) == versions[-1]


def test_simultaneous_uploads_without_upsert_one_wins(stack, tour, db_url):
    path = f"{tour.folder}/race.txt"

    def attempt(i: int):
        try:
            storage_for(stack, tour.owner.token).from_("advancing").upload(path, f"writer {i}".encode())
            return "ok"
        except StorageApiError as e:
            return e.status

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(attempt, range(4)))
    assert outcomes.count("ok") == 1 and outcomes.count("409") == 3
    with psycopg.connect(db_url) as conn:
        (version,), = conn.execute("select version from storage.objects where bucket_id = 'advancing' and name = %s",
                                   (path,)).fetchall()
    store = FileStore(Path(stack.data_dir) / "storage")
    assert [p.name for p in store.path("advancing", path, version).parent.iterdir()] == [version]
