"""``qrmint render``: one QR code, offline, with the API's engine and style JSON.

Any refusal (bad argument, invalid style, unreadable file) is one line on stderr,
``qrmint render: error: <message>``, and exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from render import RenderError, parse_request, render

PROG = "qrmint render"


class CommandError(Exception):
    """A user-facing failure of this command; the message is the whole story."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "render",
        help="render one QR code to a file (offline)",
        description="Render one QR code with the same engine and style JSON as the API.",
    )
    parser.add_argument("--data", required=True, metavar="TEXT", help="text or URL to encode")
    parser.add_argument(
        "--format",
        choices=("png", "svg"),
        help="image format (default: svg when OUT ends in .svg, else png)",
    )
    parser.add_argument("--size", type=int, default=512, metavar="PX", help="pixels, 64..4096")
    parser.add_argument(
        "--margin", type=int, default=4, metavar="N", help="quiet zone in modules, 0..16"
    )
    parser.add_argument(
        "--ec", choices=("L", "M", "Q", "H"), default="M", help="error correction level"
    )
    parser.add_argument("--style", metavar="FILE.json", help="the API's style object as JSON")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="file; - = stdout")


def run(args: argparse.Namespace) -> int:
    try:
        _render_to(args)
    except CommandError as exc:
        return _fail(str(exc))
    except RenderError as exc:
        return _fail(_describe(exc))
    except Exception as exc:  # the no-traceback rule covers our own bugs too
        print(f"{PROG}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def _render_to(args: argparse.Namespace) -> None:
    output: str = args.output
    fmt = args.format or ("svg" if output.lower().endswith(".svg") else "png")
    style = _read_style(args.style) if args.style else None
    request = parse_request(args.data, fmt, args.size, args.margin, args.ec, style)
    _write(output, render(request).content)


def _read_style(path: str) -> object:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read style file {path}: {_reason(exc)}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"style file {path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise CommandError(f"style file {path} is nested too deeply to be a style") from None


def _write(output: str, content: bytes) -> None:
    try:
        if output == "-":
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
        else:
            Path(output).write_bytes(content)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _describe(exc: RenderError) -> str:
    if len(exc.details) > 1:
        return " ".join(issue.message for issue in exc.details)
    return exc.message


def _fail(message: str) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return 2
