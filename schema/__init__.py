"""The GraphQL surface (CONTRACT §8): types, roots, context, error mapping and the endpoint.

Resolvers only translate between GraphQL values and the `core` services; decisions live there.
`schema.app.graphql_routes(services)` is what the API application mounts.
"""
