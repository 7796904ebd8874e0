"""Serve the raw baseline with N uvicorn worker processes on one listening socket.

``uvicorn --workers N`` binds its listener with ``proto`` 0; accepted sockets inherit it and asyncio
then leaves Nagle's algorithm on (it sets TCP_NODELAY only for ``proto == IPPROTO_TCP``), so every
keep-alive request after the first waits ~40 ms for the client's delayed ACK (uvicorn issue #3149).
That capped the baseline near 360 req/s at 16 clients whatever the SQL cost. Here the listener is
created with ``IPPROTO_TCP`` and forked to the workers, each a plain ``uvicorn.Server``.

``python -m benchmarks.raw_serve PORT WORKERS`` (``BENCH_DB`` as for ``raw_app``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys

import uvicorn


def main() -> None:
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    sock.set_inheritable(True)
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            config = uvicorn.Config("benchmarks.raw_app:app", log_level="warning", access_log=False)
            uvicorn.Server(config).run(sockets=[sock])
            os._exit(0)
        children.append(pid)

    def stop(_sig, _frame):
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
