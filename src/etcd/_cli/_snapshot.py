"""``snapshot status``: read an etcd snapshot (a bbolt database file) without etcd (pure).

A snapshot is etcd's backend database: a bbolt file of fixed-size pages. Two meta pages
at the start name the root of a B+tree of buckets (``key``, ``lease``, ``members``, ...);
each bucket is itself a B+tree, or an "inline" page stored inside its parent's value.
etcdctl reports, for the whole file:

- the hash: CRC-32C (Castagnoli) over every bucket's name followed by each of its keys
  and values, in key order;
- the revision: the main revision of the last key of the ``key`` bucket;
- the total number of keys across all buckets;
- the total size: the pages in use (the meta page's high-water mark) times the page size.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from .printers import SnapshotStatus

_MAGIC: Final = 0xED0CDAED
_VERSION: Final = 2
_PAGE_HEADER: Final = struct.Struct("<QHHI")  # id, flags, count, overflow
_META: Final = struct.Struct("<IIIIQQQQQQ")  # magic ... txid, then the checksum
_BRANCH_ELEMENT: Final = struct.Struct("<IIQ")  # pos, ksize, pgid
_LEAF_ELEMENT: Final = struct.Struct("<IIII")  # flags, pos, ksize, vsize
_BUCKET_HEADER: Final = struct.Struct("<QQ")  # root pgid, sequence
_BRANCH: Final = 0x01
_LEAF: Final = 0x02
_BUCKET_LEAF: Final = 0x01


class SnapshotError(Exception):
    """The file is not a readable etcd snapshot."""


# --- CRC-32C --------------------------------------------------------------------------------


def _crc_tables() -> list[list[int]]:
    """The byte table of CRC-32C, and the seven derived ones of "slicing by 8"."""
    first = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        first.append(crc)
    tables = [first]
    for _ in range(7):
        previous = tables[-1]
        tables.append([(previous[i] >> 8) ^ first[previous[i] & 0xFF] for i in range(256)])
    return tables


_CRC_TABLES: Final = _crc_tables()
_WORDS: Final = struct.Struct("<Q")


class Crc32c:
    """CRC-32C (Castagnoli), fed in pieces; eight bytes per step, in pure Python."""

    def __init__(self) -> None:
        self._crc = 0xFFFFFFFF

    def update(self, data: bytes) -> None:
        t0, t1, t2, t3, t4, t5, t6, t7 = _CRC_TABLES
        crc = self._crc
        whole = len(data) // 8 * 8
        for (word,) in _WORDS.iter_unpack(memoryview(data)[:whole]):
            word ^= crc
            crc = (
                t7[word & 0xFF]
                ^ t6[(word >> 8) & 0xFF]
                ^ t5[(word >> 16) & 0xFF]
                ^ t4[(word >> 24) & 0xFF]
                ^ t3[(word >> 32) & 0xFF]
                ^ t2[(word >> 40) & 0xFF]
                ^ t1[(word >> 48) & 0xFF]
                ^ t0[word >> 56]
            )
        for byte in data[whole:]:
            crc = t0[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        self._crc = crc

    @property
    def value(self) -> int:
        return self._crc ^ 0xFFFFFFFF


# --- bbolt ------------------------------------------------------------------------------------


def _fnv64a(data: bytes) -> int:
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


@dataclass(frozen=True, slots=True)
class _Meta:
    page_size: int
    root: int
    high_water: int
    txid: int


class BoltFile:
    """A bbolt database held in memory, read-only."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.meta = self._choose_meta()

    def _read_meta(self, offset: int) -> _Meta | None:
        start = offset + _PAGE_HEADER.size
        if len(self.data) < start + _META.size:
            return None
        fields = _META.unpack_from(self.data, start)
        magic, version, page_size, _flags, root, _seq, _freelist, high, txid, checksum = fields
        if magic != _MAGIC or version != _VERSION:
            return None
        if _fnv64a(self.data[start : start + _META.size - 8]) != checksum:
            return None
        return _Meta(page_size, root, high, txid)

    def _choose_meta(self) -> _Meta:
        first = self._read_meta(0)
        candidates = [first] if first is not None else []
        sizes = [first.page_size] if first is not None else [4096, 8192, 16384, 65536]
        for size in sizes:
            second = self._read_meta(size)
            if second is not None:
                candidates.append(second)
                break
        if not candidates:
            raise SnapshotError("not an etcd snapshot (no valid bbolt meta page)")
        return max(candidates, key=lambda meta: meta.txid)

    def _page(self, page_id: int) -> int:
        offset = page_id * self.meta.page_size
        if offset + _PAGE_HEADER.size > len(self.data):
            raise SnapshotError(f"page {page_id} lies beyond the end of the file")
        return offset

    def _walk(self, data: bytes, offset: int) -> Iterator[tuple[bytes, bytes, int]]:
        """Every (key, value, flags) of the tree whose page starts at ``offset``."""
        _id, flags, count, _overflow = _PAGE_HEADER.unpack_from(data, offset)
        elements = offset + _PAGE_HEADER.size
        if flags & _LEAF:
            for index in range(count):
                at = elements + index * _LEAF_ELEMENT.size
                element_flags, pos, key_size, value_size = _LEAF_ELEMENT.unpack_from(data, at)
                key_at = at + pos
                yield (
                    data[key_at : key_at + key_size],
                    data[key_at + key_size : key_at + key_size + value_size],
                    element_flags,
                )
        elif flags & _BRANCH:
            for index in range(count):
                at = elements + index * _BRANCH_ELEMENT.size
                _pos, _key_size, child = _BRANCH_ELEMENT.unpack_from(data, at)
                yield from self._walk(self.data, self._page(child))
        else:
            raise SnapshotError(f"unexpected page type {flags:#x}")

    def buckets(self) -> Iterator[tuple[bytes, bytes, int]]:
        """The top-level entries: (bucket name, its header value, flags)."""
        return self._walk(self.data, self._page(self.meta.root))

    def bucket_items(self, header: bytes) -> Iterator[tuple[bytes, bytes, int]]:
        """The entries of a bucket, given the value that describes it."""
        if len(header) < _BUCKET_HEADER.size:
            raise SnapshotError("truncated bucket header")
        root, _sequence = _BUCKET_HEADER.unpack_from(header, 0)
        if root == 0:
            inline = header[_BUCKET_HEADER.size :]
            return self._walk(inline, 0)
        return self._walk(self.data, self._page(root))

    @property
    def size(self) -> int:
        return self.meta.high_water * self.meta.page_size


def status(data: bytes) -> SnapshotStatus:
    """Hash, revision, key count and size of a snapshot, as etcdctl reports them."""
    try:
        bolt = BoltFile(data)
        crc = Crc32c()
        revision = total = 0
        for name, header, flags in bolt.buckets():
            if not flags & _BUCKET_LEAF:
                raise SnapshotError(f"cannot get hash of bucket {name.decode(errors='replace')}")
            crc.update(name)
            for key, value, item_flags in bolt.bucket_items(header):
                crc.update(key)
                if not item_flags & _BUCKET_LEAF:
                    crc.update(value)
                if name == b"key" and len(key) >= 8:
                    revision = struct.unpack_from(">q", key, 0)[0]
                total += 1
    except (struct.error, IndexError, RecursionError) as error:
        raise SnapshotError(f"the snapshot file is corrupt ({error})") from None
    return SnapshotStatus(crc.value, revision, total, bolt.size)
