"""Figure: upload then download of a 20 MB file through /storage/v1 (goal: <= 10x the anchor).

The figure is one round trip with the CLI's StorageService (what `oncore advancing docs upload/download` use): the
file streams from disk into a POST, the gateway streams it into a temp file (md5, fsync, rename, row committed),
then a GET streams it back into a file. Anchor, in the same run: copying the same file on disk (shutil.copyfile,
page cache warm, no fsync), twice — once for each direction. Median of N rounds, rounds interleaved. Also printed:
the gateway's peak memory above its size before the first upload (Linux), which stays far below the file's size.

Runs its own local stack in a temporary ONCORE_HOME (embedded PostgreSQL + gateway on free ports).

    python bench/bench_storage.py [--mb 20] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oncore_cli.core.client import Api  # noqa: E402
from oncore_cli.core.config import Settings  # noqa: E402
from oncore_cli.core.credentials import CredentialStore  # noqa: E402
from oncore_cli.local.stack import LocalStack  # noqa: E402
from oncore_cli.services.storage import StorageService  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oh") as home:
        home_path = Path(home)
        stack = LocalStack(home_path / "stack")
        info, _ = stack.start(port=0, db_port=0)
        try:
            settings = Settings(profile="bench", url=info.api_url, anon_key=info.anon_key, org=None,
                                access_token=info.service_role_key, service_role_key=None)
            files = StorageService(Api(settings, CredentialStore(home_path)))
            source = home_path / "source.bin"
            source.write_bytes(os.urandom(args.mb * 1_000_000))
            rss_before = _memory(info.gateway_pid, "VmRSS")
            through_api, on_disk = [], []
            for i in range(args.rounds + 1):   # round 0 warms caches and connections
                t0 = time.perf_counter()
                files.upload("advancing", f"bench/{i}.bin", source, content_type="application/octet-stream")
                files.download("advancing", f"bench/{i}.bin", home_path / "downloaded.bin")
                t1 = time.perf_counter()
                shutil.copyfile(source, home_path / "copy-a.bin")
                shutil.copyfile(home_path / "copy-a.bin", home_path / "copy-b.bin")
                t2 = time.perf_counter()
                assert (home_path / "downloaded.bin").stat().st_size == source.stat().st_size
                if i:
                    through_api.append(t1 - t0)
                    on_disk.append(t2 - t1)
                files.remove("advancing", [f"bench/{i}.bin"])
            peak = _memory(info.gateway_pid, "VmHWM")
        finally:
            stack.stop()
    figure, anchor = statistics.median(through_api), statistics.median(on_disk)
    print(f"upload+download {args.mb} MB via /storage/v1: {figure * 1000:.1f} ms (median of {args.rounds})")
    print(f"anchor: copy the file on disk twice: {anchor * 1000:.1f} ms")
    print(f"ratio: {figure / anchor:.1f}x (goal <= 10x)")
    print(f"throughput: {2 * args.mb / figure:.0f} MB/s through the API")
    if peak and rss_before:
        print(f"gateway memory: peak {peak / 1024:.0f} MB, {(peak - rss_before) / 1024:.0f} MB above its size before "
              f"the first upload (the file is {args.mb} MB: bodies stream, they are not held)")
    print("reproduce: python bench/bench_storage.py --mb 20 --rounds 7")


def _memory(pid: int, field: str) -> int | None:
    """A /proc/<pid>/status figure in kB (Linux), None elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


if __name__ == "__main__":
    main()
