"""Static files storage for production: WhiteNoise's compressed, hashed files, with their URLs kept.

Every page asks for the URLs of its style sheets and scripts. The manifest storage works each one
out again on every call (clean the name, look it up in the manifest, quote, join with STATIC_URL),
which cost 4% of a case page. The manifest is read once when the process starts and ``collectstatic``
runs before the server does, so a name's URL cannot change while the process lives: it is kept.
"""

from __future__ import annotations

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
