"""uvicorn's httptools protocol with a response's writes coalesced: uvicorn writes the status line and headers,
then the body, each with its own send; on loopback each send runs the whole TCP receive path and wakes the client.
Writes made in one event-loop iteration leave together at the end of it.

A WebSocket upgrade keeps the wrapper (uvicorn hands the same transport to its WebSocket protocol): Realtime's
fan-out writes many frames per connection in one iteration, and they leave in one write too."""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_DIRECT_BYTES = 64 * 1024   # large writes go straight out (after what is pending): no extra copy of big bodies


class CoalescingTransport:
    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if len(data) >= _DIRECT_BYTES:
            self.flush()
            self._transport.write(data)
            return
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str):
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport))  # type: ignore[arg-type]
