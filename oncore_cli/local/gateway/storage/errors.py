"""Storage's error shape (supabase/storage `internal/errors/codes.ts`, `http/error-handler.ts`).

The body is `{"statusCode": "<logical status as a string>", "code", "error", "message"}`; the HTTP status is 400
for every error below 500 (clients read `statusCode` from the body), except the few Storage answers with its own."""

from __future__ import annotations

import json

import psycopg
from starlette.responses import Response


class StorageError(Exception):
    def __init__(self, status: int, code: str, message: str, error: str | None = None,
                 http_status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.error = error or code
        self.http_status = http_status or (500 if status >= 500 else 400)

    def response(self, head: bool = False) -> Response:
        body = {"statusCode": str(self.status), "code": self.code, "error": self.error, "message": self.message}
        return Response(b"" if head else json.dumps(body).encode(), status_code=self.http_status,
                        media_type="application/json; charset=utf-8")


def no_such_bucket() -> StorageError:
    return StorageError(404, "NoSuchBucket", "Bucket not found", "Bucket not found")


def no_such_key() -> StorageError:
    return StorageError(404, "NoSuchKey", "Object not found", "not_found")


def access_denied(message: str = "Access denied", http_status: int | None = None) -> StorageError:
    return StorageError(403, "AccessDenied", message, "Unauthorized", http_status)


def invalid_jwt(message: str = "Invalid JWT") -> StorageError:
    return StorageError(400, "InvalidJWT", message)


def invalid_signature(message: str = "Invalid signature") -> StorageError:
    return StorageError(400, "InvalidSignature", message)


def key_exists() -> StorageError:
    return StorageError(409, "KeyAlreadyExists", "The resource already exists", "Duplicate")


def bucket_exists() -> StorageError:
    return StorageError(409, "BucketAlreadyExists", "The resource already exists", "Duplicate")


def bucket_not_empty() -> StorageError:
    return StorageError(409, "ResourceNotEmpty", "The bucket you tried to delete is not empty")


def too_large(entity: str = "object") -> StorageError:
    return StorageError(413, "EntityTooLarge", f"The {entity} exceeded the maximum allowed size", "Payload too large")


def invalid_mime_type(mime: str) -> StorageError:
    return StorageError(415, "InvalidMimeType", f"mime type {mime} is not supported", "invalid_mime_type")


def invalid_key(key: str) -> StorageError:
    return StorageError(400, "InvalidKey", f"Invalid key: {key}")


def invalid_bucket_name(name: str) -> StorageError:
    return StorageError(400, "InvalidBucketName", "Bucket name invalid", "Invalid Input")


def invalid_request(message: str = "Invalid Request") -> StorageError:
    return StorageError(400, "InvalidRequest", message)


def from_database(e: psycopg.Error) -> StorageError:
    """supabase/storage `database/errors.ts` (DBError.fromDBError)."""
    state = getattr(e, "sqlstate", None)
    if state == "42501":
        return access_denied("new row violates row-level security policy"
                             if "row-level security" in str(e) else str(e).splitlines()[0])
    if state == "23505":
        return StorageError(409, "ResourceAlreadyExists", "The resource already exists", "Duplicate")
    if state == "23503":
        return StorageError(404, "RelatedResourceNotFound", "The related resource does not exist", "not_found")
    if state == "57014":
        return StorageError(544, "DatabaseTimeout", "The connection to the database timed out")
    if state and state.startswith("22"):
        return invalid_request(str(e).splitlines()[0])
    return StorageError(500, "DatabaseError", "database error, code: " + (state or "unknown"), "Internal")
