"""qrmint's shared core: configuration, domain errors, tiers, data model and services.

Surfaces (api, schema, redirector) import from here; nothing here imports a surface.
"""
