"""The API surface: REST routes and the mounted GraphQL app, in one Starlette application."""
