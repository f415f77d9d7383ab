"""An attachment served as a download (SPEC 21): never shown in the page's origin as a page of
its own. `Content-Disposition: attachment` with a file name that cannot break the header or
name a path, the stored content type only when a browser cannot run it (else
application/octet-stream), and `X-Content-Type-Options: nosniff` so no browser guesses."""

from __future__ import annotations

import re
from urllib.parse import quote

from werkzeug.wrappers import Response

# Types a browser shows or hands to a viewer without running anything of the site's: no HTML,
# SVG, XML, script or anything else that may carry script.
HARMLESS = frozenset({
    "application/pdf", "application/zip", "application/gzip", "application/msword",
    "application/vnd.ms-excel", "application/vnd.ms-powerpoint", "application/rtf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation", "text/plain", "text/csv",
    "text/calendar", "image/png", "image/jpeg", "image/gif", "image/webp", "audio/mpeg",
    "audio/ogg", "video/mp4", "message/rfc822",
})
OCTET = "application/octet-stream"
# What a file name keeps: no control characters, no quotes or backslashes (the header's own
# syntax), no path separators; anything else stays, sent as RFC 5987 UTF-8.
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f-\x9f"\\/:*?<>|\u2028\u2029\u202a-\u202e\u2066-\u2069]')


def content_type(stored: str | None) -> str:
    """The stored type (without its parameters) when harmless; else octet-stream."""
    base = (stored or "").split(";", 1)[0].strip().lower()
    if base not in HARMLESS:
        return OCTET
    return base


def safe_filename(name: str | None, fallback: str) -> str:
    """A file name fit for the header and a folder: unsafe characters as `_`, no leading dots
    (no hidden or `..` file), at most 150 characters, and `fallback` when nothing is left."""
    cleaned = _UNSAFE_NAME.sub("_", name or "").strip().lstrip(".").strip()
    if len(cleaned) > 150:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (stem[:140] + dot + ext[:9]) if dot and len(ext) <= 9 else cleaned[:150]
    return cleaned or fallback


def download(data: bytes, filename: str | None, stored_type: str | None,
             fallback: str) -> Response:
    name = safe_filename(filename, fallback)
    ascii_name = name.encode("ascii", "replace").decode("ascii").replace("?", "_")
    disposition = f'attachment; filename="{ascii_name}"'
    if ascii_name != name:
        disposition += f"; filename*=UTF-8''{quote(name, safe='')}"
    response = Response(data, content_type=content_type(stored_type))
    response.headers["Content-Disposition"] = disposition
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
