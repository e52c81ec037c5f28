"""Requests through an HTTP proxy: ``Session(proxy=..., no_proxy=...)``.

Starts an origin server and a tiny forwarding proxy on 127.0.0.1 that demands
``Proxy-Authorization``, then shows:

1. an http:// URL through the proxy: rawhttp sends the absolute-form request
   line and the proxy credentials to the proxy; the origin gets an origin-form
   request without them;
2. a wrong password: for http:// the proxy's 407 is just the response;
3. for https:// the proxy refuses the ``CONNECT`` tunnel: ``rawhttp.ProxyError``
   with ``.status`` 407 (no TLS server is needed to see that);
4. ``no_proxy="127.0.0.1"``: the same URL is fetched directly.

``trust_env=False`` keeps any http_proxy/no_proxy of your environment out of it.

    python examples/proxy.py
"""

from __future__ import annotations

import asyncio
import base64
import contextlib

import rawhttp

SECRET = "Basic " + base64.b64encode(b"user:pass").decode()
DENIED = (
    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
    b'Proxy-Authenticate: Basic realm="demo"\r\nContent-Length: 0\r\n\r\n'
)
PROXY_SAW: list[str] = []
ORIGIN_SAW: list[str] = []
TLS_ORIGIN_SAW: list[bytes] = []


async def origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The origin server: notes each request head and answers "hello"."""
    with contextlib.suppress(asyncio.IncompleteReadError):
        while head := await reader.readuntil(b"\r\n\r\n"):
            ORIGIN_SAW.append(head.decode("latin-1"))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            if b"\r\nConnection: close\r\n" in head:
                break
    writer.close()


async def tls_origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Stands in for an https server: notes the first bytes and hangs up (no TLS here)."""
    TLS_ORIGIN_SAW.append(await reader.read(1))
    writer.close()


# --- A DEMO proxy: no request bodies, no keep-alive to the origin, loopback only. ---
async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        while head := await reader.readuntil(b"\r\n\r\n"):
            request_line, *lines = head.decode("latin-1").split("\r\n")
            PROXY_SAW.append(request_line)
            method, target, _ = request_line.split(" ")
            if f"Proxy-Authorization: {SECRET}" not in lines:
                writer.write(DENIED)
                continue
            if method == "CONNECT":  # target is host:port: open a tunnel, relay bytes
                host, port = target.rsplit(":", 1)
                up_reader, up_writer = await asyncio.open_connection(host, int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await asyncio.gather(relay(reader, up_writer), relay(up_reader, writer))
                return
            # target is absolute: http://host:port/path -> forward it in origin-form.
            host, _, path = target.removeprefix("http://").partition("/")
            kept = [line for line in lines if line and not line.startswith("Proxy-")]
            origin_host, origin_port = host.rsplit(":", 1)
            up_reader, up_writer = await asyncio.open_connection(origin_host, int(origin_port))
            up_writer.write(f"{method} /{path} HTTP/1.1\r\n".encode("latin-1"))
            up_writer.write("\r\n".join([*kept, "Connection: close", "", ""]).encode("latin-1"))
            writer.write(await up_reader.read())  # the whole response, until the origin closes
            up_writer.close()
    writer.close()


async def relay(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    sink.close()


async def main() -> None:
    origin_server = await asyncio.start_server(origin, "127.0.0.1", 0)
    proxy_server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    origin_at = f"127.0.0.1:{origin_server.sockets[0].getsockname()[1]}"
    url = f"http://{origin_at}/hello"
    proxy_at = f"127.0.0.1:{proxy_server.sockets[0].getsockname()[1]}"
    good_proxy = f"http://user:pass@{proxy_at}"
    async with origin_server, proxy_server:
        async with rawhttp.Session(proxy=good_proxy, trust_env=False) as s:
            r = await s.get(url)
        print("via proxy:", r.status, r.text)
        print("  proxy saw absolute form:", PROXY_SAW[-1] == f"GET {url} HTTP/1.1")
        print("  origin saw:", ORIGIN_SAW[-1].split("\r\n")[0])
        print("  Proxy-Authorization reached the origin:", "Proxy-" in ORIGIN_SAW[-1])

        async with rawhttp.Session(proxy=f"http://user:wrong@{proxy_at}", trust_env=False) as s:
            r = await s.get(url)
            print("wrong password, http URL:", r.status, r.reason)
            try:
                await s.get(url.replace("http://", "https://"))
            except rawhttp.ProxyError as exc:
                print("wrong password, https URL: ProxyError, status", exc.status)
                message = str(exc).replace(proxy_at, "PROXY").replace(origin_at, "ORIGIN")
                print("  message:", message)  # names the proxy, never its credentials

        # Right password, https: the proxy opens the tunnel and relays the TLS handshake
        # to the origin (which speaks no TLS in this demo: the handshake fails).
        tls_server = await asyncio.start_server(tls_origin, "127.0.0.1", 0)
        tls_at = f"127.0.0.1:{tls_server.sockets[0].getsockname()[1]}"
        async with tls_server, rawhttp.Session(proxy=good_proxy, trust_env=False) as s:
            with contextlib.suppress(rawhttp.ConnectError):
                await s.get(f"https://{tls_at}/")
        print("right password, https URL: tunnel:", PROXY_SAW[-1] == f"CONNECT {tls_at} HTTP/1.1")
        print("  the TLS handshake reached the origin:", TLS_ORIGIN_SAW == [b"\x16"])

        seen = len(PROXY_SAW)
        async with rawhttp.Session(proxy=good_proxy, no_proxy="127.0.0.1", trust_env=False) as s:
            r = await s.get(url)
        print("no_proxy=127.0.0.1:", r.status, r.text, "| proxy used:", len(PROXY_SAW) > seen)
        await handlers_finished()


async def handlers_finished() -> None:
    """Wait until the servers' connection handlers ended (on Python 3.11 closing a
    server does not wait for them): every task but this one."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    await asyncio.wait_for(asyncio.gather(*others), timeout=5)


if __name__ == "__main__":
    asyncio.run(main())
