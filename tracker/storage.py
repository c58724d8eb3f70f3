"""Where case attachments are kept: outside the public media root, never served by URL."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """Files under PRIVATE_MEDIA_ROOT, read when used (so a changed setting takes effect), with no URL:
    the portal and API stream a file only after checking that the asker may see its case."""

    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


def private_storage() -> PrivateStorage:
    return PrivateStorage()
