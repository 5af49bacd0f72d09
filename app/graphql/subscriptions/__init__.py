"""Root subscription fields, one ``*Subscription`` class per domain (the runners' job progress lands here).

Add a module with ``@strawberry.type class JobSubscription`` and list it in ``app.graphql.schema.SUBSCRIPTIONS``.
"""
