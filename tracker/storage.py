"""Where case attachments are kept: outside the public media root, never served by URL."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage


def private_storage() -> FileSystemStorage:
    # base_url=None: a file has no public address; the portal and API stream it after a visibility check.
    return FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)
