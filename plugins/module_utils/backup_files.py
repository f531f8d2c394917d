# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""File trees for backups: GNU tar archives (gzip, zstd or none) and a digest of their content.

Paths are stored relative to ``/`` (``/srv/data`` becomes ``srv/data``), so a restore
puts them back where they were (destination ``/``) or under another folder.

The tree digest is computed from the archive itself, read as a stream: the sha256 of
one line per member (type, name, and the sha256 of a file's content or a link's
target). Verify recomputes it from the downloaded archive, which checks that the
archive decompresses and holds what it held when it was made.

Programs (tar, zstd) run through the runner the caller passes in (``backup_runner``).
Runs on the managed host under Python 3.9+, with no Ansible import.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from typing import IO, Any, Dict, List, Optional, Sequence

from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_runner import Runner

COMPRESSIONS = {"gzip": (".tar.gz", ["--gzip"]), "zstd": (".tar.zst", ["--zstd"]), "none": (".tar", [])}


class FilesError(Exception):
    """A file tree could not be archived, read or restored."""


def extension(compression: str) -> str:
    if compression not in COMPRESSIONS:
        raise FilesError("unknown compression %s; expected gzip, zstd or none" % compression)
    return COMPRESSIONS[compression][0]


def tar_version(runner: Runner) -> str:
    tar = shutil.which("tar")
    if not tar:
        return ""
    rc, out, _err = runner([tar, "--version"], None, None)
    first = out.splitlines()[0] if rc == 0 and out else ""
    return first.split()[-1] if first else ""


def create_archive(
    paths: Sequence[str], excludes: Sequence[str], compression: str, dest: str, runner: Runner
) -> Dict[str, Any]:
    """Archive ``paths`` into ``dest``; return the member count, bytes and tree digest."""
    if not paths:
        raise FilesError("a file source needs at least one path")
    relative: List[str] = []
    for path in paths:
        if not os.path.isabs(path):
            raise FilesError("%s is not an absolute path" % path)
        if not os.path.lexists(path):
            raise FilesError("%s does not exist" % path)
        relative.append(os.path.relpath(os.path.normpath(path), "/"))
    tar = shutil.which("tar")
    if not tar:
        raise FilesError("tar is not installed")
    argv = [
        tar,
        "--create",
        "--file",
        dest,
        "--directory",
        "/",
        "--sort=name",
        "--numeric-owner",
        "--warning=no-file-changed",
    ] + COMPRESSIONS[compression][1]
    argv += ["--exclude=%s" % pattern for pattern in excludes]
    rc, _out, err = runner(argv + ["--"] + relative, None, None)
    # exit 1: a file changed while it was read (the archive is still complete and readable)
    if rc not in (0, 1):
        raise FilesError("tar failed (exit %d): %s" % (rc, err.strip()[-2000:]))
    return tree_digest(dest, compression, runner)


def _decompressed(path: str, compression: str, runner: Runner, folder: str) -> str:
    """The path of a plain tar to read: the archive itself, or a zstd archive decompressed into ``folder``."""
    if compression != "zstd":
        return path
    zstd = shutil.which("zstd")
    if not zstd:
        raise FilesError("zstd is not installed")
    plain = os.path.join(folder, "archive.tar")
    rc, _out, err = runner([zstd, "--decompress", "--quiet", "--force", "-o", plain, "--", path], None, None)
    if rc != 0:
        raise FilesError("%s: zstd could not decompress it: %s" % (path, err.strip()[-2000:]))
    return plain


def tree_digest(path: str, compression: str, runner: Runner) -> Dict[str, Any]:
    """Members, bytes and the tree digest of an archive (reads it as a stream)."""
    digest = hashlib.sha256()
    files = members = total = 0
    folder = tempfile.mkdtemp(prefix=".sdd-tar-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        source = _decompressed(path, compression, runner, folder)
        with tarfile.open(source, mode="r|gz" if compression == "gzip" else "r|") as archive:
            for member in archive:
                members += 1
                if member.isfile():
                    handle: Optional[IO[bytes]] = archive.extractfile(member)
                    content = hashlib.sha256()
                    while handle is not None:
                        block = handle.read(1024 * 1024)
                        if not block:
                            break
                        content.update(block)
                    files += 1
                    total += member.size
                    detail = content.hexdigest()
                elif member.issym() or member.islnk():
                    detail = member.linkname
                else:
                    detail = ""
                digest.update(
                    (
                        "%s\0%s\0%s\0%o\n" % (member.type.decode("ascii", "replace"), member.name, detail, member.mode)
                    ).encode("utf-8", "surrogateescape")
                )
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise FilesError("%s cannot be read as a %s tar archive: %s" % (path, compression, exc)) from exc
    except FilesError:
        raise
    except Exception as exc:  # zlib.error and friends from a damaged stream
        raise FilesError("%s cannot be read as a %s tar archive: %s" % (path, compression, exc)) from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"members": members, "files": files, "bytes": total, "tree_sha256": digest.hexdigest()}


def extract_archive(path: str, compression: str, dest: str, runner: Runner) -> None:
    """Extract an archive under ``dest`` (``/`` puts the files back where they were)."""
    tar = shutil.which("tar")
    if not tar:
        raise FilesError("tar is not installed")
    os.makedirs(dest, exist_ok=True)
    argv = [tar, "--extract", "--file", path, "--directory", dest, "--numeric-owner"]
    if os.geteuid() == 0:
        argv.append("--same-owner")
    rc, _out, err = runner(argv + COMPRESSIONS[compression][1], None, None)
    if rc != 0:
        raise FilesError("tar could not extract %s (exit %d): %s" % (path, rc, err.strip()[-2000:]))
