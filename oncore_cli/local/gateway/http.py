"""uvicorn's httptools protocol with a response's writes coalesced: uvicorn writes the status line and headers,
then the body, each with its own send; on loopback each send runs the whole TCP receive path and wakes the client.
Writes made in one event-loop iteration leave together at the end of it.

It also closes connections whose request headers do not arrive in time (nginx's client_header_timeout): uvicorn
itself only times out idle keep-alive connections, and a byte now and then resets even that.

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
    header_timeout = 10.0  # seconds from connecting (or the last response) to a complete set of request headers
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport))  # type: ignore[arg-type]
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        waiting = bool(self.pipeline)  # a pipelined request's headers are already in
        super().on_response_complete()
        if not waiting and not self.transport.is_closing():
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def protocol_with(header_timeout: float) -> type[CoalescingHttpToolsProtocol]:
    """The protocol class with the gateway's header timeout (uvicorn instantiates the class itself)."""
    return type("GatewayHttpProtocol", (CoalescingHttpToolsProtocol,), {"header_timeout": header_timeout})
