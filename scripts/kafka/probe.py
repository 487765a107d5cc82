#!/usr/bin/env python3
"""Kafka readiness probe: ask a broker for cluster metadata (python3 stdlib only).

    python3 scripts/kafka/probe.py [HOST:PORT] [--timeout SECONDS] [--quiet]

Sends ApiVersions (v0, which every broker answers) to learn the Metadata versions the
broker speaks, then a Metadata request for all topics. Exits 0 and prints
"cluster_id=... brokers=[1@127.0.0.1:59092] controller=1 topics=N" when the broker
answers with at least one live broker; exits 1 (with the reason on stderr) otherwise.
Only one round trip each, so a probe takes a few milliseconds once the broker listens.
"""

from __future__ import annotations

import socket
import struct
import sys

API_METADATA = 3
API_VERSIONS = 18
CLIENT_ID = b"assurehub-probe"


class Reader:
    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.buf):
            raise ValueError("truncated response")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def i16(self) -> int:
        return struct.unpack(">h", self.take(2))[0]

    def i32(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def uvarint(self) -> int:
        shift = value = 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7

    def string(self) -> str | None:  # STRING / NULLABLE_STRING
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def cstring(self) -> str | None:  # COMPACT_(NULLABLE_)STRING
        n = self.uvarint() - 1
        return None if n < 0 else self.take(n).decode()

    def array_len(self) -> int:
        return self.i32()

    def carray_len(self) -> int:
        return self.uvarint() - 1

    def skip_tags(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()  # tag
            self.take(self.uvarint())


def header(api_key: int, version: int, corr: int, flexible: bool) -> bytes:
    h = struct.pack(">hhih", api_key, version, corr, len(CLIENT_ID)) + CLIENT_ID
    return h + (
        b"\x00" if flexible else b""
    )  # request header v2 has (empty) tagged fields


def roundtrip(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    return recv_exact(sock, size)


def recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            raise ConnectionError("connection closed by broker")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def metadata_versions(sock: socket.socket) -> tuple[int, int]:
    r = Reader(roundtrip(sock, header(API_VERSIONS, 0, 1, False)))
    r.i32()  # correlation id
    err = r.i16()
    if err != 0:
        raise RuntimeError(f"ApiVersions error_code={err}")
    for _ in range(r.array_len()):
        key, lo, hi = r.i16(), r.i16(), r.i16()
        if key == API_METADATA:
            return lo, hi
    raise RuntimeError("broker does not support Metadata")


def metadata(sock: socket.socket, v: int) -> str:
    flexible = v >= 9
    body = b""
    if flexible:
        body += b"\x00"  # topics: null compact array = all topics
    else:
        body += struct.pack(">i", -1)  # topics: null array = all topics
    if v >= 4:
        body += b"\x00"  # allow_auto_topic_creation = false
    if 8 <= v <= 10:
        body += b"\x00"  # include_cluster_authorized_operations
    if v >= 8:
        body += b"\x00"  # include_topic_authorized_operations
    if flexible:
        body += b"\x00"  # tagged fields
    r = Reader(roundtrip(sock, header(API_METADATA, v, 2, flexible) + body))
    r.i32()  # correlation id
    if flexible:
        r.skip_tags()  # response header v1
    if v >= 3:
        r.i32()  # throttle_time_ms
    brokers = []
    n = r.carray_len() if flexible else r.array_len()
    for _ in range(n):
        node = r.i32()
        host = r.cstring() if flexible else r.string()
        port = r.i32()
        if v >= 1:
            r.cstring() if flexible else r.string()  # rack
        if flexible:
            r.skip_tags()
        brokers.append(f"{node}@{host}:{port}")
    cluster_id = None
    if v >= 2:
        cluster_id = r.cstring() if flexible else r.string()
    controller = r.i32() if v >= 1 else -1
    topics = r.carray_len() if flexible else r.array_len()
    if not brokers:
        raise RuntimeError("metadata response lists no live broker yet")
    return (
        f"cluster_id={cluster_id} brokers=[{','.join(brokers)}]"
        f" controller={controller} topics={topics}"
    )


def main(argv: list[str]) -> int:
    target, timeout, quiet = "127.0.0.1:9092", 2.0, False
    args = iter(argv)
    for a in args:
        if a == "--timeout":
            timeout = float(next(args))
        elif a == "--quiet":
            quiet = True
        else:
            target = a
    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            sock.settimeout(timeout)
            lo, hi = metadata_versions(sock)
            v = min(hi, 12)
            if v < lo:
                raise RuntimeError(
                    f"broker needs Metadata >= v{lo}, probe speaks <= v12"
                )
            info = metadata(sock, v)
    except (OSError, ValueError, RuntimeError) as e:
        if not quiet:
            print(f"kafka probe {target}: {e.__class__.__name__}: {e}", file=sys.stderr)
        return 1
    if not quiet:
        print(info)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
