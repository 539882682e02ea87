"""ioctl: sockets (linux/sockios.h, request type 0x89): struct ifreq by
request (which field of its union each request reads or fills is in
ioctls.toml's [ioctl_args]: `in:ifreq_mtu` for SIOCSIFMTU,
`inout:ifreq_mtu_get` for SIOCGIFMTU), as strace's sock_ioctl prints it:
`{ifr_name="lo", ifr_mtu=65536}`; a getter's field only when the call
succeeded. Interface indexes of the bridge requests as
`if_nametoindex("lo")`."""

from __future__ import annotations

import struct

from ._core import C
from ._ioctl_util import arg_bytes, asked_got, cstring, exit_bytes, printer
from ._netlink_msgs import _ifindex
from ._sockaddr import sockaddr_text

_IFREQ = 40  # ifr_name[IFNAMSIZ] and a 24-byte union (x86_64)


def _hwaddr(c: C, u: bytes) -> str:
    """A link-layer address: the family as an ARPHRD_ type, its bytes as
    hex pairs (6 of an Ethernet address, all 14 of sa_data otherwise)."""
    fam = struct.unpack_from("<H", u)[0]
    n = 6 if fam == 1 else 14  # ARPHRD_ETHER
    mac = ":".join(f"{x:02x}" for x in u[2:2 + n])
    return f"{{sa_family={c.fs('arp_hardware_types').xval(fam, c.style)}, sa_data={mac}}}"


def _ifmap(c: C, u: bytes) -> str:
    start, end, base, irq, dma, port = struct.unpack_from("<QQHBBB", u)
    return (f"{{mem_start={start:#x}, mem_end={end:#x}, base_addr={base:#x}, irq={irq:#x}, dma={dma:#x}, "
            f"port={port:#x}}}")


# the union's fields: name printed, printer of its bytes
_FIELDS = {
    "addr": ("ifr_addr", lambda c, u: sockaddr_text(c, u[:16])),
    "dstaddr": ("ifr_dstaddr", lambda c, u: sockaddr_text(c, u[:16])),
    "broadaddr": ("ifr_broadaddr", lambda c, u: sockaddr_text(c, u[:16])),
    "netmask": ("ifr_netmask", lambda c, u: sockaddr_text(c, u[:16])),
    "hwaddr": ("ifr_hwaddr", _hwaddr),
    "flags": ("ifr_flags", lambda c, u: c.fs("iff_flags").flags(struct.unpack_from("<H", u)[0], c.style)),
    "metric": ("ifr_metric", lambda c, u: str(struct.unpack_from("<i", u)[0])),
    "mtu": ("ifr_mtu", lambda c, u: str(struct.unpack_from("<i", u)[0])),
    "qlen": ("ifr_qlen", lambda c, u: str(struct.unpack_from("<i", u)[0])),
    "ifindex": ("ifr_ifindex", lambda c, u: str(struct.unpack_from("<i", u)[0])),
    "map": ("ifr_map", _ifmap),
    "newname": ("ifr_newname", lambda c, u: cstring(u[:16])),
    "slave": ("ifr_slave", lambda c, u: cstring(u[:16])),
}


def _setter(field: str):
    label, fn = _FIELDS[field]
    return lambda c, b: f"{{ifr_name={cstring(b[:16])}, {label}={fn(c, b[16:])}}}"


def _getter(field: str):
    """`{ifr_name=NAME}` asked, `, FIELD=VALUE` added when the call
    succeeded and the struct can be read back."""
    label, fn = _FIELDS[field]
    return lambda c: asked_got(c, _IFREQ, lambda b: f"ifr_name={cstring(b[:16])}", lambda b, w: f", {label}={fn(c, w[16:])}")


for _f in ("addr", "dstaddr", "broadaddr", "netmask", "hwaddr", "flags", "metric", "mtu", "qlen", "map",
           "newname", "slave"):
    printer(f"ifreq_{_f}", _IFREQ)(_setter(_f))
for _f in ("addr", "dstaddr", "broadaddr", "netmask", "hwaddr", "flags", "metric", "mtu", "qlen", "map", "slave",
           "ifindex"):
    printer(f"ifreq_{_f}_get")(_getter(_f))


@printer("ifreq_name_get")
def _getname(c: C) -> str:
    """SIOCGIFNAME: the index asked, the name the call found."""
    return asked_got(c, _IFREQ, lambda b: f"ifr_ifindex={struct.unpack_from('<i', b, 16)[0]}",
                     lambda b, w: f", ifr_name={cstring(w[:16])}")


@printer("ifreq_bridge_port", _IFREQ)
def _bridge_port(c: C, b: bytes) -> str:
    """SIOCBRADDIF/SIOCBRDELIF: the port's interface index alone."""
    return f"{{ifr_ifindex={_ifindex(struct.unpack_from('<i', b, 16)[0], c.style)}}}"


@printer("ifname")
def _ifname(c: C) -> str:
    """SIOCBRADDBR/SIOCBRDELBR: a bridge name of IFNAMSIZ bytes at most."""
    return c.cstr(2, limit=16, reads=16)


def _ifc_len(v: int, c: C) -> str:
    if v > 0 and v % _IFREQ == 0 and c.style != "raw":
        return f"{v} /* {v // _IFREQ} * sizeof(struct ifreq) */"
    return str(v)


@printer("ifconf")
def _ifconf(c: C) -> str:
    """SIOCGIFCONF: the buffer's length asked and the length the call used
    (` => `), the interfaces the call wrote into the buffer (read by a DEREF
    op at exit: [layouts] ifconf), at most -s of them."""
    b = arg_bytes(c, 0, 16)
    if isinstance(b, str):
        return b
    n, ptr = struct.unpack_from("<i4xQ", b)
    if not c.exiting:
        return f"{{ifc_len={_ifc_len(n, c)}, ifc_buf={f'{ptr:#x}' if ptr else 'NULL'}}}"
    w = exit_bytes(c, 4)
    out = struct.unpack_from("<i", w)[0] if w is not None else n
    if not ptr:
        return f"{{ifc_len={_ifc_len(out, c)}, ifc_buf=NULL}}"
    text = f"{{ifc_len={_ifc_len(n, c)}" + (f" => {_ifc_len(out, c)}" if out != n else "")
    data = c.deref(2, 8, 1) if c.ok else None
    if not isinstance(data, (bytes, bytearray)):
        return text + f", ifc_buf={ptr:#x}}}"
    items = []
    for off in range(0, min(max(out, 0), len(data)) - _IFREQ + 1, _IFREQ):
        if c.abbrev and len(items) >= c.opts.strsize:
            items.append("...")
            break
        items.append(f"{{ifr_name={cstring(data[off:off + 16])}, ifr_addr={sockaddr_text(c, data[off + 16:off + 32])}}}")
    return text + ", ifc_buf=[" + ", ".join(items) + "]}"
