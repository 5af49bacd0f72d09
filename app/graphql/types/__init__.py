"""GraphQL object types, one module per domain; each has ``from_model()``."""
