"""Tiny but real documents for demo attachments: a PDF, a PNG and a UTF-8 text file.

They are built by hand (no fonts, no image library) so thousands cost nothing; the PDF's
text is ASCII because the built-in PDF fonts have no Chinese glyphs.
"""

import random
import struct
import zlib


def pdf_bytes(title: str, lines: list[str]) -> bytes:
    text = [title, *lines]
    stream = "BT /F1 14 Tf 56 780 Td 18 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
        for line in text
    )
    stream += " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def png_bytes(rng: random.Random, width: int = 96, height: int = 64) -> bytes:
    """A small picture: a coloured card with a darker band, like a scanned licence thumbnail."""
    base = (rng.randint(180, 240), rng.randint(180, 240), rng.randint(180, 240))
    band = tuple(c // 2 for c in base)
    rows = []
    for y in range(height):
        colour = band if 10 <= y < 20 else base
        rows.append(b"\x00" + bytes(colour) * width)
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def text_bytes(customer_name: str, uscc: str, title: str) -> bytes:
    return (
        f"{title}\n\n客户名称：{customer_name}\n统一社会信用代码：{uscc}\n"
        "本文件为演示数据，仅供系统演示使用。\n"
    ).encode()
