"""Static GraphQL cost analysis: the worst-case work of an operation, computed from the document before
anything runs, refused past ``max_cost`` (COST_LIMIT_EXCEEDED) and charged to the tenant's per-minute
cost budget (RATE_LIMITED with ``retryAfter``, HTTP 429).

The rule (documented in docs/api.md, "Cost"):

- a scalar or enum field costs 0;
- an object field costs its weight (1; see ``WEIGHTS``) plus the cost of its selection;
- a list of objects, or any field taking ``first``/``last``, costs
  ``weight + n * (1 + cost of its selection)``, ``n`` being ``first``/``last`` (the argument's
  default when omitted, capped at the page maximum) or ``default_list_size`` for other lists;
- connection plumbing (``edges``, ``node``, ``nodes``, ``pageInfo``) weighs 0 and does not multiply.

    cost = operation_cost(schema._schema, document, None, variables, list_size=10)
    extensions.append(lambda: CostLimit(settings.ratelimit))
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_leaf_type,
    is_list_type,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from app.config import RateLimitSettings
from app.errors import AppError, RateLimitedError
from app.ratelimit.plans import tier_of
from app.services.paging import MAX_PAGE

COST_LIMIT_EXCEEDED = "COST_LIMIT_EXCEEDED"
PLUMBING = frozenset({"edges", "node", "nodes", "pageInfo"})
#: Fields that weigh more than 1: every mutation writes; password hashing and renders cost more.
WEIGHTS: dict[tuple[str, str], int] = {
    ("Mutation", "*"): 10,
    ("Mutation", "register"): 20, ("Mutation", "login"): 20, ("Mutation", "refreshToken"): 20,
    ("Mutation", "startRender"): 20,
    ("Query", "__schema"): 50,
}


class _Walker:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode],
                 variables: Mapping[str, Any], list_size: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.list_size = list_size

    def selection(self, node: SelectionSetNode | None, parent: Any, seen: frozenset[str]) -> int:
        if node is None or not is_composite_type(parent):
            return 0
        total = 0
        for sel in node.selections:
            if isinstance(sel, FieldNode):
                total += self.field(sel, parent, seen)
            elif isinstance(sel, InlineFragmentNode):
                cond = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                total += self.selection(sel.selection_set, cond, seen)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:  # cycles are refused by validation; never loop here
                    continue
                cond = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selection(fragment.selection_set, cond, seen | {name})
        return total

    def field(self, node: FieldNode, parent: Any, seen: frozenset[str]) -> int:
        name = node.name.value
        if name in ("__schema", "__type"):
            return WEIGHTS[("Query", "__schema")]
        definition: GraphQLField | None = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(name)
        if definition is None:
            return 0  # __typename, or an unknown field (validation refuses it)
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        child = self.selection(node.selection_set, named, seen)
        plumbing = name in PLUMBING
        weight = 0 if plumbing else WEIGHTS.get((parent.name, name), WEIGHTS.get((parent.name, "*"), 1))
        count = self.count(node, definition)
        if count is None:
            if plumbing or not is_list_type(get_nullable_type(definition.type)):
                return weight + child
            count = self.list_size
        return weight + count * (1 + child)

    def count(self, node: FieldNode, definition: GraphQLField) -> int | None:
        """``first``/``last`` of the field (given, from a variable, or its default), capped at MAX_PAGE."""
        for arg_name in ("first", "last"):
            if arg_name not in definition.args:
                continue
            value: Any = definition.args[arg_name].default_value
            for arg in node.arguments or ():
                if arg.name.value != arg_name:
                    continue
                if isinstance(arg.value, IntValueNode):
                    value = int(arg.value.value)
                elif isinstance(arg.value, VariableNode):
                    value = self.variables.get(arg.value.name.value, value)
            if not isinstance(value, int) or isinstance(value, bool):
                value = self.list_size
            return max(0, min(int(value), MAX_PAGE))
        return None


def operation_cost(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
                   variables: Mapping[str, Any] | None, *, list_size: int) -> int:
    """The static cost of the chosen operation of ``document`` (0 when there is none)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walker = _Walker(schema, fragments, variables if isinstance(variables, Mapping) else {}, list_size)
    return walker.selection(operation.selection_set, root, frozenset())


def _refusal(context: Any) -> GraphQLError | None:
    """Operations the cost cannot be judged for, refused: no operation chosen (several and no
    ``operationName``, or an unknown name; graphql-core would run the first one), or a subscription
    sent over HTTP (it would run as a query)."""
    if get_operation_ast(context.graphql_document, context.operation_name) is None:
        return GraphQLError("send operationName naming one of the document's operations",
                            extensions={"code": "GRAPHQL_VALIDATION_FAILED"})
    request_context = context.context
    if context.operation_type is OperationType.SUBSCRIPTION and not getattr(request_context, "is_websocket", True):
        return GraphQLError("subscriptions are served over the websocket (graphql-transport-ws) only",
                            extensions={"code": "GRAPHQL_VALIDATION_FAILED"})
    return None


class CostLimit(SchemaExtension):
    """Refuses an operation before execution when its cost exceeds ``max_cost`` or the tenant's budget."""

    def __init__(self, settings: RateLimitSettings) -> None:
        self.settings = settings

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        refusal = _refusal(self.execution_context) if document is not None else None
        if refusal is not None:
            context.result = ExecutionResult(data=None, errors=[refusal])
            yield
            return
        if document is None or context.operation_type is OperationType.SUBSCRIPTION:
            yield
            return
        cost = operation_cost(context.schema._schema, document, context.operation_name, context.variables,
                              list_size=self.settings.default_list_size)
        if cost > self.settings.max_cost:
            message = f"query cost {cost} exceeds the maximum of {self.settings.max_cost}"
            context.result = ExecutionResult(data=None, errors=[GraphQLError(message, extensions={
                "code": COST_LIMIT_EXCEEDED, "cost": cost, "maxCost": self.settings.max_cost})])
        else:
            refused = await self._charge(cost)
            if refused is not None:
                context.result = ExecutionResult(data=None, errors=[GraphQLError(
                    refused.message, extensions={**refused.extensions, "cost": cost})])
        yield

    async def _charge(self, cost: int) -> RateLimitedError | None:
        """Take ``cost`` from the caller's tenant budget; the refusal (429 on HTTP) when it is spent."""
        request_context = self.execution_context.context
        request = getattr(request_context, "request", None)
        limiter = request.scope.get("recap.limiter") if request is not None else None
        if limiter is None or not self.settings.enabled:
            return None
        try:  # the token's tenant (verified claims): the membership check runs later, in the resolvers
            principal = request_context.claimed()
        except AppError:
            return None  # anonymous operations (login, register) have their own throttles
        tier = await tier_of(principal.tenant_id, self.settings)
        try:
            await limiter.spend("cost", f"tenant:{principal.tenant_id}", cost=cost, per_minute=tier.cost_per_minute)
        except RateLimitedError as ex:
            response = getattr(request_context, "response", None)
            if response is not None and not getattr(request_context, "is_websocket", False):
                response.status_code = 429
                response.headers["Retry-After"] = str(ex.retry_after)
            return ex
        return None
