"""The qrmint command and the process compositions (serve, api, redirector, worker)."""
