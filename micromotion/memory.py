"""The serving process's memory: flat over any number of requests.

Both servers run each request on a thread of a pool (Cog's worker, Gradio's event threads),
and glibc gives each thread that allocates its own malloc arena (up to 8 per core), where the
memory a request freed stays for that thread's next turn. The worker's resident memory then
climbs by a render's worth per new thread — about 250 MB over a dozen requests on 2 cores,
longer on more — while nothing leaks. Handing the freed pages back after each request holds
it flat; the arenas are bound to their threads before the models load, so capping their
number then (``mallopt``) would come too late.
"""
from __future__ import annotations

import ctypes
import functools
import platform


def release_freed() -> None:
    """Return the pages that every thread's arena holds free to the system (glibc's
    ``malloc_trim``: a few milliseconds; on other C libraries, nothing)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    return getattr(ctypes.CDLL(None), "malloc_trim", None)
