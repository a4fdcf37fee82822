"""Accepting uploaded documents into a file: size and type limits, stored off the web root."""

import hashlib
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Extensions and the leading bytes their content must start with; checking content stops
# a renamed executable from being filed as a PDF.
ALLOWED_TYPES = {
    ".pdf": ("application/pdf", [b"%PDF"]),
    ".jpg": ("image/jpeg", [b"\xff\xd8\xff"]),
    ".jpeg": ("image/jpeg", [b"\xff\xd8\xff"]),
    ".png": ("image/png", [b"\x89PNG"]),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        [b"PK\x03\x04"],
    ),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        [b"PK\x03\x04"],
    ),
    ".xls": ("application/vnd.ms-excel", [b"\xd0\xcf\x11\xe0"]),
    ".doc": ("application/msword", [b"\xd0\xcf\x11\xe0"]),
    ".txt": ("text/plain", []),
}


def validate_upload(uploaded) -> tuple[str, str]:
    """(content type, sha256) of an acceptable upload; ValidationError on 'file' otherwise."""
    name = uploaded.name or ""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in ALLOWED_TYPES:
        raise ValidationError(
            {
                "file": _("不支持的文件类型“%(ext)s”。允许：%(allowed)s。")
                % {"ext": suffix or _("无扩展名"), "allowed": "、".join(sorted(ALLOWED_TYPES))}
            }
        )
    if uploaded.size == 0:
        raise ValidationError({"file": _("文件“%(name)s”是空文件。") % {"name": name}})
    if uploaded.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("文件过大：%(size).1f MB，上限为%(max)d MB。")
                % {
                    "size": uploaded.size / 1024 / 1024,
                    "max": settings.ATTACHMENT_MAX_BYTES // 1024 // 1024,
                }
            }
        )
    content_type, magics = ALLOWED_TYPES[suffix]
    uploaded.seek(0)
    head = uploaded.read(8)
    if magics and not any(head.startswith(m) for m in magics):
        raise ValidationError(
            {
                "file": _("文件内容与扩展名“%(ext)s”不符，请确认文件未损坏或被改名。")
                % {"ext": suffix}
            }
        )
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return content_type, digest.hexdigest()


def add_attachment(customer, uploaded, *, category, title, document_date, user):
    from creditfile.customers.models import Attachment

    content_type, sha256 = validate_upload(uploaded)
    return Attachment.objects.create(
        customer=customer,
        category=category,
        title=title or uploaded.name,
        document_date=document_date,
        file=uploaded,
        original_name=PurePosixPath(uploaded.name).name[:255],
        content_type=content_type,
        size=uploaded.size,
        sha256=sha256,
        recorded_by=user,
    )
