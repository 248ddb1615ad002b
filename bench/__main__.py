"""`make bench`: every benchmark, one after the other, each against its baseline in the
same run. `python -m bench render api` runs only the named ones."""

from __future__ import annotations

import importlib
import sys
import time

ALL = ("render", "api", "redirect", "hostile", "analytics", "webhooks", "links")


def main(names: list[str]) -> None:
    for name in names or ALL:
        if name not in ALL:
            raise SystemExit(f"bench: unknown benchmark {name!r}; expected one of {', '.join(ALL)}")
        started = time.monotonic()
        print(f"\n=== bench.{name}", flush=True)
        importlib.import_module(f"bench.{name}").run()
        print(f"=== bench.{name} took {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
