"""Requests out to addresses people typed (webhook subscriptions, WeCom group robots): never inside the network.

An address that reaches the zone's own network — loopback, private ranges, link-local (the cloud metadata service
at 169.254.169.254), carrier-grade NAT, multicast, reserved — is refused twice:

- when it is saved (`url_error`): the scheme, no user name or password in it, a literal address or one of the
  legacy numeric spellings (`2130706433`, `0x7f.1`), `localhost`, and the addresses the name resolves to now;
- when it is used (`post`): the name is resolved again, every address it resolves to is checked, and the
  connection is made to the address that was checked, so a name that points inside later (DNS rebinding) is
  refused too. Redirects are never followed and the environment's proxy settings are not used.

OUTBOUND_ALLOW_PRIVATE_ADDRESSES turns both checks off, for tests and the local demo whose receivers listen on
127.0.0.1; `manage.py check --deploy` fails when it is on (tracker/checks.py).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def allowed() -> bool:
    """Whether private addresses are allowed (tests and the local demo only)."""
    return bool(getattr(settings, "OUTBOUND_ALLOW_PRIVATE_ADDRESSES", False))


def is_public(ip: IPAddress) -> bool:
    """A globally routable unicast address; an IPv6 address embedding an IPv4 one is judged by that one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return is_public(embedded)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback)


def literal_address(host: str) -> IPAddress | None:
    """The address `host` spells, including the legacy IPv4 forms resolvers accept (`127.1`, `2130706433`)."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (raises socket.gaierror when it does not)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(sockaddr[0].split("%", 1)[0]) for *_rest, sockaddr in found]


def url_error(url: str) -> str | None:
    """Why `url` may not be saved as a receiver's address, or None. A name that does not resolve today is
    accepted: it is checked again at every delivery."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return _("请输入有效的 http(s) 地址")
    if parts.scheme not in ("http", "https") or not host:
        return _("请输入有效的 http(s) 地址")
    if parts.username is not None or parts.password is not None:
        return _("地址中不能包含用户名或密码；接收方请用签名验证请求")
    if allowed():
        return None
    host = host.rstrip(".").lower()
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return _("不能使用本机或内网地址，请填写接收方的公网地址")
    literal = literal_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError):
            return None
    if not all(is_public(ip) for ip in addresses):
        return _("不能使用本机或内网地址，请填写接收方的公网地址")
    return None


class RefusedAddress(NewConnectionError):
    """The name resolved to an address inside the network: no connection was made."""


class _PublicOnly:
    """Resolve, check every address, and connect to the checked one (TLS still verifies the name)."""

    def _new_conn(self):
        if allowed():
            return super()._new_conn()
        try:
            addresses = resolve(self._dns_host, self.port)
        except socket.gaierror:
            return super()._new_conn()  # the connection fails the same way, with urllib3's own error
        refused = [str(ip) for ip in addresses if not is_public(ip)]
        if refused or not addresses:
            message = _("%(host)s 解析到内网地址 %(addresses)s，已拒绝连接")
            raise RefusedAddress(self, message % {"host": self.host, "addresses": ", ".join(refused)})
        name, failure = self._dns_host, None
        try:
            for ip in dict.fromkeys(addresses):  # each checked address in turn, as urllib3 tries each it resolves
                self._dns_host = str(ip)
                try:
                    return super()._new_conn()
                except NewConnectionError as error:
                    failure = error
            raise failure
        finally:
            self._dns_host = name


class _PublicHTTPConnection(_PublicOnly, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicOnly, HTTPSConnection):
    pass


class _PublicHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PublicHTTPConnectionPool,
            "https": _PublicHTTPSConnectionPool,
        }


def post(url: str, **kwargs) -> requests.Response:
    """`requests.post` that reaches public addresses only; no redirects, no proxies from the environment."""
    error = url_error(url)
    if error:
        raise requests.exceptions.InvalidURL(error)
    with requests.Session() as session:
        session.trust_env = False
        adapter = _PublicOnlyAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session.post(url, allow_redirects=False, **kwargs)
