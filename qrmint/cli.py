"""`qrmint` command line: argument parsing and the one-line error rule.

Every user-facing failure is one line on stderr and exit status 2; no tracebacks.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import NoReturn

from analytics.store import ScanStoreError
from core.config import ConfigError
from core.errors import DomainError
from core.tiers import TIER_NAMES
from qrmint import commands, render_command


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qrmint", description="Branded static and dynamic QR codes.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = sub.add_parser("serve", help="API, redirector and workers in one process")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--api-port", type=int, default=8000)
    serve.add_argument("--redirect-port", type=int, default=8080)
    for name, port, text in (
        ("api", 8000, "the API alone"),
        ("redirector", 8080, "the redirector alone"),
    ):
        part = sub.add_parser(name, help=text)
        part.add_argument("--host", default="127.0.0.1")
        part.add_argument("--port", type=int, default=port)
    sub.add_parser("worker", help="webhook delivery (retries, purging) for the split shape")
    sub.add_parser("migrate", help="create or upgrade the relational and ClickHouse schema")
    _add_keys(sub)
    render_command.add_parser(sub)
    return parser


def _add_keys(sub: argparse._SubParsersAction[_Parser]) -> None:
    keys = sub.add_parser("keys", help="manage accounts and API keys")
    actions = keys.add_subparsers(dest="action", required=True, parser_class=_Parser)
    create = actions.add_parser("create", help="create an account and its API key")
    create.add_argument("--tier", required=True, choices=TIER_NAMES)
    create.add_argument("--name")
    actions.add_parser("list", help="list keys")
    revoke = actions.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("id")
    set_tier = actions.add_parser("set-tier", help="change the tier of a key's account")
    set_tier.add_argument("id")
    set_tier.add_argument("tier", choices=TIER_NAMES)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "render":
        return render_command.run(args)
    try:
        return asyncio.run(commands.dispatch(args))
    except (ConfigError, DomainError, ScanStoreError) as exc:
        print(f"qrmint {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # Refused connections to the database or Redis, ports in use, unwritable paths.
        print(f"qrmint {args.command}: error: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
