"""Timings: where the time of one request went, and how many bytes crossed the wire."""

from __future__ import annotations

__all__ = ["Timings"]


class Timings:
    """``Response.timings``: seconds spent in each phase of one request (one
    response of a redirect chain; each entry of ``r.history`` has its own).

    Phases, in order (each is a duration):

    - ``pool``: waiting for a connection from the pool (0.0 when one was free);
    - ``connect``: opening the TCP connection, name resolution included (and the
      ``CONNECT`` exchange with a proxy); 0.0 on a reused connection;
    - ``tls``: the TLS handshake; 0.0 for ``http://`` or a reused connection;
    - ``send``: writing the request head and body;
    - ``wait``: from the request written to the first byte of the response;
    - ``receive``: from the first byte to the end of the body (None while a
      streamed body is still being read).

    Points in time, counted from the start of the request:

    - ``first_byte``: time to first byte (``pool + connect + tls + send + wait``);
    - ``total``: the whole request, body included (None until the body is read).

    ``bytes_sent`` counts the request as written (head, and body as framed);
    ``bytes_received`` the response as read (every head, 1xx included, and the
    body as framed: chunk-size lines and trailers included).  ``reused`` says
    whether the connection came from the pool.
    """

    __slots__ = (
        "bytes_received",
        "bytes_sent",
        "connect",
        "first_byte",
        "pool",
        "receive",
        "reused",
        "send",
        "start",
        "tls",
        "total",
        "wait",
    )

    def __init__(self, start: float) -> None:
        self.start = start
        """``time.monotonic()`` when the request started (comparable with TraceEvent.time)."""
        self.pool = 0.0
        self.connect = 0.0
        self.tls = 0.0
        self.send = 0.0
        self.wait = 0.0
        self.receive: float | None = None
        self.first_byte = 0.0
        self.total: float | None = None
        self.bytes_sent = 0
        self.bytes_received = 0
        self.reused = False

    def __repr__(self) -> str:
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value * 1000:.3f}ms"

        return (
            f"<Timings pool={ms(self.pool)} connect={ms(self.connect)} tls={ms(self.tls)} "
            f"send={ms(self.send)} wait={ms(self.wait)} receive={ms(self.receive)} "
            f"total={ms(self.total)} sent={self.bytes_sent}B received={self.bytes_received}B"
            f"{' reused' if self.reused else ''}>"
        )
