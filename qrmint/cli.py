"""`qrmint` command line: argument parsing and the one-line error rule.

Every user-facing failure is one line on stderr and exit status 2; no tracebacks.
Settings are loaded and logging configured here, once, before any command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NoReturn

from analytics.store import ScanStoreError
from core.config import ConfigError, load_settings
from core.errors import DomainError
from core.tiers import TIER_NAMES
from ops.logs import configure_logging
from ops.metrics import check_environment
from qrmint import commands, render_command
from qrmint.servers import ListenError

HOST_HELP = "interface to listen on (0.0.0.0 for every interface)"


class _Help(argparse.HelpFormatter):
    """Every option's help ends with its default, when it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if default in (None, False, argparse.SUPPRESS) or "%(default)" in text:
            return text
        if action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def qrmint_version() -> str:
    try:
        return version("qrmint")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="qrmint",
        description="Branded static and dynamic QR codes, with scan analytics and webhooks. "
        "Configuration comes from QRMINT_* environment variables (and ./.env); "
        "see docs/configuration.md.",
    )
    parser.add_argument("--version", action="version", version=f"qrmint {qrmint_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = sub.add_parser(
        "serve",
        help="API, redirector and workers in one process (the embedded default)",
        description="API, redirector and background workers in one process. Migrates on "
        "start. Without QRMINT_REDIRECT_BASE_URL, short links use --host and --redirect-port.",
    )
    serve.add_argument("--host", default="127.0.0.1", help=HOST_HELP)
    serve.add_argument("--api-port", type=int, default=8000, help="port of the API and GraphQL")
    serve.add_argument("--redirect-port", type=int, default=8080, help="port of the short links")
    for name, port, text in (
        ("api", 8000, "the API (REST and GraphQL) alone, for production"),
        ("redirector", 8080, "the redirector (short links) alone, for production"),
    ):
        part = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        part.add_argument("--host", default="127.0.0.1", help=HOST_HELP)
        part.add_argument("--port", type=int, default=port, help="port to listen on")
    worker = sub.add_parser(
        "worker",
        help="webhook delivery (retries, purging) for the split shape",
        description="Webhook delivery. With --port it also serves /metrics and /readyz.",
    )
    worker.add_argument("--host", default="127.0.0.1", help=HOST_HELP)
    worker.add_argument("--port", type=int, help="serve /metrics and /readyz on this port")
    sub.add_parser(
        "migrate",
        help="create or upgrade the relational and ClickHouse schema",
        description="Create or upgrade the relational schema and the ClickHouse tables. "
        "Idempotent.",
    )
    _add_keys(sub)
    render_command.add_parser(sub)
    return parser


def _add_keys(sub: argparse._SubParsersAction[_Parser]) -> None:
    keys = sub.add_parser("keys", help="manage accounts and API keys")
    actions = keys.add_subparsers(dest="action", required=True, parser_class=_Parser)
    create = actions.add_parser(
        "create",
        help="create an account and its API key",
        description="Create an account and its API key; the key alone is the last line.",
    )
    create.add_argument("--tier", required=True, choices=TIER_NAMES, help="the account's tier")
    create.add_argument("--name", help="a label for the account")
    listing = actions.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--json", action="store_true", help="print a JSON array instead")
    revoke = actions.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("id", help="the key id (key_…), as `keys list` shows it")
    set_tier = actions.add_parser("set-tier", help="change the tier of a key's account")
    set_tier.add_argument("id", help="the key id (key_…), as `keys list` shows it")
    set_tier.add_argument("tier", choices=TIER_NAMES, help="the new tier")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "render":
        return render_command.run(args)
    try:
        settings = load_settings()
        check_environment()
        configure_logging(settings.log_format, settings.log_level)
        return asyncio.run(commands.dispatch(args, settings))
    except (ConfigError, DomainError, ScanStoreError, ListenError) as exc:
        print(f"qrmint {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # Refused connections to the database or Redis, unwritable paths.
        print(f"qrmint {args.command}: error: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
