"""A small asyncio HTTP/1.1 load generator: keep-alive when the server allows it, bounded in time and count.

No dependency: a few hundred bytes of request per call and a minimal response parser keep the client's
CPU low, which matters when client and server share two cores.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Result:
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=list)  # kept only when asked (intake checks)
    seconds: float = 0.0
    reopened: int = 0  # connections opened again to spread them over the server's processes

    def summary(self) -> dict:
        lat = sorted(self.latencies)

        def pct(p: float) -> float:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2) if lat else 0.0

        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "throughput": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "reopened": self.reopened,
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, close = None, False, False
    for line in lines[1:]:
        name, _sep, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            close = True
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        body = await reader.read()
        close = True
    return status, body, close


Owners = Callable[[list[int]], list[str | None]]


async def _open_spread(host: str, port: int, n: int, workers: int, owners: Owners, tries: int = 300):
    """``n`` connections spread over the server's ``workers`` processes as evenly as they divide.

    Kept-alive connections stay with the process that accepted them, and the kernel places new ones
    by address: 16 connections could split 14/2, and then p95 measured the split instead of the server.
    A connection on a process that holds more than its share is closed and opened again until the
    spread is even (``owners`` says which process holds each connection, by the client's port), as
    many clients coming and going would spread over time. Returns the connections and the reopenings.
    """
    conns = [await asyncio.open_connection(host, port) for _ in range(n)]
    reopened = 0
    for _ in range(tries):
        who = owners([w.get_extra_info("sockname")[1] for _r, w in conns])
        if None in who:  # not accepted yet
            await asyncio.sleep(0.005)
            continue
        counts = Counter(who)
        if len(counts) >= min(workers, n) and max(counts.values()) - min(counts.values()) <= 1:
            break
        busiest = max(counts, key=counts.get)
        i = who.index(busiest)
        conns[i][1].close()
        conns[i] = await asyncio.open_connection(host, port)
        reopened += 1
    return conns, reopened


async def run(
    *,
    host: str,
    port: int,
    make_request: Callable[[int], tuple[str, str, dict, bytes]],
    concurrency: int,
    duration: float,
    max_requests: int,
    ok: Callable[[int], bool] = lambda s: 200 <= s < 300,
    keep_bodies: bool = False,
    spread: tuple[int, Owners] | None = None,
) -> Result:
    """Drive ``concurrency`` clients for at most ``duration`` seconds and ``max_requests`` requests.

    ``spread`` (the server's process count and an ``owners`` function): open the clients' connections
    first, spread evenly over the processes (``_open_spread``)."""
    result = Result()
    opened: list = []
    if spread is not None:
        opened, result.reopened = await _open_spread(host, port, concurrency, *spread)
    counter = iter(range(max_requests))
    deadline = time.monotonic() + duration

    async def client() -> None:
        reader, writer = opened.pop() if opened else (None, None)
        for i in counter:
            if time.monotonic() >= deadline:
                break
            method, path, headers, body = make_request(i)
            hdrs = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            raw = (
                f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{hdrs}Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            t0 = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(raw)
                status, data, close = await asyncio.wait_for(_read_response(reader), 30)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                result.requests += 1
                result.errors += 1
                result.latencies.append(time.perf_counter() - t0)
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            result.latencies.append(time.perf_counter() - t0)
            result.requests += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if not ok(status):
                result.errors += 1
            if keep_bodies:
                result.bodies.append(data)
            if close:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    t0 = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.seconds = time.monotonic() - t0
    return result
