"""The client's address: the connection's, unless it comes from a proxy the settings trust
(`web.trusted_proxies`); then the nearest address in X-Forwarded-For that is not one of those
proxies. Anyone can write X-Forwarded-For, so it is believed only from a trusted proxy, and
only as far back as the trusted proxies reach."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(texts: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(text, strict=False) for text in texts)


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted: Sequence[Network]) -> str:
    peer = peer or ""
    if not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    for hop in reversed(hops):
        if not _is_address(hop):
            return peer  # a proxy of ours never writes that: believe nothing of it
        if not _trusted(hop, trusted):
            return hop
    return hops[0]


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
