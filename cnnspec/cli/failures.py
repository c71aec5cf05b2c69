"""Failures of the machine, not of cnnspec: one line with the fix instead of a traceback.

Room: consumers (cli). :func:`describe` turns the exceptions that a full disk, a
read-only folder, a missing permission, exhausted memory or too deep a structure raise
into the one-line message the CLI prints (exit status 1); anything else is a defect and
gets the "internal error ... please report" line.
"""

from __future__ import annotations

import errno

from cnnspec.render.safe_text import printable

OS_FIXES: dict[int, tuple[str, str]] = {
    errno.EROFS: ("the file system is read-only", "choose a writable place for the output"),
    errno.ENOSPC: ("the disk is full", "free some space or write to another disk"),
    errno.EDQUOT: ("the disk quota is used up", "free some space or write to another disk"),
    errno.EACCES: ("permission denied", "write somewhere you may write, or fix the "
                                        "folder's permissions"),
    errno.EPERM: ("operation not permitted", "write somewhere you may write"),
    errno.ENOENT: ("no such file or folder", "check the path"),
    errno.EISDIR: ("it is a folder, not a file", "give a file name"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "check the path"),
    errno.ENAMETOOLONG: ("the file name is too long", "choose a shorter name"),
    errno.EMFILE: ("too many open files", "raise the limit (ulimit -n) or open fewer files"),
}


def describe(exc: BaseException) -> str | None:
    """The one-line message for ``exc`` when the machine, not cnnspec, failed; else None."""
    if isinstance(exc, MemoryError):
        detail = f" ({exc})" if str(exc) else ""
        return (f"error: out of memory{detail}; use a smaller --batch or a smaller --input, "
                "or close other programs (the memory check was skipped or the estimate "
                "was too low)")
    if isinstance(exc, RecursionError):
        return ("error: the input is nested too deeply to process (Python's recursion limit); "
                "flatten the nesting")
    if isinstance(exc, OSError) and exc.errno is not None:
        # the operating system refused: a file, a disk or a device, not cnnspec's logic
        what, fix = OS_FIXES.get(exc.errno, (exc.strerror or str(exc), "check the file and "
                                             "the device, then try again"))
        where = exc.filename
        place = f"{printable(where, keep_newlines=False)}: " if where is not None else ""
        return f"{place}error: {what}; {fix}"
    return None


def silence_stdout() -> None:
    """Point stdout at the null device after its reader went away (``cnnspec ... | head``).

    Python flushes stdout again at exit; with the pipe closed that flush would print
    "Exception ignored ... BrokenPipeError". The Python docs' recipe: dup2 devnull over it.
    """
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture stdout)
        pass
