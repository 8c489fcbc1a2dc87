"""Memory checks made before anything large is allocated."""

from __future__ import annotations

import os

import numpy as np

__all__ = ["available_memory_bytes", "check_fits_in_memory"]


def available_memory_bytes() -> int | None:
    """Memory the system can give without swapping (Linux ``MemAvailable``), if known."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits_in_memory(
    shape: tuple[int, ...],
    dtype: np.dtype | type,
    what: str,
    hint: str = "process fewer rows at a time",
) -> None:
    """Raise ``MemoryError`` if an array of ``shape`` and ``dtype`` cannot fit in memory.

    The message gives the bytes needed and available and ends with ``hint``, so that
    the user can choose a smaller problem instead of waiting for the operating
    system to kill the process.
    """
    needed = int(np.prod(shape, dtype=np.float64)) * np.dtype(dtype).itemsize
    available = available_memory_bytes()
    if available is not None and needed > available:
        raise MemoryError(
            f"{what} of shape {shape} ({np.dtype(dtype).name}) needs {needed:,} bytes "
            f"({needed / 2**30:.1f} GiB) but only {available:,} bytes "
            f"({available / 2**30:.1f} GiB) are available; {hint}"
        )
