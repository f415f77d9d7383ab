"""Bytes and header words → Unicode, tolerant of what real mailers send.

Nothing here raises on bad input: an unknown charset falls back to UTF-8, then windows-1252, and
bytes that still do not decode are replaced. Each fallback is reported through a `defects` list.
In core because the ledger's header reader needs it as much as the MIME reader does.
"""

from __future__ import annotations

import binascii
import codecs
import re
from contextlib import suppress
from functools import lru_cache

from core.limits import MAX_SUBJECT_CHARS, cut

# Labels mailers use that Python does not know, or knows as a narrower charset than the one the
# sender really used (GB2312 mail routinely holds GBK/GB18030 characters, Big5 holds HKSCS, and
# "ISO-8859-1" mail from Windows holds windows-1252 quotes and dashes).
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "x-mac-cyrillic": "mac_cyrillic",
    "iso-8859-8-i": "iso8859_8",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_2",
    "big5": "big5hkscs",
    "iso-8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "windows-874": "cp874",
    "unicode-1-1-utf-7": "utf-7",
}


# Declared charsets that cannot hold 8-bit bytes: such bytes mean the label is simply wrong.
_SEVEN_BIT = {"iso2022_jp", "iso2022_jp_2", "iso2022_kr", "utf-7", "ascii"}


_LEGACY_FALLBACK = "cp1252"


_SINGLE_BYTE_PREFIXES = ("cp", "iso8859", "koi8", "mac-", "latin", "tis-620", "kz1048", "ptcp")


_MULTI_BYTE = {"cp932", "cp949", "cp950", "cp1361"}


_ISO2022_ESCAPE = re.compile(rb"\x1b\$[@B]")


_ISO2022_SHIFT = re.compile(rb"(\x1b\$[@B]|\x1b\([BJ])")


_NON_ASCII_TEXT = re.compile(r"[^\x00-\x7f\ufffd]")


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")


_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


@lru_cache(maxsize=256)
def codec_for(label: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when the label is absent or bogus."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
        "".encode(name)  # base64, rot13 and friends are codecs, but not text encodings
    except (LookupError, UnicodeError, ValueError):  # ValueError: a NUL in the label
        return None
    return name


def decode_bytes(data: bytes, label: str | None, defects: list[str] | None = None) -> str:
    """Text from bytes in the declared charset, else UTF-8, else a legacy fallback; never raises."""
    codec = codec_for(label)
    if codec is None and _ISO2022_ESCAPE.search(data):
        codec = "iso2022_jp_2"  # 7-bit Japanese mail whose label was lost or mangled
    if codec == "iso2022_jp_2":
        with suppress(UnicodeDecodeError):
            return data.decode(codec)
        with suppress(UnicodeDecodeError, ValueError):  # ValueError: bytes beyond JIS pairs
            return _iso2022jp_windows(data)
    elif data.isascii():
        return data.decode(codec or "ascii", "replace")
    # Every byte string "decodes" in a single-byte charset, so there strict success proves nothing,
    # while valid multi-byte UTF-8 is never an accident: mail labelled windows-1251 or ISO-8859-1
    # that is really UTF-8 is common.
    for candidate in ("utf-8", codec) if _single_byte(codec) else (codec, "utf-8"):
        if candidate:
            with suppress(UnicodeDecodeError):
                return data.decode(candidate)
    if defects is not None:
        defects.append(f"CharsetDecodeDefect: bytes do not match charset {label or 'unset'!r}")
    return _decode_replacing(data, codec)


def _iso2022jp_windows(data: bytes) -> str:
    """ISO-2022-JP as Windows writes it (CP50220): with NEC and IBM extensions such as ①, № and ㈱,
    which Python's codec rejects. Each JIS pair is mapped to Shift_JIS and read as cp932."""
    out, two_byte = [], False
    for piece in _ISO2022_SHIFT.split(data):
        if _ISO2022_SHIFT.fullmatch(piece):
            two_byte = piece[1:2] == b"$"
        elif two_byte:
            out.append(bytes(_jis_to_sjis(piece)).decode("cp932"))
        else:
            out.append(piece.decode("ascii"))
    return "".join(out)


def _jis_to_sjis(pairs: bytes) -> list[int]:
    out = []
    for j1, j2 in zip(pairs[::2], pairs[1::2], strict=False):
        s1 = ((j1 - 0x21) >> 1) + 0x81
        s1 += 0x40 if s1 > 0x9F else 0
        s2 = j2 + (0x1F + (j2 >= 0x60) if j1 & 1 else 0x7E)
        out += [s1, s2]
    return out


def _single_byte(codec: str | None) -> bool:
    return codec is None or codec.startswith(_SINGLE_BYTE_PREFIXES) and codec not in _MULTI_BYTE


def _decode_replacing(data: bytes, codec: str | None) -> str:
    as_utf8 = data.decode("utf-8", "replace")
    if codec not in (None, "utf-8") and codec not in _SEVEN_BIT:
        declared = data.decode(codec, "replace")
        return declared if declared.count("\ufffd") <= as_utf8.count("\ufffd") else as_utf8
    # Some valid multi-byte sequences: UTF-8 with a few damaged bytes. None at all: the bytes are
    # a legacy single-byte charset, where windows-1252 keeps most Western text readable.
    if _NON_ASCII_TEXT.search(as_utf8):
        return as_utf8
    return data.decode(_LEGACY_FALLBACK, "replace")


def decode_header_bytes(value: str, hint: str | None = None) -> str:
    """Undo the stdlib's surrogate escapes in a header that carried raw 8-bit bytes."""
    if "\x1b$" in value:  # ISO-2022-JP sent raw, without RFC 2047 words
        return decode_bytes(value.encode("utf-8", "surrogateescape"), "iso-2022-jp")
    if value.isascii():  # nearly every header: nothing escaped
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        pass
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_replacing(data, codec_for(hint))


_FOLD = re.compile(r"\r?\n[ \t]*|\r")


def unfold(value: str) -> str:
    return _FOLD.sub(" ", value) if "\n" in value or "\r" in value else value


def header_text(value: str, hint: str | None = None) -> str:
    """A header value as a person reads it: raw 8-bit bytes decoded (`hint`: the charset of the
    message's first text part), folding undone, RFC 2047 words decoded."""
    if value.isascii() and not ("=?" in value or "\n" in value or "\r" in value
                                or "\x1b" in value):
        return value  # nothing to decode, unfold or escape: most headers of most mail
    return decode_words(unfold(decode_header_bytes(value, hint)))


def subject_line(value: str, hint: str | None = None) -> str:
    """A Subject as every listing shows it (the ledger, the failed folder): decoded, its
    whitespace runs made one space, cut to MAX_SUBJECT_CHARS."""
    return cut(" ".join(header_text(value, hint).split()), MAX_SUBJECT_CHARS, " ")


def decode_words(value: str) -> str:
    """RFC 2047 encoded words → text; malformed words are decoded as far as they can be."""
    if "=?" not in value:
        return value
    pieces: list[str] = []
    charset, chunk = "", b""
    pos, after_word = 0, False
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        word_charset = match.group(1).split("*", 1)[0]
        data = _word_bytes(match.group(2), match.group(3))
        if after_word and not gap.strip() and word_charset.lower() == charset.lower():
            chunk += data  # one character may be split across adjacent words
        else:
            if after_word and not gap.strip():
                gap = ""  # whitespace between encoded words is not text (RFC 2047 section 6.2)
            pieces.append(decode_bytes(chunk, charset) if chunk else "")
            pieces.append(gap)
            charset, chunk = word_charset, data
        pos, after_word = match.end(), True
    pieces.append(decode_bytes(chunk, charset) if chunk else "")
    pieces.append(value[pos:])
    return "".join(pieces)


def _word_bytes(encoding: str, text: str) -> bytes:
    raw = text.encode("ascii", "replace")
    if encoding in "Bb":
        return b64decode(raw)
    return binascii.a2b_qp(raw, header=True)


def b64decode(data: bytes | str, defects: list[str] | None = None) -> bytes:
    """Base64 that survives junk characters and broken padding, as mail clients' decoders do."""
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        pass
    if defects is not None:
        defects.append("InvalidBase64Defect: repaired")
    if isinstance(data, str):  # ASCII text: binascii reads it as it is, the repair needs bytes
        data = data.encode("ascii", "replace")
    clean = _B64_JUNK.sub(b"", data)
    if len(clean) % 4 == 1:  # a lone trailing sextet carries no whole byte
        clean = clean[:-1]
    try:
        return binascii.a2b_base64(clean + b"=" * (-len(clean) % 4))
    except binascii.Error:
        return b""
