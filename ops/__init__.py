"""What an operator sees of every process: logs, request ids, metrics, readiness, pages.

Imported by the surfaces (api, schema, redirector) and by the composition root (qrmint);
imports nothing of theirs.
"""
