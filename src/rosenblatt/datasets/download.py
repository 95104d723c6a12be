"""Downloads for the data sets: mirrors tried in turn, md5 checked, atomic writes.

Nothing here runs unless a data set is built with `download=True` and its files are absent.
Tests exercise it only with file:// URLs or a replaced `urlopen`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Sequence

__all__ = ["data_root", "md5sum", "download_url", "download_from_mirrors"]

USER_AGENT = "rosenblatt/0.1 (+https://github.com/)"
urlopen = urllib.request.urlopen  # replaced in tests


def data_root(name: str, root: str | os.PathLike | None = None) -> Path:
    """`root` if given, else $ROSENBLATT_DATA/name (default ~/.rosenblatt/data/name)."""
    if root is not None:
        return Path(root).expanduser()
    base = os.environ.get("ROSENBLATT_DATA") or Path.home() / ".rosenblatt" / "data"
    return Path(base).expanduser() / name


def md5sum(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """The md5 hex digest of a file."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def download_url(url: str, dest: str | os.PathLike, md5: str | Sequence[str] | None = None,
                 timeout: float = 60.0) -> Path:
    """Fetch `url` into the file `dest` atomically; raises ValueError on an md5 mismatch.

    The bytes go to a temporary file beside `dest`, are checked, fsync'ed and renamed over
    `dest`, so an interrupted download never leaves a partial file under the final name.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        h = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urlopen(request, timeout=timeout) as response:
            while block := response.read(1 << 20):
                h.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        wanted = [md5] if isinstance(md5, str) else list(md5 or [])
        if wanted and h.hexdigest() not in wanted:
            raise ValueError(f"md5 of {url} is {h.hexdigest()}, expected {' or '.join(wanted)}")
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def download_from_mirrors(mirrors: Sequence[str], filename: str, folder: str | os.PathLike,
                          md5: str | Sequence[str] | None = None, verbose: bool = True) -> Path:
    """Download `filename` from the first mirror that serves it with the right md5."""
    errors: list[str] = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        if verbose:
            print(f"Downloading {url}")
        try:
            return download_url(url, Path(folder) / filename, md5)
        except (urllib.error.URLError, OSError, ValueError) as e:
            errors.append(f"{url}: {e}")
    raise RuntimeError(f"could not download {filename}:\n  " + "\n  ".join(errors))

