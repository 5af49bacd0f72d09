"""Field-name suggestions ("Did you mean 'password'?") are a map of the schema: hidden in production,
where introspection is off too (``RecapOperation(hide_suggestions=True)``).

    error = without_suggestion(error)   # "Cannot query field 'pasword' on type 'User'."
"""

from __future__ import annotations

import re

from graphql import GraphQLError

_SUGGESTION = re.compile(r" Did you mean .*?\?(?= |$)", re.DOTALL)


def without_suggestion(error: GraphQLError) -> GraphQLError:
    """``error`` without graphql-core's " Did you mean ...?" parts (the same error when it has none)."""
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, original_error=error.original_error, extensions=error.extensions)
