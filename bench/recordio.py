"""Crash-safe writes to an HDF5 file: HDF5 writes into memory, then the bytes go to disk under an undo log.

HDF5 handles a failed write badly: on a full disk (or a file size limit) h5py 3.16 / HDF5 2.0 can
segfault while closing, and a failed close can leave a group pointing past the end of the file, so
every earlier cable becomes unreadable. Here HDF5 never writes to disk itself: ``write_session``
opens the file through ``_Overlay`` (h5py's file-object driver), which keeps every write in memory.
Only after HDF5 closed cleanly are the bytes written, SQLite-style: the original bytes of every
page about to change in place go to ``<record>.journal/undo.log`` (fsynced), the growth is
reserved with ``posix_fallocate`` (a full disk fails here, before anything changed), the pages
are written, the file fsynced and the undo log removed (the commit). Any failure, or a kill at
any moment, is rolled back from the undo log (at once, or by ``recover`` on the next open), so the
file is always either as before or as after. An exclusive ``flock`` guards the write; HDF5 takes
a shared one while a reader holds the file open, so a reader makes the write wait (``RecordLocked``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import h5py

from accbench.errors import AccbenchError

try:
    import fcntl
except ImportError:  # not POSIX: no lock against readers, the rest holds
    fcntl = None

PAGE = 4096
UNDO_MAGIC = b"ACCUNDO1"
FULL = {errno.ENOSPC: "disk full", errno.EFBIG: "file size limit reached", errno.EDQUOT: "disk quota exceeded"}


class RecordWriteError(AccbenchError):
    """The run record (or its journal) could not be written: disk full, size limit, permissions."""


class RecordLocked(AccbenchError):
    """Another process holds the record open (HDF5's file lock); the write waits in the journal."""


def journal_dir(path: Path) -> Path:
    """The side folder of a record: pending journal entries and the undo log of a write in progress."""
    return path.with_name(path.name + ".journal")


def why(exc: OSError) -> str:
    """A short reason for an OS error: 'disk full (No space left on device)'."""
    text = exc.strerror or str(exc)
    return f"{FULL[exc.errno]} ({text})" if exc.errno in FULL else text


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Overlay:
    """A file object for h5py: reads the file on disk, keeps every write in memory (pages below the
    original end, a tail bytearray above it)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.base = os.fstat(fd).st_size  # the original end of file
        self.cut = self.base  # bytes from here to base were truncated away
        self.size = self.base
        self.pos = 0
        self.pages: dict[int, bytearray] = {}
        self.tail = bytearray()

    def seek(self, offset: int, whence: int = 0) -> int:
        """File-object seek (h5py asks for the end with whence=2)."""
        self.pos = offset if whence == 0 else self.pos + offset if whence == 1 else self.size + offset
        return self.pos

    def tell(self) -> int:
        """Current position."""
        return self.pos

    def _page(self, number: int) -> bytearray:
        """The in-memory copy of an original page, made on first write."""
        if number not in self.pages:
            start = number * PAGE
            data = bytearray(os.pread(self.fd, min(PAGE, self.base - start), start))
            keep = max(0, self.cut - start)
            if keep < len(data):
                data[keep:] = bytes(len(data) - keep)
            self.pages[number] = data
        return self.pages[number]

    def _read(self, offset: int, count: int) -> bytes:
        """Bytes of the file as HDF5 has written it so far."""
        end = min(offset + count, self.size)
        out = bytearray()
        while offset < end:
            if offset >= self.base:
                chunk = self.tail[offset - self.base:end - self.base]
                out += chunk + bytes(end - offset - len(chunk))  # zeros where a truncate extended the file
                break
            number, within = divmod(offset, PAGE)
            upto = min(end, (number + 1) * PAGE, self.base)
            if number in self.pages:
                out += self.pages[number][within:within + upto - offset]
            elif offset >= self.cut:
                out += bytes(upto - offset)
            else:
                out += os.pread(self.fd, min(upto, self.cut) - offset, offset).ljust(upto - offset, b"\0")
            offset = upto
        return bytes(out)

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """File-object readinto."""
        data = self._read(self.pos, len(buffer))
        buffer[:len(data)] = data
        self.pos += len(data)
        return len(data)

    def read(self, count: int = -1) -> bytes:
        """File-object read."""
        data = self._read(self.pos, self.size - self.pos if count < 0 else count)
        self.pos += len(data)
        return data

    def write(self, data: bytes | memoryview) -> int:
        """Keep the write in memory."""
        data = bytes(data)
        offset, end = self.pos, self.pos + len(data)
        if end > self.base:
            start = max(offset, self.base) - self.base
            if len(self.tail) < start:
                self.tail.extend(bytes(start - len(self.tail)))
            self.tail[start:end - self.base] = data[max(offset, self.base) - offset:]
        while offset < min(end, self.base):
            number, within = divmod(offset, PAGE)
            upto = min(end, (number + 1) * PAGE, self.base)
            self._page(number)[within:within + upto - offset] = data[offset - self.pos:upto - self.pos]
            offset = upto
        self.pos = end
        self.size = max(self.size, end)
        return len(data)

    def truncate(self, size: int | None = None) -> int:
        """Set the end of file (HDF5 trims to its allocated end on close)."""
        size = self.pos if size is None else size
        if size < self.cut:
            for number, page in self.pages.items():
                keep = max(0, size - number * PAGE)
                page[keep:] = bytes(max(0, len(page) - keep))
            self.cut = size
        del self.tail[max(0, size - self.base):]
        self.size = size
        return size

    def flush(self) -> None:
        """Nothing to flush: the bytes go to disk in ``commit``."""

    def commit(self, undo: Path) -> None:
        """Write the changes under the undo log; roll back and raise OSError if any write fails."""
        changed = [(n * PAGE, os.pread(self.fd, len(p), n * PAGE)) for n, p in sorted(self.pages.items())]
        if self.cut < self.base:
            changed.append((self.cut, os.pread(self.fd, self.base - self.cut, self.cut)))
        if not changed and self.size == self.base:
            return
        if changed:
            _write_undo(undo, self.base, changed)
        try:
            if self.size > self.base:
                _reserve(self.fd, self.base, self.size - self.base)  # a full disk fails here, nothing changed yet
                _pwrite_all(self.fd, bytes(self.tail[:self.size - self.base]), self.base)
            for number, page in sorted(self.pages.items()):
                _pwrite_all(self.fd, bytes(page), number * PAGE)
            os.ftruncate(self.fd, self.size)
            os.fsync(self.fd)
        except OSError:
            if changed:
                _rollback(self.fd, undo)
            else:
                os.ftruncate(self.fd, self.base)
            raise
        if changed:
            undo.unlink()
            fsync_dir(undo.parent)


def _reserve(fd: int, offset: int, length: int) -> None:
    """Allocate the file's growth up front, so that a full disk fails before any byte changed."""
    if not hasattr(os, "posix_fallocate"):  # macOS: the writes themselves fail, and are rolled back
        return
    try:
        os.posix_fallocate(fd, offset, length)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
            raise


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    """pwrite until every byte is written."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _write_undo(undo: Path, base: int, changed: list[tuple[int, bytes]]) -> None:
    """The original size and bytes of every changed range, checksummed, fsynced before any change."""
    undo.parent.mkdir(exist_ok=True)
    parts = [UNDO_MAGIC, struct.pack("<Q", base)]
    for offset, data in changed:
        parts += [struct.pack("<QQI", offset, len(data), zlib.crc32(data)), data]
    fd = os.open(undo, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _pwrite_all(fd, b"".join(parts), 0)
        os.fsync(fd)
    except OSError:
        os.close(fd)
        with contextlib.suppress(OSError):
            undo.unlink()
        raise
    os.close(fd)
    fsync_dir(undo.parent)


def _rollback(fd: int, undo: Path) -> None:
    """Restore the bytes and size the undo log saved (a torn last entry was never applied), then drop it."""
    data = undo.read_bytes()
    if data[:8] == UNDO_MAGIC and len(data) >= 16:
        (base,) = struct.unpack_from("<Q", data, 8)
        at = 16
        while at + 20 <= len(data):
            offset, length, crc = struct.unpack_from("<QQI", data, at)
            chunk = data[at + 20:at + 20 + length]
            if len(chunk) != length or zlib.crc32(chunk) != crc:
                break
            _pwrite_all(fd, chunk, offset)
            at += 20 + length
        os.ftruncate(fd, base)
        os.fsync(fd)
    undo.unlink()
    fsync_dir(undo.parent)


def _lock(fd: int, attempts: int) -> None:
    """Take the exclusive lock, retrying with a short backoff; RecordLocked if a reader keeps it."""
    if fcntl is None:
        return
    delay = 0.05
    for attempt in range(attempts):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if attempt == attempts - 1:
                raise RecordLocked("the file is open in another process (HDF5 file lock)") from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def recover(path: Path, attempts: int = 1) -> bool:
    """Roll back a write a killed process left half done (its undo log); whether there was one."""
    undo = journal_dir(path) / "undo.log"
    if not undo.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        _lock(fd, attempts)
        if undo.exists():
            _rollback(fd, undo)
    finally:
        os.close(fd)
    return True


@contextlib.contextmanager
def write_session(path: Path, attempts: int = 1, create: bool = False) -> Iterator[h5py.File]:
    """An h5py file whose changes reach ``path`` all together, or not at all, when the block ends.

    ``create``: a new file (``path`` must not exist; the caller renames it into place).
    Raises RecordLocked while another process holds the file, OSError when a write fails.
    """
    flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
    fd = os.open(path, flags, 0o644)
    try:
        _lock(fd, attempts)
        undo = journal_dir(path) / "undo.log"
        if not create and undo.exists():
            _rollback(fd, undo)
        overlay = _Overlay(fd)
        f = h5py.File(overlay, "w" if create else "r+")
        try:
            yield f
        finally:
            f.close()
        overlay.commit(undo)
        if create:
            os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock
