"""The one-line summary of an SDP body (RFC 8866): connection address, and per media line its
port, codecs and direction, e.g. ``SDP 10.0.0.1 audio 6000 PCMU,PCMA,telephone-event
sendrecv``. A tolerant read: lines it does not know are skipped, never judged."""

from __future__ import annotations

# The static RTP payload types of RFC 3551 §6 that are still met; a dynamic type is named
# by its a=rtpmap line, any other by its number.
STATIC_PAYLOADS = {
    "0": "PCMU", "3": "GSM", "4": "G723", "8": "PCMA", "9": "G722", "13": "CN", "18": "G729",
}
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


def looks_like_sdp(body: bytes) -> bool:
    return body.lstrip().startswith(b"v=0")


def sdp_summary(body: bytes) -> str:
    """The one-line summary of ``body``, or ``""`` when it is not SDP."""
    if not looks_like_sdp(body):
        return ""
    address = ""
    session_direction = ""
    media: list[list[str]] = []  # kind, port, payloads..., with names filled in later
    names: list[dict[str, str]] = []
    directions: list[str] = []
    for raw in body.decode("utf-8", "replace").splitlines():
        line = raw.strip()
        kind, _, value = line.partition("=")
        if kind == "c" and not address:
            address = value.split()[-1] if value.split() else ""
        elif kind == "m":
            media.append(value.split())
            names.append({})
            directions.append("")
        elif kind == "a":
            attribute, _, rest = value.partition(":")
            if attribute in DIRECTIONS:
                if media:
                    directions[-1] = attribute
                else:
                    session_direction = attribute
            elif attribute == "rtpmap" and media:
                number, _, encoding = rest.partition(" ")
                names[-1][number] = encoding.split("/")[0]
    parts = ["SDP", address] if address else ["SDP"]
    for fields, named, direction in zip(media, names, directions, strict=True):
        kind, port = [*fields, "", ""][:2]
        codecs = [named.get(p) or STATIC_PAYLOADS.get(p, p) for p in fields[3:]]
        parts += [kind, port, ",".join(codecs) or "-",
                  direction or session_direction or "sendrecv"]
    return " ".join(part for part in parts if part)
