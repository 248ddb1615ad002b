"""The child side of `render.svg_sandbox`: rasterizes SVG text with resvg, one request at a
time, under an address-space limit it sets on itself before reading anything.

Run as a script (``python -I svg_worker.py LIMIT_BYTES``), never imported: it loads only
the standard library and resvg, so it starts fast and its footprint is the logo's alone.
It writes one byte when ready. Request: side (uint32), length (uint32), UTF-8 SVG.
Answer: status (uint8: 0 PNG follows, 1 resvg refused the document), length (uint32), payload.
"""

from __future__ import annotations

import os
import resource
import struct
import sys

REQUEST = struct.Struct("!II")
ANSWER = struct.Struct("!BI")
READY = b"R"


def serve(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Below the server in the scheduler: on a small machine, drawing logos must not take
    # the CPU the event loop needs for redirects.
    os.nice(10)
    import resvg_py  # after the limit: even its own start-up counts

    source, sink = sys.stdin.buffer, sys.stdout.buffer
    sink.write(READY)  # start-up is over: from here on, CPU time is the logos' own
    sink.flush()
    while True:
        head = source.read(REQUEST.size)
        if len(head) < REQUEST.size:
            return
        side, length = REQUEST.unpack(head)
        text = source.read(length).decode("utf-8", "replace")
        try:
            status, payload = (
                0,
                bytes(
                    resvg_py.svg_to_bytes(
                        svg_string=text, width=side, height=side, skip_system_fonts=True
                    )
                ),
            )
        except (ValueError, RuntimeError) as exc:
            status, payload = 1, str(exc).encode("utf-8", "replace")[:300]
        sink.write(ANSWER.pack(status, len(payload)) + payload)
        sink.flush()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
