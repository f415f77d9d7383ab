"""Seeded mutants of the real-world corpus, the kinds of damage mail meets on its way: flipped
bytes, truncation, 8-bit bytes and NUL in headers, broken MIME boundaries (issue 9's fuzz)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from tools.shared import shared_dir

CORPUS = shared_dir() / "corpus" / "mails"


def corpus() -> list[bytes]:
    return [p.read_bytes() for p in sorted(CORPUS.rglob("*.eml"))]


def _split(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(headers, separator, body)."""
    match = re.search(rb"\r?\n\r?\n", raw)
    if not match:
        return raw, b"", b""
    return raw[:match.start()], raw[match.start():match.end()], raw[match.end():]


def flip_bytes(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 24)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def truncate(raw: bytes, rng: random.Random) -> bytes:
    return raw[:rng.randint(1, max(1, len(raw) - 1))]


def _in_header(raw: bytes, rng: random.Random, junk: Callable[[], bytes]) -> bytes:
    head, sep, body = _split(raw)
    lines = head.split(b"\n")
    # The headers people read and touchlog keys on, most often; any other line too.
    wanted = [i for i, line in enumerate(lines)
              if re.match(rb"(?i)(message-id|from|to|cc|subject|date|in-reply-to|references|"
                          rb"content-type):", line)] or list(range(len(lines)))
    for _ in range(rng.randint(1, 3)):
        i = rng.choice(wanted)
        at = rng.randint(min(len(lines[i]), lines[i].find(b":") + 1), len(lines[i]))
        lines[i] = lines[i][:at] + junk() + lines[i][at:]
    return b"\n".join(lines) + sep + body


def eight_bit_in_headers(raw: bytes, rng: random.Random) -> bytes:
    return _in_header(raw, rng, lambda: bytes(rng.randrange(0x80, 0x100)
                                              for _ in range(rng.randint(1, 6))))


def nul_in_headers(raw: bytes, rng: random.Random) -> bytes:
    return _in_header(raw, rng, lambda: b"\x00" * rng.randint(1, 3))


def broken_boundaries(raw: bytes, rng: random.Random) -> bytes:
    match = re.search(rb'(?i)boundary="?([^";\r\n]+)"?', raw)
    if not match:
        return truncate(raw, rng)
    boundary = match.group(1)
    choice = rng.randrange(3)
    if choice == 0:  # the closing boundary gone
        return raw.replace(b"--" + boundary + b"--", b"")
    if choice == 1:  # the header names one boundary, the parts use another
        return raw[:match.start(1)] + boundary[::-1] + b"x" + raw[match.end(1):]
    parts = raw.split(b"--" + boundary)  # a part boundary cut in half
    if len(parts) > 2:
        k = rng.randrange(1, len(parts))
        parts[k] = parts[k][:len(parts[k]) // 2]
    return (b"--" + boundary).join(parts)


MUTATIONS = (flip_bytes, truncate, eight_bit_in_headers, nul_in_headers, broken_boundaries)


def mutants(n: int, seed: int) -> list[bytes]:
    """n mutants, each a corpus message with one to three kinds of damage."""
    rng = random.Random(seed)
    mails = corpus()
    made = []
    for _ in range(n):
        raw = rng.choice(mails)
        for mutate in rng.sample(MUTATIONS, rng.randint(1, 3)):
            raw = mutate(raw, rng)
        made.append(raw)
    return made
