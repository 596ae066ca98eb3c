"""HEP v3 (Homer Encapsulation Protocol): the codec, HEP as a capture source, and HEP out.

- :func:`decode` / :func:`encode`: one packet, :class:`HepPacket` (every generic chunk
  0x0001-0x0013, vendor chunks kept undecoded); :class:`HepError` (a ``ValueError``, with
  ``offset`` and ``expected``) is the only error any bytes can raise.
- :func:`read`: the SIP messages inside the HEP packets of a pcap/pcapng file (port 9060 by
  default), as ``sipstatus.capture.CapturedMessage``.
- :class:`HepListener`: a UDP (``hep://HOST:PORT``) or TCP (``hep+tcp://HOST:PORT``)
  collector; :class:`HepSender`: SIP messages out as HEP, with their own times and addresses.

``sipstatus scan`` uses all of them (``hep://`` sources, ``--hep``, ``--hep-out``); the
sources, the divergences between implementations, and the measurements are in docs/hep.md.
"""

from __future__ import annotations

from sipstatus.hep._codec import (
    CHUNK_NAMES,
    FAMILY_IPV4,
    FAMILY_IPV6,
    MAX_PAYLOAD,
    PAYLOAD_SIP,
    PAYLOAD_TYPES,
    HepPacket,
    decode,
    encode,
)
from sipstatus.hep._errors import HepError
from sipstatus.hep._read import read
from sipstatus.hep._send import HepSender, packet_of
from sipstatus.hep._source import HEP_PORT, HepFramer, HepListener, HepStats

__all__ = ["CHUNK_NAMES", "FAMILY_IPV4", "FAMILY_IPV6", "HEP_PORT", "MAX_PAYLOAD",
           "PAYLOAD_SIP", "PAYLOAD_TYPES", "HepError", "HepFramer", "HepListener",
           "HepPacket", "HepSender", "HepStats", "decode", "encode", "packet_of", "read"]
