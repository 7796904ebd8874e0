"""The platform's file storages.

``StaticStorage`` (production static files): WhiteNoise's compressed, hashed files, with their URLs
kept. Every page asks for the URLs of its style sheets and scripts. The manifest storage works each one
out again on every call (clean the name, look it up in the manifest, quote, join with STATIC_URL),
which cost 4% of a case page. The manifest is read once when the process starts and ``collectstatic``
runs before the server does, so a name's URL cannot change while the process lives: it is kept.

``MediaStorage`` (uploaded photos): Django's file system storage, except that a file whose writing
fails (the disk full half-way through a photo) is removed instead of left behind with no row naming it.
"""

from __future__ import annotations

import contextlib
import os

from django.core.files import locks
from django.core.files.move import file_move_safe
from django.core.files.storage import FileSystemStorage
from django.utils._os import safe_makedirs
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    MAX_KEPT = 1024  # static names come from templates: a few dozen

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name, force=False):
        if force:
            return super().url(name, force)
        try:
            return self._urls[name]
        except KeyError:
            pass
        url = super().url(name)  # a name missing from the manifest raises here, and is not kept
        if len(self._urls) < self.MAX_KEPT:
            self._urls[name] = url
        return url

    def post_process(self, *args, **kwargs):
        # collectstatic writes a new manifest through this instance: no URL of the old one survives it
        self._urls.clear()
        yield from super().post_process(*args, **kwargs)
        self._urls.clear()


class MediaStorage(FileSystemStorage):
    """Claims a free name with ``O_EXCL`` (another one on a clash, as Django does), fills it, and
    removes it again if anything fails before the name is handed back; the error is re-raised.

    ``core.files`` removes the files a failed unit of work stored before it failed; this one is the file
    whose own write failed, which nothing else knows the name of.
    """

    def _save(self, name, content):
        if self._allow_overwrite:
            # replacing a file: removing it on failure would lose the old one too (the platform never
            # overwrites: every photo gets a new name)
            return super()._save(name, content)
        self._make_directory(os.path.dirname(self.path(name)))
        while True:
            full_path = self.path(name)
            try:
                fd = os.open(full_path, self._create_flags(), 0o666)
            except FileExistsError:  # taken since the name was chosen: by a parallel save, say
                name = self.get_available_name(name)
                continue
            try:
                self._fill(fd, full_path, content)
                if self.file_permissions_mode is not None:
                    os.chmod(full_path, self.file_permissions_mode)
                self._ensure_location_group_id(full_path)
            except BaseException:
                with contextlib.suppress(OSError):  # the write's own error is the one to report
                    os.remove(full_path)
                raise
            return os.path.relpath(full_path, self.location).replace(os.sep, "/")

    def _create_flags(self) -> int:
        return os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)

    def _make_directory(self, directory: str) -> None:
        mode = self.directory_permissions_mode
        try:
            if mode is None:
                os.makedirs(directory, exist_ok=True)
            else:  # os.makedirs gives ``mode`` to the last directory only
                safe_makedirs(directory, mode, exist_ok=True)
        except FileExistsError as exc:
            raise FileExistsError(f"{directory} exists and is not a directory.") from exc

    @staticmethod
    def _fill(fd: int, full_path: str, content) -> None:
        if hasattr(content, "temporary_file_path"):
            # an upload spooled to disk takes the claimed name's place: renamed, or copied across disks
            os.close(fd)
            file_move_safe(content.temporary_file_path(), full_path, allow_overwrite=True)
            return
        with os.fdopen(fd, "wb") as out:  # closed (and unlocked) on failure too
            locks.lock(out, locks.LOCK_EX)
            for chunk in content.chunks():
                out.write(chunk.encode() if isinstance(chunk, str) else chunk)
