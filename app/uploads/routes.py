"""Starlette routes of the tus 1.0.0 server under ``/uploads/`` (plus downloads and the Drive hook).

    POST   /uploads/          create (Upload-Length or Upload-Defer-Length: 1, not both; Upload-Metadata)
    HEAD   /uploads/{id}      offset, length, expiry (Cache-Control: no-store)
    PATCH  /uploads/{id}      append (application/offset+octet-stream; optional Upload-Checksum)
    DELETE /uploads/{id}      terminate
    OPTIONS                   capabilities

Every answer carries ``Tus-Resumable: 1.0.0``; errors carry a JSON body ``{"error": {"code", "message"}}``.
Bearer auth; one request at a time per upload (423 Locked for a second one). ``Location`` is built from
``RECAP_PUBLIC_URL`` (app.urls), never from the request's Host header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.auth.http import principal_from_request
from app.auth.principal import Principal
from app.config import Settings
from app.errors import AppError, AuthError, NotFoundError, PermissionDeniedError, QuotaExceededError, ValidationError
from app.metrics import UPLOAD_BYTES
from app.models import Upload
from app.redis import get_redis
from app.storage.errors import StorageError
from app.storage.shared import request_storage
from app.uploads import service, tus
from app.uploads.clamd import ScanError
from app.uploads.completion import Outcome, complete_upload
from app.uploads.lock import UploadLock
from app.urls import public_url

Handler = Callable[[Request], Awaitable[Response]]
_STATUS = {AuthError: 401, NotFoundError: 404, PermissionDeniedError: 403, QuotaExceededError: 413,
           ValidationError: 400, ScanError: 503}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"code": code, "message": message}}
    if status == 204 or status == 304:
        return Response(status_code=status, headers={**tus.base_headers(), **(headers or {})})
    return JSONResponse(body, status_code=status, headers={**tus.base_headers(), **(headers or {})})


def _app_error(ex: AppError) -> Response:
    status = next((s for cls, s in _STATUS.items() if isinstance(ex, cls)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if isinstance(ex, ScanError):
        headers["Retry-After"] = "30"
    return error_response(status, ex.code, ex.message, headers)


def tus_endpoint(handler: Handler) -> Handler:
    """Version check, error mapping and ``Tus-Resumable`` on every answer."""
    async def endpoint(request: Request) -> Response:
        try:
            if request.method != "OPTIONS":
                tus.check_version(request.headers.get("tus-resumable"))
            response = await handler(request)
        except tus.TusError as ex:
            return error_response(ex.status, ex.code, str(ex), ex.headers)
        except AppError as ex:
            return _app_error(ex)
        except StorageError as ex:  # the store is down: the upload stays open, retry the last PATCH
            return error_response(503, ex.code, str(ex), {"Retry-After": "30"})
        response.headers.update(tus.base_headers())
        return response
    return endpoint


def _expiry_headers(upload: Upload) -> dict[str, str]:
    return {"Upload-Expires": tus.http_date(upload.expires_at)} if upload.state in service.OPEN_STATES else {}


def _outcome_response(upload: Upload, outcome: Outcome) -> Response:
    headers = {"Upload-Offset": str(upload.offset), "Recap-Asset-Id": str(outcome.asset_id),
               "Recap-Upload-State": upload.state.value}
    if outcome.error_code is None:
        return Response(status_code=204, headers=headers)
    return error_response(422, outcome.error_code, outcome.message or "the file was refused",
                          {**headers, "Recap-Error-Code": outcome.error_code})


async def options(request: Request) -> Response:
    return Response(status_code=204, headers=tus.options_headers(_settings(request).uploads.max_size_bytes))


async def create(request: Request) -> Response:
    principal = await principal_from_request(request)
    settings = _settings(request)
    length = tus.parse_creation_length(request.headers.get("upload-length"),
                                       request.headers.get("upload-defer-length"))
    raw = request.headers.get("upload-metadata")
    metadata = tus.parse_metadata(raw)
    upload = await service.create_upload(principal, settings, metadata=metadata, length=length, raw_metadata=raw)
    headers = {"Location": public_url(settings, f"/uploads/{upload.id}"), "Upload-Offset": "0",
               **_expiry_headers(upload)}
    if length == 0:  # complete on creation; the content check still runs (and refuses an empty file)
        outcome = await complete_upload(upload, settings, request_storage(request))
        headers.update({"Recap-Asset-Id": str(outcome.asset_id), "Recap-Upload-State": upload.state.value})
        if outcome.error_code:
            headers["Recap-Error-Code"] = outcome.error_code
    return Response(status_code=201, headers=headers)


async def _open_upload(principal: Principal, request: Request) -> Upload:
    upload = await service.get_upload(principal, request.path_params["upload_id"])
    if service.is_expired(upload):
        raise tus.TusError(410, "UPLOAD_EXPIRED", "this upload has expired")
    return upload


async def head(request: Request) -> Response:
    principal = await principal_from_request(request)
    upload = await _open_upload(principal, request)
    headers = {"Upload-Offset": str(service.committed_offset(upload, _settings(request))),
               "Cache-Control": "no-store", "Recap-Upload-State": upload.state.value, **_expiry_headers(upload)}
    if upload.length is None:
        headers["Upload-Defer-Length"] = "1"
    else:
        headers["Upload-Length"] = str(upload.length)
    if service.asset_of(upload) is not None:
        headers["Recap-Asset-Id"] = str(service.asset_of(upload))
    if upload.error_code:
        headers["Recap-Error-Code"] = upload.error_code
    if upload.metadata.get("tus"):  # tus: HEAD repeats the metadata given at creation
        headers["Upload-Metadata"] = str(upload.metadata["tus"])
    return Response(status_code=200, headers=headers)


async def _acquire(lock: UploadLock) -> None:
    """Take the upload's lock: 423 while another request holds it, 503 while Redis cannot say."""
    try:
        acquired = await lock.acquire()
    except (RedisError, OSError) as ex:
        raise tus.TusError(503, "LOCK_UNAVAILABLE", "the upload lock cannot be taken now; retry",
                           {"Retry-After": "5"}) from ex
    if not acquired:
        raise tus.TusError(423, "UPLOAD_LOCKED", "another request is working on this upload")


async def patch(request: Request) -> Response:
    principal = await principal_from_request(request)
    if request.headers.get("content-type", "").split(";")[0].strip() != tus.OFFSET_CONTENT_TYPE:
        raise tus.TusError(415, "UNSUPPORTED_CONTENT_TYPE", f"PATCH bodies must be {tus.OFFSET_CONTENT_TYPE}")
    offset = tus.parse_int(request.headers.get("upload-offset"), "Upload-Offset")
    checksum = tus.parse_checksum(request.headers.get("upload-checksum"))
    # The lock comes first and the row is read once under it (one database round trip less per chunk);
    # locking an id that is not the caller's is harmless: the read below answers 404 and lets go.
    upload_id = service.parse_upload_id(request.path_params["upload_id"])
    lock = UploadLock(get_redis(_settings(request)), upload_id)
    await _acquire(lock)
    try:
        return await _patch_locked(request, principal, offset, checksum)
    finally:
        await lock.release()


async def _patch_locked(request: Request, principal: Principal, offset: int,
                        checksum: tuple[str, bytes] | None) -> Response:
    settings = _settings(request)
    upload = await _open_upload(principal, request)
    if "upload-length" in request.headers:
        declared_length = tus.parse_int(request.headers["upload-length"], "Upload-Length")
        if upload.length is None:
            await service.set_length(upload, declared_length, settings)
        elif declared_length != upload.length:
            raise tus.TusError(400, "UPLOAD_LENGTH_FIXED", "Upload-Length cannot change once set")
    if upload.state not in service.OPEN_STATES:
        if offset != upload.offset:
            raise tus.TusError(409, "OFFSET_MISMATCH", "the upload is finished", {"Upload-Offset": str(upload.offset)})
        return _outcome_response(upload, await complete_upload(upload, settings, request_storage(request)))
    current = service.committed_offset(upload, settings)
    if offset != current:
        raise tus.TusError(409, "OFFSET_MISMATCH", f"Upload-Offset is {offset}, the upload is at {current}",
                           {"Upload-Offset": str(current)})
    limit = (upload.length if upload.length is not None else settings.uploads.max_size_bytes) - offset
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise tus.TusError(413, "UPLOAD_TOO_LARGE", "the body goes past Upload-Length")
    hasher = service.hasher_at(upload.id, offset) or (hashlib.sha256() if offset == 0 else None)
    try:
        result = await tus.append_stream(service.part_path(settings, upload.id), offset, request.stream(),
                                         limit=limit, checksum=checksum, whole_file_hasher=hasher,
                                         disconnect=ClientDisconnect)
    except tus.ChunkDiscarded as ex:
        raise tus.TusError(400, "REQUEST_INTERRUPTED", str(ex)) from None
    service.keep_hasher(upload.id, result.offset, hasher)
    UPLOAD_BYTES.inc(max(0, result.offset - offset))
    await service.save_progress(upload, result.offset, settings)
    if result.interrupted:  # nobody is listening any more
        return Response(status_code=400)
    if upload.length is not None and result.offset == upload.length:
        return _outcome_response(upload, await complete_upload(upload, settings, request_storage(request)))
    return Response(status_code=204, headers={"Upload-Offset": str(result.offset), **_expiry_headers(upload)})


async def delete(request: Request) -> Response:
    principal = await principal_from_request(request)
    upload = await service.get_upload(principal, request.path_params["upload_id"])
    lock = UploadLock(get_redis(_settings(request)), upload.id)
    await _acquire(lock)
    try:
        await service.terminate_upload(upload, _settings(request))
    finally:
        await lock.release()
    return Response(status_code=204)


def _dispatch(handlers: dict[str, Handler]) -> Handler:
    async def endpoint(request: Request) -> Response:
        return await handlers[request.method](request)
    return tus_endpoint(endpoint)


def upload_routes() -> list[BaseRoute]:
    """The tus routes, the signed downloads and the Drive webhook."""
    from app.downloads import download_routes
    from app.hooks import hook_routes

    collection = _dispatch({"POST": create, "OPTIONS": options})
    resource = _dispatch({"HEAD": head, "PATCH": patch, "DELETE": delete, "OPTIONS": options})
    return [
        Route("/uploads/", collection, methods=["POST", "OPTIONS"], name="tus_collection"),
        Route("/uploads", collection, methods=["POST", "OPTIONS"]),
        Route("/uploads/{upload_id}", resource, methods=["HEAD", "PATCH", "DELETE", "OPTIONS"], name="tus_upload"),
        *download_routes(),
        *hook_routes(),
    ]
