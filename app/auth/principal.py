"""Who is calling: the user, the tenant the token is scoped to, and the role there.

    principal = decode_access_token(token)
    principal.require(Role.EDITOR)          # raises PermissionDeniedError for a viewer
    async with tenant_tx(principal.tenant_id): ...
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.errors import PermissionDeniedError
from app.models.enums import ROLE_RANK, Role

#: The user id of :meth:`Principal.operator` (no account; audit events record no actor).
OPERATOR_ID = UUID(int=0)


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: UUID
    tenant_id: UUID
    role: Role
    is_platform_admin: bool = False

    @classmethod
    def operator(cls) -> Principal:
        """The operator at the server's console (``recap admin``): platform powers, no account, no tenant."""
        return cls(user_id=OPERATOR_ID, tenant_id=OPERATOR_ID, role=Role.VIEWER, is_platform_admin=True)

    @property
    def actor_id(self) -> UUID | None:
        """The user id to record in audit events (None for the operator)."""
        return None if self.user_id == OPERATOR_ID else self.user_id

    def has_role(self, minimum: Role) -> bool:
        """True when this principal's role ranks at least ``minimum`` in its tenant."""
        return ROLE_RANK[self.role] >= ROLE_RANK[minimum]

    def require(self, minimum: Role) -> None:
        """Raise PermissionDeniedError unless the role ranks at least ``minimum``."""
        if not self.has_role(minimum):
            raise PermissionDeniedError(f"requires the {minimum.value} role or higher (you are {self.role.value})")
