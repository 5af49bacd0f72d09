"""The GraphQL schema, merged from per-domain Query / Mutation / Subscription classes.

To add a domain: write ``queries/<domain>.py`` (a ``*Query`` class), one ``mutations/<verb>.py`` per mutation
(a ``*Mutation`` class) and/or ``subscriptions/<domain>.py``, then add ONE import line and ONE tuple entry
below. ``schema`` (module level, default limits) is what ``recap export-schema`` prints; the served app
builds its own with the deployment's limits via ``build_schema(settings)``.

    from app.graphql.schema import build_schema, schema
    print(strawberry.printer.print_schema(schema))
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from app.config import GraphQLSettings, RateLimitSettings
from app.errors import AppError
from app.graphql.dataloaders import start_operation_loaders
from app.graphql.errors import ALL_ERROR_TYPES
from app.graphql.limits import cache_extensions, label_errors, limit_rules
from app.graphql.mutations.accept_invitation import AcceptInvitationMutation
from app.graphql.mutations.add_member import AddMemberMutation
from app.graphql.mutations.change_role import ChangeRoleMutation
from app.graphql.mutations.create_project import CreateProjectMutation
from app.graphql.mutations.create_tenant import CreateTenantMutation
from app.graphql.mutations.data import DATA_MUTATIONS
from app.graphql.mutations.delete_project import DeleteProjectMutation
from app.graphql.mutations.login import LoginMutation
from app.graphql.mutations.logout import LogoutMutation
from app.graphql.mutations.prepare_upload import PrepareUploadMutation
from app.graphql.mutations.refresh_token import RefreshTokenMutation
from app.graphql.mutations.register import RegisterMutation
from app.graphql.mutations.remove_member import RemoveMemberMutation
from app.graphql.mutations.render import RenderMutation
from app.graphql.mutations.revoke_invitation import RevokeInvitationMutation
from app.graphql.mutations.set_budget import SetBudgetMutation
from app.graphql.mutations.set_quota_policy import SetQuotaPolicyMutation
from app.graphql.mutations.set_tenant_plan import SetTenantPlanMutation
from app.graphql.mutations.switch_tenant import SwitchTenantMutation
from app.graphql.mutations.update_project import UpdateProjectMutation
from app.graphql.queries.auth import AuthQuery
from app.graphql.queries.governance import GovernanceQuery
from app.graphql.queries.jobs import JobQuery
from app.graphql.queries.projects import ProjectQuery
from app.graphql.queries.quota import QuotaQuery
from app.graphql.queries.render import RenderQuery
from app.graphql.queries.tenants import TenantQuery
from app.graphql.queries.usage import UsageQuery
from app.graphql.subscriptions.jobs import JobSubscription
from app.graphql.suggestions import without_suggestion
from app.graphql.types.scalars import SCALAR_MAP
from app.ratelimit.cost import CostLimit
from app.unavailable import is_unavailable

logger = logging.getLogger("recap.graphql")

QUERIES: tuple[type, ...] = (AuthQuery, TenantQuery, ProjectQuery, JobQuery, QuotaQuery, RenderQuery,
                             GovernanceQuery, UsageQuery)
MUTATIONS: tuple[type, ...] = (
    RegisterMutation, LoginMutation, RefreshTokenMutation, LogoutMutation, SwitchTenantMutation,
    CreateTenantMutation, AddMemberMutation, AcceptInvitationMutation, RevokeInvitationMutation,
    ChangeRoleMutation, RemoveMemberMutation,
    CreateProjectMutation, UpdateProjectMutation, DeleteProjectMutation, SetQuotaPolicyMutation, SetTenantPlanMutation,
    SetBudgetMutation,
    RenderMutation,
    PrepareUploadMutation,
    *DATA_MUTATIONS,
)
SUBSCRIPTIONS: tuple[type, ...] = (JobSubscription,)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)
Subscription = merge_types("Subscription", SUBSCRIPTIONS) if SUBSCRIPTIONS else None


#: Raised when PostgreSQL or Redis cannot be reached: the client gets ``UNAVAILABLE`` and may retry.
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable (a database or queue is not reachable); retry shortly."


def should_mask(error: GraphQLError) -> bool:
    """Mask unexpected resolver exceptions (and report them); keep AppErrors and request errors visible."""
    original = error.original_error
    if original is None or isinstance(original, AppError) or error.path is None:
        return False
    if is_unavailable(original):
        logger.warning("resolving %s: a backing service is unavailable: %s: %s", ".".join(map(str, error.path)),
                       type(original).__name__, original)
        return True
    logger.error("unexpected error resolving %s", ".".join(map(str, error.path)), exc_info=original)
    try:
        import sentry_sdk

        sentry_sdk.capture_exception(original)
    except ImportError:  # pragma: no cover - sentry-sdk is a dependency
        pass
    return True


class RecapOperation(MaskErrors):
    """Everything per operation in one extension (fewer hooks per request): the token limit, the depth and
    alias rules, fresh DataLoaders, masking of unexpected errors (``should_mask``) and, in production, no
    field suggestions in error messages."""

    def __init__(self, gql: GraphQLSettings, rules: tuple[Any, ...], *, hide_suggestions: bool = False) -> None:
        super().__init__(should_mask_error=should_mask, error_message="Unexpected error.")
        self._max_tokens = gql.max_tokens
        self._rules = rules
        self._hide_suggestions = hide_suggestions

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        return [without_suggestion(e) for e in processed] if self._hide_suggestions else processed

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if is_unavailable(error.original_error):
            return GraphQLError(UNAVAILABLE_MESSAGE, nodes=error.nodes, source=error.source,
                                positions=error.positions, path=error.path, extensions={"code": "UNAVAILABLE"})
        return super().anonymise_error(error)

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self._max_tokens
        context.validation_rules = (*context.validation_rules, *self._rules)
        start_operation_loaders()
        yield from super().on_operation()


class RecapSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Strawberry logs every error at ERROR; ours are expected or already reported by ``should_mask``.
        Here every error gets its stable code (syntax errors never reach the extensions' exit hooks)."""
        del execution_context
        label_errors(errors)


def build_schema(gql: GraphQLSettings | None = None, *, production: bool = False,
                 ratelimit: RateLimitSettings | None = None) -> RecapSchema:
    """A schema enforcing ``gql``'s limits and ``ratelimit``'s cost limits (introspection off when ``production``)."""
    limits = gql or GraphQLSettings()
    rules = limit_rules(limits)
    costs = ratelimit or RateLimitSettings()
    extensions: list[Any] = [*cache_extensions(production=production),
                             lambda: RecapOperation(limits, rules, hide_suggestions=production),
                             lambda: CostLimit(costs)]
    return RecapSchema(query=Query, mutation=Mutation, subscription=Subscription, types=list(ALL_ERROR_TYPES),
                       extensions=extensions, config=StrawberryConfig(scalar_map=SCALAR_MAP))


@lru_cache(maxsize=4)
def cached_schema(gql: GraphQLSettings, production: bool) -> RecapSchema:
    return build_schema(gql, production=production)


schema = build_schema()
