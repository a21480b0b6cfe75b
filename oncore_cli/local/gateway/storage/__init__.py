"""/storage/v1: a Supabase Storage API over the stack's database and data directory (see files.py for the bytes,
database.py for who a request runs as, uploads.py for the upload cycle). Routes as Kong passes them to Storage."""

from __future__ import annotations

import logging
import tomllib

from starlette.routing import Route

from oncore_cli.local.gateway.storage import buckets, objects, signed
from oncore_cli.local.gateway.storage.common import StorageState, parse_size
from oncore_cli.local.gateway.storage.database import Storage
from oncore_cli.local.gateway.storage.files import FileStore

log = logging.getLogger("oncore.gateway.storage")
DEFAULT_FILE_SIZE_LIMIT = 50 * 1024 * 1024   # the supabase CLI's default `[storage] file_size_limit` (50MiB)
_READ = ["GET", "HEAD"]

routes = [
    Route("/bucket", buckets.list_buckets, methods=["GET"]),
    Route("/bucket", buckets.create_bucket, methods=["POST"]),
    Route("/bucket/{id}/empty", buckets.empty_bucket, methods=["POST"]),
    Route("/bucket/{id}", buckets.get_bucket, methods=["GET"]),
    Route("/bucket/{id}", buckets.update_bucket, methods=["PUT"]),
    Route("/bucket/{id}", buckets.delete_bucket, methods=["DELETE"]),
    Route("/object/list/{bucket}", objects.list_objects, methods=["POST"]),
    Route("/object/move", objects.move, methods=["POST"]),
    Route("/object/copy", objects.copy, methods=["POST"]),
    Route("/object/sign/{bucket}/{path:path}", signed.sign_one, methods=["POST"]),
    Route("/object/sign/{bucket}/{path:path}", signed.download_signed, methods=_READ),
    Route("/object/sign/{bucket}", signed.sign_many, methods=["POST"]),
    Route("/object/upload/sign/{bucket}/{path:path}", signed.sign_upload, methods=["POST"]),
    Route("/object/upload/sign/{bucket}/{path:path}", signed.upload_signed, methods=["PUT"]),
    Route("/object/public/{bucket}/{path:path}", objects.download_public, methods=_READ),
    Route("/object/authenticated/{bucket}/{path:path}", objects.download_authenticated, methods=_READ),
    Route("/object/info/public/{bucket}/{path:path}", objects.info, methods=_READ),
    Route("/object/info/authenticated/{bucket}/{path:path}", objects.info, methods=_READ),
    Route("/object/info/{bucket}/{path:path}", objects.info, methods=_READ),
    Route("/object/{bucket}/{path:path}", objects.upload, methods=["POST", "PUT"]),
    Route("/object/{bucket}/{path:path}", objects.download, methods=_READ),
    Route("/object/{bucket}/{path:path}", objects.remove_one, methods=["DELETE"]),
    Route("/object/{bucket}", objects.remove_many, methods=["DELETE"]),
    Route("/{path:path}", objects.no_route, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
]


def file_size_limit(config) -> int:
    """`[storage] file_size_limit` of the project's supabase/config.toml (as the supabase CLI reads it)."""
    try:
        with open(config.supabase_dir / "config.toml", "rb") as f:
            value = tomllib.load(f).get("storage", {}).get("file_size_limit")
        return parse_size(value) or DEFAULT_FILE_SIZE_LIMIT
    except (OSError, tomllib.TOMLDecodeError, Exception):
        return DEFAULT_FILE_SIZE_LIMIT


async def startup(app) -> None:
    config = app.state.config
    db = Storage(config.conninfo("supabase_storage_admin"))
    await db.open()
    files = FileStore(config.data_dir / "storage")
    files.prepare()
    async with db.pool.connection() as conn:
        rows = await (await conn.execute("select bucket_id, name, version from storage.objects "
                                         "where version is not null")).fetchall()
    removed = files.sweep(rows)
    if removed:
        log.info("storage: removed %d file(s) no object row refers to", removed)
    app.state.storage = StorageState(db, files, file_size_limit(config), config.jwt_secret)


async def shutdown(app) -> None:
    storage = getattr(app.state, "storage", None)
    if storage is not None:
        await storage.db.close()
