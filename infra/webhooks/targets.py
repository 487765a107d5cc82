"""Where webhooks may go (SSRF safety).

Outside development a target must be ``https`` and every address its host
name resolves to must be a public unicast address: not loopback, private,
link-local (which holds the cloud metadata address 169.254.169.254),
CGNAT (100.64.0.0/10), unique-local, multicast, reserved or unspecified, nor
an IPv4 address mapped into IPv6 that is one of those. :class:`TargetPolicy`
checks a URL when it is saved; :meth:`TargetPolicy.resolve` is called again
before every delivery attempt and answers the address to connect to, so a
name that re-resolves to a private address later (DNS rebinding) is refused
at that point, and the connection goes to the address that was checked.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from infra.errors import InfrastructureError

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class UnsafeTargetError(InfrastructureError):
    """The target is not one webhooks may be sent to."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (TCP), as text.

    Raises:
        UnsafeTargetError: the name does not resolve.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise UnsafeTargetError(f"{host} does not resolve: {e}") from e
    return [str(info[4][0]) for info in infos]


def forbidden(address: IPAddress) -> bool:
    """Whether webhooks must not be sent to ``address``."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return forbidden(address.ipv4_mapped)
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return True
    return (
        not address.is_global
        or address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_reserved
        or address.is_unspecified
    )


@dataclass(frozen=True)
class Target:
    """A checked target: connect to ``address``, speak to ``host``."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class TargetPolicy:
    """The rule for targets.

    Args:
        allow_insecure: Accept ``http`` and non-public addresses (development
            and tests only; settings refuse it in production).
        resolver: Host name to addresses.
    """

    allow_insecure: bool
    resolver: Resolver = system_resolver

    def resolve(self, url: str) -> Target:
        """The address to connect to for ``url``, checked.

        Raises:
            UnsafeTargetError: why ``url`` may not be a target.
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as e:
            raise UnsafeTargetError(f"not a URL: {e}") from e
        scheme, host = parts.scheme.lower(), parts.hostname
        if scheme not in ("http", "https") or not host:
            raise UnsafeTargetError("the url must be an absolute http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise UnsafeTargetError("the url must not hold credentials")
        if parts.fragment:
            raise UnsafeTargetError("the url must not hold a fragment")
        if scheme != "https" and not self.allow_insecure:
            raise UnsafeTargetError("the url must use https")
        port = port or (443 if scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        addresses = self._addresses(host, port)
        if not self.allow_insecure:
            for text in addresses:
                if forbidden(ipaddress.ip_address(text.split("%")[0])):
                    raise UnsafeTargetError(
                        f"{host} resolves to {text}, which is not a public address"
                    )
        return Target(scheme, host, port, path, addresses[0])

    def _addresses(self, host: str, port: int) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            pass
        found = self.resolver(host, port)
        if not found:
            raise UnsafeTargetError(f"{host} does not resolve")
        return found

    def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be saved as a target, or ``None``."""
        try:
            self.resolve(url)
        except UnsafeTargetError as e:
            return str(e)
        return None
