"""setsockopt's struct values the kernel reads by option, as strace prints them.

- MCAST_JOIN_GROUP/MCAST_LEAVE_GROUP (SOL_IP, SOL_IPV6): struct group_req,
  read when the length holds it (a longer length reads the struct only).
- PACKET_ADD/DROP_MEMBERSHIP: struct packet_mreq, only for its exact length;
  the address as many bytes as mr_alen says (at most the 8 it has).
- PACKET_RX_RING/PACKET_TX_RING: struct tpacket_req, only for its exact length.

Anything else (a length that does not fit, memory that ends first) prints
as the address.
"""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import quote
from ._netlink_msgs import _ifindex

GROUP_REQ_SIZE = 136  # gr_interface, padding, a sockaddr_storage
PACKET_MREQ_SIZE = 16
TPACKET_REQ_SIZE = 16

SOL_IP, SOL_IPV6, SOL_PACKET = 0, 41, 263
MCAST_JOIN_GROUP, MCAST_LEAVE_GROUP = 42, 45
PACKET_ADD_MEMBERSHIP, PACKET_DROP_MEMBERSHIP, PACKET_RX_RING, PACKET_TX_RING = 1, 2, 5, 13


def mac_text(b: bytes, style: str) -> str:
    """strace's print_mac_addr: `aa:bb:...`, the bytes in hex under -X raw,
    both under -X verbose."""
    colons = ":".join(f"{x:02x}" for x in b)
    if style == "raw":
        return quote(b, force_hex=True)
    if style == "verbose":
        return quote(b, force_hex=True) + f" /* {colons} */"
    return colons


def _group_req(c: C, b: bytes) -> str:
    from ._sockaddr import sockaddr_text

    iface = struct.unpack_from("<I", b)[0]
    return f"{{gr_interface={_ifindex(iface, c.style)}, gr_group={sockaddr_text(c, b[8:GROUP_REQ_SIZE], 128)}}}"


def _packet_mreq(c: C, b: bytes) -> str:
    ifindex, mr_type, alen = struct.unpack_from("<iHH", b)
    addr = b[8:8 + min(alen, 8)]
    return (f"{{mr_ifindex={_ifindex(ifindex, c.style)}, mr_type={c.fs('packet_mr_types').xval(mr_type, c.style)}, "
            f"mr_alen={alen}, mr_address={mac_text(addr, c.style)}}}")


def _tpacket_req(c: C, b: bytes) -> str:
    names = ("tp_block_size", "tp_block_nr", "tp_frame_size", "tp_frame_nr")
    return "{" + ", ".join(f"{n}={v}" for n, v in zip(names, struct.unpack_from("<4I", b))) + "}"


def struct_value(c: C, lvl: int, opt: int, ln: int, b: bytes) -> str | None:
    """The value's text when (level, option) is one of the structs above,
    else None (the caller prints it its own way)."""
    if lvl in (SOL_IP, SOL_IPV6) and opt in (MCAST_JOIN_GROUP, MCAST_LEAVE_GROUP):
        ok, pr = ln >= GROUP_REQ_SIZE and len(b) >= GROUP_REQ_SIZE, _group_req
    elif lvl == SOL_PACKET and opt in (PACKET_ADD_MEMBERSHIP, PACKET_DROP_MEMBERSHIP):
        ok, pr = ln == PACKET_MREQ_SIZE and len(b) >= PACKET_MREQ_SIZE, _packet_mreq
    elif lvl == SOL_PACKET and opt in (PACKET_RX_RING, PACKET_TX_RING):
        ok, pr = ln == TPACKET_REQ_SIZE and len(b) >= TPACKET_REQ_SIZE, _tpacket_req
    else:
        return None
    return pr(c, b) if ok else c.ptr(3)
