"""Root mutation fields: one mutation per module, each a ``*Mutation`` class; ``app.graphql.schema`` merges them."""
