"""Demand attachments: what may be uploaded (photos and PDFs of a few MB, type read from the
content, never from the name or the browser's word), and storing one under its demand."""

from __future__ import annotations

import io
import os

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from .models import Demand, DemandAttachment

MAX_BYTES = 5 * 1024 * 1024
MAX_FILES = 5
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf"}


def attachment_type(upload: UploadedFile) -> str:
    """The content type of ``upload`` read from its bytes; ``ValidationError`` if too big or not allowed."""
    if upload.size > MAX_BYTES:
        raise ValidationError(
            _("“%(name)s”超过%(mb)sMB。") % {"name": upload.name, "mb": MAX_BYTES // (1024 * 1024)},
            code="too_big",
        )
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]:
        return "application/pdf"
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        kind = None
    if kind in IMAGE_TYPES:
        return IMAGE_TYPES[kind]
    raise ValidationError(
        _("“%(name)s”不是图片（JPG、PNG、WebP）或PDF文件。") % {"name": upload.name}, code="bad_type"
    )


def store_attachment(*, demand: Demand, upload: UploadedFile, content_type: str, user) -> DemandAttachment:
    """Save a checked upload under a name of our own (the original name is kept as text only)."""
    base = os.path.basename(upload.name or "file")[:150]
    attachment = DemandAttachment(
        demand=demand,
        original_name=base,
        content_type=content_type,
        size=upload.size,
        uploaded_by=user,
    )
    upload.name = f"demand{demand.pk}{EXTENSIONS[content_type]}"
    attachment.file = upload
    with transaction.atomic():
        attachment.save()
    return attachment
