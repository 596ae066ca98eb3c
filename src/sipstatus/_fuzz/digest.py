"""HTTP Digest authentication as SIP uses it (RFC 3261 §22.4; RFC 7616, RFC 2617; RFC 8760
for SHA-256 in SIP): the ``response`` a client computes for a challenge, and the
Authorization / Proxy-Authorization value that carries it.

No I/O and no randomness: the caller gives the client nonce (``cnonce``) and the nonce count.

* ``algorithm`` MD5 (also the default when a challenge names none), SHA-256, and their
  ``-sess`` forms (RFC 7616 §3.4.2: A1 then also covers the nonce and cnonce);
* ``qop=auth`` (RFC 7616 §3.4.1: ``response = H(H(A1):nonce:nc:cnonce:qop:H(A2))``) or no
  qop at all (the RFC 2069 form kept by RFC 2617 §3.2.2.1: ``H(H(A1):nonce:H(A2))``);
  ``auth-int`` is not offered (it would bind the body, which a fuzzer breaks on purpose).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

#: Algorithms a response can be computed for (RFC 7616 §3.3, §6.1), and their hash.
ALGORITHMS: dict[str, str] = {
    "MD5": "md5", "MD5-SESS": "md5", "SHA-256": "sha256", "SHA-256-SESS": "sha256",
}


def supported(algorithm: str | None) -> bool:
    """Whether a challenge's ``algorithm`` parameter (None: absent, meaning MD5) is one this
    module answers."""
    return (algorithm or "MD5").upper() in ALGORITHMS


def _h(algorithm: str, text: str) -> str:
    return hashlib.new(ALGORITHMS[algorithm.upper()], text.encode("utf-8")).hexdigest()


def response(*, algorithm: str | None, username: str, realm: str, password: str, method: str,
             uri: str, nonce: str, qop: str | None = None, nc: int = 1,
             cnonce: str = "") -> str:
    """The ``response`` parameter (lower-case hex) for one request (RFC 7616 §3.4.1)."""
    name = (algorithm or "MD5").upper()
    if name not in ALGORITHMS:
        raise ValueError(f"unsupported Digest algorithm: {algorithm!r}")
    ha1 = _h(name, f"{username}:{realm}:{password}")
    if name.endswith("-SESS"):
        ha1 = _h(name, f"{ha1}:{nonce}:{cnonce}")
    ha2 = _h(name, f"{method}:{uri}")
    if qop is None:
        return _h(name, f"{ha1}:{nonce}:{ha2}")
    if qop != "auth":
        raise ValueError(f"unsupported qop: {qop!r}")
    return _h(name, f"{ha1}:{nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}")


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who the fuzzer is to a registrar (``--user``, ``--password``)."""

    username: str
    password: str


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def authorization(credentials: Credentials, *, method: str, uri: str, realm: str,
                  nonce: str, algorithm: str | None = None, qop: tuple[str, ...] = (),
                  opaque: str | None = None, nc: int = 1, cnonce: str = "") -> str:
    """The value of Authorization (or Proxy-Authorization) answering a challenge with these
    ``realm``, ``nonce``, ``algorithm``, ``qop`` options and ``opaque`` (RFC 7616 §3.4,
    RFC 3261 §22.4): qop ``auth`` when the challenge offers it (then ``cnonce`` and ``nc``
    go with it), else no qop; the challenge's algorithm named back as it was written."""
    chosen = "auth" if "auth" in qop else None
    digest = response(algorithm=algorithm, username=credentials.username, realm=realm,
                      password=credentials.password, method=method, uri=uri, nonce=nonce,
                      qop=chosen, nc=nc, cnonce=cnonce)
    parts = [f"username={_quoted(credentials.username)}", f"realm={_quoted(realm)}",
             f"nonce={_quoted(nonce)}", f"uri={_quoted(uri)}", f"response={_quoted(digest)}",
             f"algorithm={algorithm or 'MD5'}"]
    if chosen is not None:
        parts += [f"cnonce={_quoted(cnonce)}", f"qop={chosen}", f"nc={nc:08x}"]
    if opaque is not None:
        parts.append(f"opaque={_quoted(opaque)}")
    return "Digest " + ", ".join(parts)
