"""/storage/v1 through unmodified supabase-js storage-js (tests/js/storage.mjs): uploads as Blob (multipart) and
Buffer (raw body), list, signed URLs fetched without credentials, download, exists (HEAD), move, copy, remove, and
Storage's errors as storage-js surfaces them."""

from __future__ import annotations

import pytest



@pytest.fixture(scope="module")
def report(run_js) -> dict:
    return run_js("storage.mjs")


def test_uploads_blob_and_buffer(report):
    folder = report["folder"]
    assert report["blobUpload"]["fullPath"] == f"advancing/{folder}/rider.txt" and report["blobUpload"]["id"]
    assert report["bufferUpload"]["path"] == f"{folder}/plot.bin"
    assert report["upserted"]["id"] == report["blobUpload"]["id"]   # upsert keeps the object, replaces its bytes
    assert report["listed"] == [
        {"name": "plot.bin", "size": 5, "mimetype": "application/octet-stream", "cacheControl": "max-age=60"},
        {"name": "rider.txt", "size": 15, "mimetype": "text/plain", "cacheControl": "max-age=3600"},
    ]


def test_duplicate_upload_error(report):
    duplicate = report["duplicate"]
    assert (duplicate["status"], duplicate["statusCode"], duplicate["message"]) == \
        (400, "409", "The resource already exists")
    assert duplicate["name"] == "StorageApiError"


def test_signed_urls_and_download(report):
    assert report["signedUrl"].startswith(report["baseUrl"] + "/storage/v1/object/sign/advancing/")
    assert report["fetched"] == {"status": 200, "body": "Rider: 6 towels", "type": "text/plain"}
    first, missing = report["signedMany"]
    assert first["error"] is None and first["signedUrl"].startswith(report["baseUrl"])
    assert missing["signedUrl"] is None and "do not have access" in missing["error"]
    assert report["downloaded"] == {"bytes": [0, 1, 2, 3, 255], "type": "application/octet-stream"}
    assert report["exists"] is True and report["missing"]["data"] is False


def test_move_copy_remove(report):
    folder = report["folder"]
    assert report["copied"] == {"path": f"advancing/{folder}/rider-copy.txt"}
    assert report["afterMove"] == ["rider-copy.txt", "rider.txt", "stage-plot.bin"]
    assert sorted(report["removed"]) == [f"{folder}/rider-copy.txt", f"{folder}/rider.txt", f"{folder}/stage-plot.bin"]
    assert report["afterRemove"] == []


def test_outsider_refused(report):
    assert (report["outsiderUpload"]["statusCode"], report["outsiderUpload"]["message"]) == \
        ("403", "new row violates row-level security policy")
    assert (report["outsiderSign"]["statusCode"], report["outsiderSign"]["message"]) == ("404", "Object not found")


def test_signed_upload_url_and_info(report):
    folder = report["folder"]
    assert report["signedUpload"]["path"] == f"{folder}/from-venue.txt"
    assert report["signedUpload"]["fullPath"] == f"advancing/{folder}/from-venue.txt"
    assert report["info"] == {"size": 19, "contentType": "text/plain", "name": f"{folder}/from-venue.txt",
                              "bucketId": "advancing"}
