"""``UploadTicket``: where and how to send a file with tus."""

from __future__ import annotations

import base64

import strawberry

from app.graphql.types.scalars import BigInt


@strawberry.type
class UploadMetadataEntry:
    key: str
    value: str


@strawberry.type(description="Start a tus 1.0.0 upload: POST `endpoint` with `Upload-Length` (or "
                             "`Upload-Defer-Length: 1`), `Upload-Metadata: uploadMetadata`, `Tus-Resumable: 1.0.0` "
                             "and your bearer token; then PATCH the `Location` it returns.")
class UploadTicket:
    endpoint: str
    metadata: list[UploadMetadataEntry]
    upload_metadata: str = strawberry.field(description="The `Upload-Metadata` header value, ready to send.")
    max_size: BigInt
    checksum_algorithms: list[str]
    expires_in_seconds: int = strawberry.field(description="An idle upload expires after this long.")
    tus_version: str = "1.0.0"

    @classmethod
    def build(cls, endpoint: str, metadata: dict[str, str], *, max_size: int, expires_in: int) -> UploadTicket:
        header = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata.items())
        return cls(endpoint=endpoint, metadata=[UploadMetadataEntry(key=k, value=v) for k, v in metadata.items()],
                   upload_metadata=header, max_size=BigInt(max_size), checksum_algorithms=["sha1", "sha256"],
                   expires_in_seconds=expires_in)
