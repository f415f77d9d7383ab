"""How fast touchlog understands mail: parse_message + skip_reason (+ find_forwards when present).

    python bench/bench_understand.py --size tiny    # one pass over the corpus, seconds (CI)
    python bench/bench_understand.py --size full    # 20 passes

Reads every corpus message (../shared/corpus/mails), repeats the list to the size asked, and prints
messages per second for each stage and for all of understanding, against the standard library's
bare `email.message_from_bytes(raw, policy=email.policy.default)` over the same bytes in the same
run, the ratio of the two, and the peak memory (allocations of one traced pass, and process RSS).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from poller.mail.message import parse_message  # noqa: E402
from poller.understand.filters import skip_reason  # noqa: E402
from tools.shared import shared_dir  # noqa: E402

try:  # written alongside; the bench measures it once it exists
    from poller.mail.forwards import find_forwards  # noqa: E402
except ImportError:
    find_forwards = None

CORPUS = shared_dir() / "corpus" / "mails"
PASSES = {"tiny": 1, "small": 5, "full": 20}


def load(size: str) -> list[bytes]:
    raws = [path.read_bytes() for path in sorted(CORPUS.glob("*/*.eml"))]
    if not raws:
        sys.exit(f"no corpus at {CORPUS}")
    return raws * PASSES[size]


def understand(raw: bytes) -> None:
    msg = parse_message(raw)
    skip_reason(msg)
    if find_forwards is not None:
        find_forwards(msg)


def stdlib_parse(raw: bytes) -> None:
    email.message_from_bytes(raw, policy=email.policy.default)


def rate(work: Callable[[bytes], object], raws: list[bytes]) -> float:
    """Messages per second of one timed run (after one warm-up message)."""
    work(raws[0])
    start = time.perf_counter()
    for raw in raws:
        work(raw)
    return len(raws) / (time.perf_counter() - start)


def stage_rates(raws: list[bytes]) -> dict[str, float]:
    """Each stage alone, over already parsed messages where it needs them."""
    messages = [parse_message(raw) for raw in raws]
    rates = {"parse_message": rate(parse_message, raws)}
    rates["skip_reason"] = _rate_over(skip_reason, messages)
    if find_forwards is not None:
        rates["find_forwards"] = _rate_over(find_forwards, messages)
    return rates


def _rate_over(work: Callable[[object], object], items: list) -> float:
    start = time.perf_counter()
    for item in items:
        work(item)
    return len(items) / (time.perf_counter() - start)


def traced_peak_mb(raws: list[bytes]) -> float:
    """Peak bytes allocated while understanding one message at a time (tracemalloc)."""
    tracemalloc.start()
    for raw in raws:
        understand(raw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(PASSES), default="tiny")
    size = parser.parse_args().size
    raws = load(size)
    megabytes = sum(map(len, raws)) / 1e6
    print(f"{len(raws)} messages, {megabytes:.1f} MB ({size})")
    ours, stdlib = rate(understand, raws), rate(stdlib_parse, raws)
    stages = ", ".join(f"{name} {value:,.0f}/s" for name, value in stage_rates(raws).items())
    label = "parse + filters" + (" + forwards" if find_forwards else "")
    print(f"understanding ({label}): {ours:,.0f} msg/s, {ours * megabytes / len(raws):.1f} MB/s")
    print(f"  stages alone: {stages}")
    print(f"stdlib message_from_bytes(policy=default): {stdlib:,.0f} msg/s")
    print(f"ratio understanding/stdlib time: {stdlib / ours:.2f}x")
    corpus_once = raws[: len(raws) // PASSES[size]]
    print(f"peak traced allocation over one pass: {traced_peak_mb(corpus_once):.1f} MB")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak process RSS: {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
