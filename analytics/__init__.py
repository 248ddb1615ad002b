"""Scan analytics: enrichment, the ClickHouse scan store, its writer and the stats queries.

Used by the surfaces (api, schema, redirector); imports only `core`, never a surface.
"""
