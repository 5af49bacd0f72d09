"""Root query fields, one ``*Query`` class per domain; ``app.graphql.schema`` merges them."""
