"""tus: every header edge at creation and at PATCH, offsets past the length, a concurrent PATCH, checksum
mismatches, file names that must never reach a path. Cases that open an upload of their own may change
the attacker's ``uploads`` rows (never assets, never counters)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable

from app.db import system_tx
from app.models import Role, Upload
from tests.hostile.corpus import Case, Ctx, http_code, metadata

HTTP_DEFECT = "fixed on branch http: {}"
OWN = frozenset({"uploads"})


def _meta(ctx: Ctx, **override: str | bytes) -> str:
    values: dict[str, str | bytes] = {"filename": "a.mp4", "projectId": str(ctx.a.project.id), "kind": "source_video"}
    values.update(override)
    return metadata(**values)


def create(case_id: str, headers: Callable[[Ctx], dict[str, str]], expect: str | tuple[str, ...], *,
           role: Role = Role.EDITOR, xfail: str | None = None, raw: bool = False) -> Case:
    async def run(ctx: Ctx) -> str:
        sent = headers(ctx) if raw else ctx.tus_headers(role, **headers(ctx))
        answer = await ctx.tus_create(sent)
        return "SANITISED_CREATED" if answer.status_code == 201 else http_code(answer)
    return Case(case_id, "tus", run, expect if isinstance(expect, tuple) else (expect,), changes=OWN, xfail=xfail)


def patch(case_id: str, body: bytes, expect: str | tuple[str, ...], *, length: int = 10, offset: int = 0,
          headers: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> Case:
    async def run(ctx: Ctx) -> str:
        location = await ctx.open_upload(length=length)
        sent = ctx.tus_headers(**{"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
                                  **(headers or {})})
        for name in drop:
            sent.pop(name, None)
        return http_code(await ctx.http.patch(location, headers=sent, content=body))
    return Case(case_id, "tus", run, expect if isinstance(expect, tuple) else (expect,), changes=OWN)


def _sha1(data: bytes) -> str:
    return "sha1 " + base64.b64encode(hashlib.sha1(data).digest()).decode()


async def _concurrent_patch(ctx: Ctx) -> str:
    location = await ctx.open_upload(length=1000)
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b"x" * 10
        await release.wait()
        yield b"y" * 10

    first = asyncio.create_task(ctx.patch(location, slow_body()))
    try:
        for _ in range(200):  # until the first PATCH holds the lock
            await asyncio.sleep(0.05)
            second = await ctx.patch(location, b"z" * 10)
            if second.status_code != 409:  # 409: the first has not taken the lock yet... or wrote already
                return http_code(second)
        return "NEVER_LOCKED"
    finally:
        release.set()
        await first


async def _patch_after_delete(ctx: Ctx) -> str:
    location = await ctx.open_upload(length=10)
    await ctx.http.delete(location, headers=ctx.tus_headers())
    return f"HTTP_{(await ctx.patch(location, b'x' * 10)).status_code}"


async def _length_change(ctx: Ctx) -> str:
    location = await ctx.open_upload(length=10)
    return http_code(await ctx.patch(location, b"x", **{"Upload-Length": "11"}))


async def _offset_after_partial(ctx: Ctx) -> str:
    location = await ctx.open_upload(length=10)
    await ctx.patch(location, b"x" * 5)
    return http_code(await ctx.patch(location, b"x" * 5, offset=3))


async def _bad_upload_id(ctx: Ctx) -> str:
    return f"HTTP_{(await ctx.patch('/uploads/..%2F..%2Fetc%2Fpasswd', b'x')).status_code}"


async def _host_header(ctx: Ctx) -> str:
    answer = await ctx.tus_create(ctx.tus_headers(**{"Upload-Length": "10", "Upload-Metadata": _meta(ctx),
                                                     "Host": "evil.example"}))
    location = answer.headers.get("location", "")
    return "LOCATION_PUBLIC" if location.startswith(ctx.settings.public_url) or location.startswith("/") else (
        "LOCATION_FROM_HOST" if "evil.example" in location else f"HTTP_{answer.status_code}")


def _name(case_id: str, filename: bytes) -> Case:
    """A hostile file name: the upload is taken, but the stored name is a plain, short, safe one."""
    async def run(ctx: Ctx) -> str:
        answer = await ctx.tus_create(ctx.tus_headers(**{"Upload-Length": "10",
                                                         "Upload-Metadata": _meta(ctx, filename=filename)}))
        if answer.status_code != 201:
            return http_code(answer)
        upload_id = answer.headers["location"].rstrip("/").rsplit("/", 1)[-1]
        async with system_tx():
            upload = await Upload.get(id=upload_id)
        name, key = upload.filename, upload.storage_key
        unsafe = any(c in name for c in "/\\\x00") or name.startswith(".") or len(name.encode()) > 255 or ".." in key
        return "UNSAFE_NAME" if unsafe else "SANITISED"
    return Case(case_id, "names", run, ("SANITISED",), changes=OWN)


CASES: list[Case] = [
    create("tus-no-version", lambda c: {"Authorization": f"Bearer {c.token()}", "Upload-Length": "10",
                                        "Upload-Metadata": _meta(c)}, "TUS_VERSION_UNSUPPORTED", raw=True),
    create("tus-old-version", lambda c: {"Authorization": f"Bearer {c.token()}", "Tus-Resumable": "0.2.2",
                                         "Upload-Length": "10", "Upload-Metadata": _meta(c)},
           "TUS_VERSION_UNSUPPORTED", raw=True),
    create("tus-no-auth", lambda c: {"Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Metadata": _meta(c)},
           "UNAUTHENTICATED", raw=True),
    create("tus-garbage-token", lambda c: {"Tus-Resumable": "1.0.0", "Authorization": "Bearer a.b.c",
                                           "Upload-Length": "10", "Upload-Metadata": _meta(c)},
           "UNAUTHENTICATED", raw=True),
    create("tus-basic-auth", lambda c: {"Tus-Resumable": "1.0.0", "Authorization": "Basic YTpi",
                                        "Upload-Length": "10", "Upload-Metadata": _meta(c)},
           "UNAUTHENTICATED", raw=True),
    create("tus-viewer", lambda c: {"Upload-Length": "10", "Upload-Metadata": _meta(c)}, "PERMISSION_DENIED",
           role=Role.VIEWER),
    create("tus-no-length", lambda c: {"Upload-Metadata": _meta(c)}, "UPLOAD_LENGTH_REQUIRED"),
    create("tus-negative-length", lambda c: {"Upload-Length": "-1", "Upload-Metadata": _meta(c)}, "BAD_HEADER"),
    create("tus-length-not-digits", lambda c: {"Upload-Length": "10abc", "Upload-Metadata": _meta(c)}, "BAD_HEADER"),
    create("tus-length-hex", lambda c: {"Upload-Length": "0x10", "Upload-Metadata": _meta(c)}, "BAD_HEADER"),
    create("tus-length-float", lambda c: {"Upload-Length": "1.5", "Upload-Metadata": _meta(c)}, "BAD_HEADER"),
    create("tus-length-latin1-digits", lambda c: {"Upload-Length": "1\u00b2".encode("latin-1"),  # type: ignore[dict-item]
                                                  "Upload-Metadata": _meta(c)},
           ("BAD_HEADER", "HTTP_400"), xfail="found by the corpus, owner http: app/uploads/tus.py parse_int takes "
           "str.isdigit() ('\u00b2' is a digit) and int() then raises: HTTP 500"),
    create("tus-length-huge", lambda c: {"Upload-Length": "9" * 30, "Upload-Metadata": _meta(c)},
           ("UPLOAD_TOO_LARGE", "BAD_HEADER")),
    create("tus-length-over-max", lambda c: {"Upload-Length": str(c.settings.uploads.max_size_bytes + 1),
                                             "Upload-Metadata": _meta(c)}, "UPLOAD_TOO_LARGE"),
    create("tus-length-and-defer", lambda c: {"Upload-Length": "10", "Upload-Defer-Length": "1",
                                              "Upload-Metadata": _meta(c)}, ("BAD_HEADER", "UPLOAD_LENGTH_CONFLICT")),
    create("tus-defer-length-2", lambda c: {"Upload-Defer-Length": "2", "Upload-Metadata": _meta(c)},
           ("UPLOAD_LENGTH_REQUIRED", "BAD_HEADER")),
    create("tus-no-metadata", lambda c: {"Upload-Length": "10"}, "VALIDATION_FAILED"),
    create("tus-metadata-bad-base64", lambda c: {"Upload-Length": "10", "Upload-Metadata": "filename !!!"},
           "BAD_METADATA"),
    create("tus-metadata-duplicate-key", lambda c: {"Upload-Length": "10", "Upload-Metadata": _meta(c) + ",kind eA=="},
           "BAD_METADATA"),
    create("tus-metadata-not-utf8", lambda c: {"Upload-Length": "10",
                                               "Upload-Metadata": _meta(c, filename=b"\xff\xfe.mp4")}, "BAD_METADATA"),
    create("tus-metadata-12kb", lambda c: {"Upload-Length": "10", "Upload-Metadata": _meta(c, note="n" * 9000)},
           "SANITISED_CREATED"),  # under the 16 KB limit: taken (client metadata is cut to 200 chars)
    create("tus-metadata-20kb", lambda c: {"Upload-Length": "10", "Upload-Metadata": _meta(c, note="n" * 15000)},
           ("BAD_METADATA", "HTTP_431", "HTTP_400")),
    create("tus-project-not-uuid", lambda c: {"Upload-Length": "10",
                                              "Upload-Metadata": _meta(c, projectId="../../etc")}, "VALIDATION_FAILED"),
    create("tus-project-random", lambda c: {"Upload-Length": "10",
                                            "Upload-Metadata": _meta(c, projectId=str(uuid.UUID(int=0)))},
           "NOT_FOUND"),
    create("tus-kind-unknown", lambda c: {"Upload-Length": "10", "Upload-Metadata": _meta(c, kind="evil")},
           "VALIDATION_FAILED"),
    create("tus-host-header", lambda c: {}, "LOCATION_PUBLIC"),  # replaced by _host_header below
    patch("tus-patch-wrong-content-type", b"x", "UNSUPPORTED_CONTENT_TYPE",
          headers={"Content-Type": "application/octet-stream"}),
    patch("tus-patch-no-offset", b"x", "BAD_HEADER", drop=("Upload-Offset",)),
    patch("tus-patch-negative-offset", b"x", "BAD_HEADER", offset=-5),
    patch("tus-patch-offset-mismatch", b"x", "OFFSET_MISMATCH", offset=5),
    patch("tus-patch-offset-past-length", b"x", "OFFSET_MISMATCH", offset=11),
    patch("tus-patch-offset-huge", b"x", ("OFFSET_MISMATCH", "BAD_HEADER"), offset=10**30),
    patch("tus-patch-body-past-length", b"x" * 20, "UPLOAD_TOO_LARGE"),
    patch("tus-patch-empty-body", b"", "HTTP_204"),  # a no-op, the offset stays
    patch("tus-patch-checksum-mismatch", b"x" * 10, "CHECKSUM_MISMATCH", headers={"Upload-Checksum": _sha1(b"y" * 10)}),
    patch("tus-patch-checksum-md5", b"x" * 10, "CHECKSUM_ALGORITHM_UNSUPPORTED",
          headers={"Upload-Checksum": "md5 " + base64.b64encode(b"0" * 16).decode()}),
    patch("tus-patch-checksum-not-base64", b"x" * 10, "BAD_CHECKSUM", headers={"Upload-Checksum": "sha1 !!!"}),
    patch("tus-patch-checksum-short", b"x" * 10, "BAD_CHECKSUM",
          headers={"Upload-Checksum": "sha1 " + base64.b64encode(b"abc").decode()}),
    patch("tus-patch-checksum-no-digest", b"x" * 10, ("BAD_CHECKSUM", "CHECKSUM_ALGORITHM_UNSUPPORTED"),
          headers={"Upload-Checksum": "sha1"}),
    patch("tus-patch-old-version", b"x", "TUS_VERSION_UNSUPPORTED", headers={"Tus-Resumable": "0.2.2"}),
    Case("tus-patch-concurrent", "tus", _concurrent_patch, ("UPLOAD_LOCKED",), changes=OWN),
    Case("tus-patch-after-delete", "tus", _patch_after_delete, ("HTTP_404", "HTTP_410"), changes=OWN),
    Case("tus-patch-length-change", "tus", _length_change, ("UPLOAD_LENGTH_FIXED",), changes=OWN),
    Case("tus-patch-offset-behind", "tus", _offset_after_partial, ("OFFSET_MISMATCH",), changes=OWN),
    # "../x" resolves to another route (or none): 404, or 405 where that route has no PATCH
    Case("tus-patch-traversal-id", "tus", _bad_upload_id, ("HTTP_404", "HTTP_405")),
    _name("name-tus-dotdot", b"../../etc/passwd"),
    _name("name-tus-absolute", b"/etc/shadow"),
    _name("name-tus-backslashes", b"..\\..\\windows\\system32\\cmd.exe"),
    _name("name-tus-nul", b"movie\x00.mp4.exe"),
    _name("name-tus-4kb", b"x" * 4096 + b".mp4"),
    _name("name-tus-dotfile", b".htaccess"),
    _name("name-tus-bidi", "movie\u202egnp.mp4".encode()),
    _name("name-tus-only-dots", b"...."),
    _name("name-tus-device", b"CON"),
    _name("name-tus-html", b"<img src=x onerror=alert(1)>.mp4"),
]
CASES = [Case("tus-host-header", "tus", _host_header, ("LOCATION_PUBLIC",), changes=OWN)
         if c.id == "tus-host-header" else c for c in CASES]
