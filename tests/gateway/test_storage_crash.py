"""A gateway killed mid-upload (SIGKILL, on a stack of its own) leaves no row and no half file: the partial bytes
sit in storage/tmp until the next start removes them, as it removes a version file whose row never committed."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from oncore_cli.local.gateway.storage.files import FileStore
from oncore_cli.local.stack import LocalStack
from storage_support import storage_for


@pytest.fixture
def local(tmp_path_factory):
    stack = LocalStack(tmp_path_factory.mktemp("sc"))
    yield stack
    stack.stop()


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_killed_mid_upload_leaves_nothing_behind(local):
    info, _ = local.start(port=0, db_port=0)
    store = FileStore(Path(info.data_dir) / "storage")
    bucket = storage_for(info, info.service_role_key).from_("advancing")
    bucket.upload("keep/a.txt", b"kept")

    # what a crash between the rename and the commit would leave: a version file no row names
    orphan = store.path("advancing", "keep/lost.txt", "0b8e4f4e-0000-4000-8000-000000000000")
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"never committed")

    host, port = urlsplit(info.api_url).hostname, urlsplit(info.api_url).port
    head = (f"POST /storage/v1/object/advancing/half.bin HTTP/1.1\r\nHost: {host}\r\napikey: {info.anon_key}\r\n"
            f"Authorization: Bearer {info.service_role_key}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {20 * 1024 * 1024}\r\n\r\n").encode()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(head + os.urandom(4 * 1024 * 1024))
        wait_for(lambda: any(p.stat().st_size for p in store.tmp.iterdir()), "the upload to reach the disk")
        os.kill(info.gateway_pid, signal.SIGKILL)
        wait_for(lambda: local.status().gateway == "stopped", "the gateway to die")
    assert any(store.tmp.iterdir())   # the partial upload, not yet cleaned

    info2, started = local.start(port=0, db_port=0)
    assert started
    assert not any(store.tmp.iterdir()) and not orphan.exists()
    with psycopg.connect(info2.db_url) as conn:
        names = [r[0] for r in conn.execute("select name from storage.objects where bucket_id = 'advancing'")]
    assert names == ["keep/a.txt"]
    bucket = storage_for(info2, info2.service_role_key).from_("advancing")
    assert bucket.download("keep/a.txt") == b"kept"
    assert len(list(store.objects.glob("*/*/*"))) == 1
