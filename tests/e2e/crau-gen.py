#!/usr/bin/env python3
# tests/e2e/crau-gen.py - an independent CrAU v1 payload generator for tests (docs/update.md 5):
# protobuf encoded by hand, bzip2/xz from Python's stdlib, signatures by the openssl CLI. It can
# also build payloads that break exactly one rule, to check what `update verify` says about them.
import argparse
import bz2
import hashlib
import lzma
import struct
import subprocess
import sys
import tempfile


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def f_varint(field, v):
    return key(field, 0) + varint(v)


def f_bytes(field, b):
    return key(field, 2) + varint(len(b)) + b


def extent(start, num):
    return f_varint(1, start) + f_varint(2, num)


def operation(typ, off, length, extents, digest, src=False):
    b = f_varint(1, typ) + f_varint(2, off) + f_varint(3, length)
    if src:
        b += f_bytes(4, extent(0, 1))
    for s, n in extents:
        b += f_bytes(6, extent(s, n))
    if digest is not None:
        b += f_bytes(8, digest)
    return b


def info(size, digest):
    return f_varint(1, size) + f_bytes(2, digest)


def sign(keyfile, digest):
    with tempfile.NamedTemporaryFile() as d:
        d.write(digest)
        d.flush()
        return subprocess.run(
            ["openssl", "pkeyutl", "-sign", "-inkey", keyfile, "-in", d.name,
             "-pkeyopt", "digest:sha256"], check=True, capture_output=True).stdout


def modulus_bytes(keyfile):
    out = subprocess.run(["openssl", "rsa", "-in", keyfile, "-noout", "-modulus"],
                         check=True, capture_output=True, text=True).stdout
    return len(out.strip().split("=", 1)[1]) // 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--kernel")
    ap.add_argument("--key", action="append", default=[])
    ap.add_argument("--out", required=True)
    ap.add_argument("--chunk", type=int, default=1 << 20)
    ap.add_argument("--block", type=int, default=4096)
    ap.add_argument("--compress", choices=["bzip2", "xz", "none"], default="bzip2")
    ap.add_argument("--fault", default="none", choices=[
        "none", "op-hash", "oversized", "gap", "extent-out", "move", "src-extents",
        "unsigned", "old-info", "bz-corrupt", "version2", "too-big-for-extents", "magic",
        "no-new-info", "sparse-hole", "trailing", "xz-bomb"])
    a = ap.parse_args()

    img = open(a.image, "rb").read()
    blobs = bytearray()
    ops = []
    for i in range(0, len(img), a.chunk):
        raw = img[i:i + a.chunk]
        typ, data = 0, raw
        if a.compress == "bzip2":
            typ, data = 1, bz2.compress(raw, 9)
        elif a.compress == "xz":
            typ, data = 8, lzma.compress(raw, check=lzma.CHECK_CRC32)
        nblocks = a.chunk // a.block
        if a.fault == "bz-corrupt" and i == a.chunk:
            # break the block magic after the 4-byte stream header: a data error at once,
            # before any output (a flip deeper inside may first decompress to too much data)
            data = data[:5] + bytes([data[5] ^ 0xFF]) + data[6:]
        if a.fault == "too-big-for-extents" and i == 0:
            typ, data = 1, bz2.compress(raw + raw, 9)
        if a.fault == "xz-bomb" and i == 0:
            typ, data = 8, lzma.compress(bytes(64 << 20))
        digest = hashlib.sha256(data).digest()
        if a.fault == "op-hash" and i == a.chunk:
            digest = bytes(32)
        start = i // a.block
        if a.fault == "extent-out" and i == 0:
            start = len(img) // a.block
        if a.fault == "sparse-hole" and i == 0:
            start = 2**64 - 1
        off = len(blobs)
        if a.fault == "gap" and i == a.chunk:
            blobs += b"\0" * 16
            off = len(blobs)
        optype = 2 if (a.fault == "move" and i == 0) else typ
        ops.append(operation(optype, off, len(data), [(start, nblocks)], digest,
                             src=(a.fault == "src-extents" and i == 0)))
        blobs += data
    if a.fault == "oversized":
        data = bytes(33 << 20)
        ops.append(operation(0, len(blobs), len(data), [(0, (33 << 20) // a.block)],
                             hashlib.sha256(data).digest()))
        blobs += data

    kops = []
    if a.kernel:
        kern = open(a.kernel, "rb").read()
        for i in range(0, len(kern), a.chunk):
            data = bz2.compress(kern[i:i + a.chunk], 9)
            kops.append(operation(1, len(blobs), len(data), [(i // a.block, a.chunk // a.block)],
                                  hashlib.sha256(data).digest()))
            blobs += data

    keys = a.key
    sig_len = [modulus_bytes(k) for k in keys]
    versions = [3 - len(keys) + i for i in range(len(keys))]

    def sigmsg(sigs):
        b = b""
        for v, s in zip(versions, sigs):
            b += f_bytes(1, f_varint(1, v) + f_bytes(2, s))
        return b

    placeholder = sigmsg([bytes(n) for n in sig_len])
    # Unsigned: a Signatures message without entries, made 2 bytes long by an unknown field
    # (signatures_size must be at least 1).
    sig_size = len(placeholder) if keys else 2

    m = b""
    for op in ops:
        m += f_bytes(1, op)
    m += f_varint(3, a.block)
    m += f_varint(4, len(blobs))
    m += f_varint(5, sig_size)
    if a.fault == "old-info":
        m += f_bytes(8, info(len(img), hashlib.sha256(img).digest()))
    if a.fault != "no-new-info":
        m += f_bytes(9, info(len(img), hashlib.sha256(img).digest()))
    if kops:
        proc = f_varint(1, 0)
        for op in kops:
            proc += f_bytes(2, op)
        proc += f_bytes(4, info(len(kern), hashlib.sha256(kern).digest()))
        m += f_bytes(10, proc)

    version = 2 if a.fault == "version2" else 1
    magic = b"CrAX" if a.fault == "magic" else b"CrAU"
    head = magic + struct.pack(">QQ", version, len(m)) + m + bytes(blobs)
    digest = hashlib.sha256(head).digest()
    if keys:
        sigs = sigmsg([sign(k, digest) for k in keys])
        assert len(sigs) == sig_size
    else:
        sigs = f_varint(15, 0)
    out = head + sigs
    if a.fault == "trailing":
        out += b"x"
    open(a.out, "wb").write(out)


if __name__ == "__main__":
    sys.exit(main())
