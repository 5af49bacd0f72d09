"""schema.graphql (checked in) must equal the SDL printed from the code."""

from __future__ import annotations

import difflib
from pathlib import Path

from strawberry.printer import print_schema

from app.graphql.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_checked_in_schema_matches_the_code() -> None:
    current = print_schema(schema) + "\n"
    assert SCHEMA_FILE.exists(), "schema.graphql is missing: run `recap export-schema --out schema.graphql`"
    checked_in = SCHEMA_FILE.read_text(encoding="utf-8")
    if checked_in != current:
        diff = "".join(list(difflib.unified_diff(checked_in.splitlines(True), current.splitlines(True),
                                                 "schema.graphql (checked in)", "schema from code"))[:80])
        raise AssertionError("schema.graphql drifted from the code; regenerate it with\n"
                             "    .venv/bin/recap export-schema --out schema.graphql   (or: make schema)\n"
                             f"and commit it. Diff:\n{diff}")


def test_every_error_type_implements_error_with_code_message_field() -> None:
    sdl = print_schema(schema)
    for name in ("ValidationError", "NotFoundError", "PermissionDeniedError", "QuotaExceededError",
                 "UnauthenticatedError", "RateLimitedError", "TokenReusedError", "ConflictError"):
        assert f"type {name} implements Error" in sdl, name
    assert "interface Error {\n  code: String!\n  message: String!\n  field: String\n}" in sdl
