"""Files written so that a crash never leaves a half-written one in place."""

import os
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path, write):
    """Call ``write(temporary_path)``, then rename the temporary file over ``path``.

    The temporary file sits in the folder of ``path`` (a rename is atomic only
    within one file system), is flushed to disk before the rename, and gets the
    permissions a plain ``open(path, "w")`` would give (``mkstemp`` makes files
    readable by their owner only). On any error it is removed and ``path`` is
    left as it was.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".skaae-", suffix=".tmp")
    os.close(handle)
    try:
        write(temporary)
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
