"""Custom scalars: ``BigInt`` (64-bit integers such as byte counts; GraphQL's Int is 32-bit).

Registered in the schema's ``StrawberryConfig.scalar_map`` (``SCALAR_MAP``).
"""

from __future__ import annotations

from typing import Any, NewType

import strawberry

BigInt = NewType("BigInt", int)


def _parse_bigint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("BigInt must be an integer or a decimal string")
    number = int(str(value).strip(), 10)
    if not -(2**63) <= number < 2**63:
        raise ValueError("BigInt out of 64-bit range")
    return number


SCALAR_MAP: dict[object, Any] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="A 64-bit integer (byte counts); serialised as a JSON number, accepted as a number or string.",
        serialize=int,
        parse_value=_parse_bigint,
    ),
}
