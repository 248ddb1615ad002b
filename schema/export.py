"""Print the SDL into schema/schema.graphql: `python -m schema.export` (or `--check`)."""

from __future__ import annotations

import sys
from pathlib import Path

from strawberry.printer import print_schema

from schema.root import schema

SDL_PATH = Path(__file__).with_name("schema.graphql")


def sdl() -> str:
    return print_schema(schema) + "\n"


def main(argv: list[str]) -> int:
    if "--check" in argv:
        if SDL_PATH.read_text() != sdl():
            print(f"{SDL_PATH} is out of date; run: python -m schema.export", file=sys.stderr)
            return 1
        return 0
    SDL_PATH.write_text(sdl())
    print(f"wrote {SDL_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
