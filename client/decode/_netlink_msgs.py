"""Netlink payloads by family: attribute lists (struct nlattr) and the
fixed headers the families put first (rtgenmsg, ifinfomsg, ...), as strace
prints them. The attribute printers are data: {attribute type: printer}."""

from __future__ import annotations

import socket
import struct

from ._fmt import FlagSet, hexa, quote_buf
from ._ioctl_util import cstring, field_fd

NLA_HDRLEN = 4
NLA_F_NESTED, NLA_F_NET_BYTEORDER = 0x8000, 0x4000


def _int(fmt: str, size: int):
    def pr(nl, off: int, n: int) -> str | None:
        if n < size:  # a longer attribute: its first `size` bytes (strace's decode_nla_u32, ...)
            return None
        b = nl.mem.get(off, size)
        if b is None:
            return nl.mem.at(off)
        return str(struct.unpack("<" + fmt, b)[0])

    return pr


def _x(fmt: str, size: int):
    def pr(nl, off: int, n: int) -> str | None:
        if n < size:
            return None
        b = nl.mem.get(off, size)
        if b is None:
            return nl.mem.at(off)
        return hexa(struct.unpack("<" + fmt, b)[0])

    return pr


u8, u16, u32, u64 = _int("B", 1), _int("H", 2), _int("I", 4), _int("Q", 8)
s8, s16, s32, s64 = _int("b", 1), _int("h", 2), _int("i", 4), _int("q", 8)
x32 = _x("I", 4)


def nla_str(nl, off: int, n: int) -> str:
    """A string attribute as strace's decode_nla_str: all n bytes (a NUL
    inside shown), a final NUL left out, `...` when there is none."""
    take = min(n, nl.strsize + 1)
    b = nl.mem.get(off, take)
    if b is None:
        return nl.mem.at(off)
    b = bytes(b)
    xflag = nl.c.opts.xflag
    if n <= nl.strsize + 1 and b[n - 1:n] == b"\0":
        return quote_buf(b[: n - 1], n - 1, nl.strsize, xflag)
    text = quote_buf(b, n, nl.strsize, xflag)
    return text if n > nl.strsize else text + "..."


def _u8_array(nl, off: int, n: int) -> str:
    b = nl.mem.get(off, n)
    if b is None:
        return nl.mem.at(off)
    return "[" + ", ".join(str(x) for x in b) + "]"


NLMSGERR_ATTRS = {1: nla_str, 2: u32, 3: _u8_array}  # MSG, OFFS, COOKIE


def _attr_head(nl, ln: int, typ: int, setname: str | None, dflt: str | None = None) -> str:
    parts = []
    if typ & NLA_F_NESTED:
        parts.append("NLA_F_NESTED")
    if typ & NLA_F_NET_BYTEORDER:
        parts.append("NLA_F_NET_BYTEORDER")
    t = typ & ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)
    if setname and dflt and nl.c.fs(setname).lookup(t) is None:
        style = nl.style()
        parts.append(hexa(t) if style == "raw" else f"{hexa(t)} /* {dflt} */")
    else:
        parts.append(nl.c.fs(setname).xval(t, nl.style()) if setname else hexa(t))
    return f"{{nla_len={ln}, nla_type={'|'.join(parts)}}}"


def attrs(nl, off: int, n: int, setname: str | None, printers: dict | None, dflt: str | None = None) -> str:
    """A sequence of netlink attributes in n bytes at off."""
    out: list[str] = []
    is_array = False
    elt = 0
    while True:
        if n < NLA_HDRLEN:
            out.append(nl.hexstr(off, n))
            break
        b = nl.mem.get(off, NLA_HDRLEN)
        if b is None:
            out.append(f"... /* {nl.mem.at(off)} */" if is_array else nl.mem.at(off))
            break
        if nl.c.abbrev and elt == nl.strsize:
            out.append("...")
            break
        ln, typ = struct.unpack("<HH", b)
        alen = (ln + 3) & ~3
        next_n = 0
        if ln >= NLA_HDRLEN:
            next_n = n - alen if n >= alen else 0
        if not is_array and next_n:
            is_array = True
        dl = min(ln, n)
        head = _attr_head(nl, ln, typ, setname, dflt)
        if dl > NLA_HDRLEN:
            pr = (printers or {}).get(typ & ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER))
            text = pr(nl, off + NLA_HDRLEN, dl - NLA_HDRLEN) if pr else None
            if text is None:
                text = nl.hexstr(off + NLA_HDRLEN, dl - NLA_HDRLEN)
            out.append(f"[{head}, {text}]")
        else:
            out.append(head)
        if not next_n:
            break
        off += alen
        n = next_n
        elt += 1
    text = ", ".join(out)
    return f"[{text}]" if is_array else text


def payload(nl, h: tuple, off: int, n: int) -> str | None:
    """The family's decoding of a message's payload, None: printed in hex."""
    fn = FAMILIES.get(nl.family)
    return fn(nl, h, off, n) if fn else None


def _selinux(nl, h, off, n):
    typ = h[1]
    if typ in (0x10, 0x11) and n >= 4:  # SELNL_MSG_SETENFORCE {val}, SELNL_MSG_POLICYLOAD {seqno}
        b = nl.mem.get(off, 4)
        if b is None:
            return nl.mem.at(off)
        v = struct.unpack("<i" if typ == 0x10 else "<I", b)[0]
        return f"{{{'val' if typ == 0x10 else 'seqno'}={v}}}"
    return None


# --- NETLINK_ROUTE -------------------------------------------------------------------

def _ifindex(i: int, style: str = "abbrev") -> str:
    """strace's PRINT_FIELD_IFINDEX: if_nametoindex("lo") when the index names
    an interface (in our network namespace), else the number; -X raw the
    number, -X verbose the number with the name as a comment."""
    if i and style != "raw":
        try:
            name = f'if_nametoindex("{socket.if_indextoname(i)}")'
            return f"{i} /* {name} */" if style == "verbose" else name
        except (OSError, OverflowError, ValueError):  # no such interface, or out of the C int range
            pass
    return str(i)


def _inet_addr(nl, off: int, n: int, family: int) -> str | None:
    size = {socket.AF_INET: 4, socket.AF_INET6: 16}.get(family)
    if size is None or n < size:
        return None
    b = nl.mem.get(off, size)
    if b is None:
        return nl.mem.at(off)
    a = socket.inet_ntop(family, bytes(b))
    text = f'inet_addr("{a}")' if family == socket.AF_INET else f'inet_pton(AF_INET6, "{a}")'
    if n != size:
        return None
    style = nl.style()  # -X raw: the bytes; -X verbose: the bytes with the address as a comment
    return text if style == "abbrev" else nl.hexstr(off, size) + (f" /* {text} */" if style == "verbose" else "")


def _fam(nl, b: int) -> str:
    return nl.c.fs("addrfams").xval(b, nl.style())


def _route_struct(nl, off: int, n: int, family: int, size: int, fields) -> tuple[str, bool]:
    """{first=family, ...}: the whole struct when n holds it, else the family
    and `...` (strace's rtnl decoders). Returns (text, the struct was read)."""
    head, b = _diag_fixed(nl, fields[0][0], family, off, n, size)
    if b is None:
        return head, False
    # a printer's None leaves its field out (strace prints some padding only when nonzero)
    parts = [f"{name}={v}" for name, fn in fields[1:] if (v := fn(nl, b)) is not None]
    return head + ", ".join(parts) + "}", True


def _u8(o):
    return lambda nl, b: str(b[o])


def _fs8(o, setname, flags=False):
    def pr(nl, b):
        fs = nl.c.fs(setname)
        return fs.flags(b[o], nl.style()) if flags else fs.xval(b[o], nl.style())

    return pr


def _u32f(o, setname):
    return lambda nl, b: nl.c.fs(setname).flags(struct.unpack_from("<I", b, o)[0], nl.style())


# include/uapi/linux/ip.h: the type-of-service bits strace names (a value)
_TOS = {0x10: "IPTOS_LOWDELAY", 0x08: "IPTOS_THROUGHPUT", 0x04: "IPTOS_RELIABILITY", 0x02: "IPTOS_MINCOST"}


def _tos(nl, v: int) -> str:
    n = _TOS.get(v)
    style = nl.style()
    if style == "raw" or (n is None and v == 0):
        return hexa(v)
    if n is None:
        return hexa(v) + " /* IPTOS_??? */"
    return f"{hexa(v)} /* {n} */" if style == "verbose" else n


_IFINFOMSG = (("ifi_family", None),
              ("ifi_type", lambda nl, b: nl.c.fs("arp_hardware_types").xval(struct.unpack_from("<H", b, 2)[0], nl.style())),
              ("ifi_index", lambda nl, b: _ifindex(struct.unpack_from("<i", b, 4)[0], nl.style())),
              ("ifi_flags", _u32f(8, "iff_flags")),
              ("ifi_change", lambda nl, b: hexa(struct.unpack_from("<I", b, 12)[0])))
_IFADDRMSG = (("ifa_family", None), ("ifa_prefixlen", _u8(1)), ("ifa_flags", _fs8(2, "ifa_flags", True)),
              ("ifa_scope", _fs8(3, "rt_scopes")),
              ("ifa_index", lambda nl, b: _ifindex(struct.unpack_from("<i", b, 4)[0], nl.style())))
_RTMSG = (("rtm_family", None), ("rtm_dst_len", _u8(1)), ("rtm_src_len", _u8(2)), ("rtm_tos", lambda nl, b: _tos(nl, b[3])),
          ("rtm_table", _fs8(4, "rt_tables")), ("rtm_protocol", _fs8(5, "rt_protos")),
          ("rtm_scope", _fs8(6, "rt_scopes")), ("rtm_type", _fs8(7, "rt_types")),
          ("rtm_flags", _u32f(8, "rtm_flags")))
_NDMSG = (("ndm_family", None),
          ("ndm_ifindex", lambda nl, b: _ifindex(struct.unpack_from("<i", b, 4)[0], nl.style())),
          ("ndm_state", lambda nl, b: nl.c.fs("nud_states").flags(struct.unpack_from("<H", b, 8)[0], nl.style())),
          ("ndm_flags", _fs8(10, "ntf_flags", True)), ("ndm_type", _fs8(11, "rt_types")))


def _attr_addr(family: int):
    return lambda nl, off, n: _inet_addr(nl, off, n, family)


def _hwaddr(nl, off: int, n: int) -> str | None:
    """A link-layer address: 00:11:22:33:44:55."""
    b = nl.mem.get(off, n)
    if b is None:
        return nl.mem.at(off)
    return ":".join(f"{x:02x}" for x in b)


_LINK_STATS = ("rx_packets tx_packets rx_bytes tx_bytes rx_errors tx_errors rx_dropped tx_dropped multicast "
               "collisions rx_length_errors rx_over_errors rx_crc_errors rx_frame_errors rx_fifo_errors "
               "rx_missed_errors tx_aborted_errors tx_carrier_errors tx_fifo_errors tx_heartbeat_errors "
               "tx_window_errors rx_compressed tx_compressed rx_nohandler rx_otherhost_dropped").split()


def _stats(fmt: str, count: int):
    """struct rtnl_link_stats (24 u32) / rtnl_link_stats64 (25 u64), or as
    many fields as the attribute holds whole when it is an older layout."""
    size = struct.calcsize("<" + fmt)

    def pr(nl, off: int, n: int) -> str | None:
        # the whole struct, or exactly an older layout (up to tx_compressed, or
        # rx_nohandler for stats64); any other length is printed in hex
        if n >= count * size:
            k = count
        elif n % size == 0 and 23 <= n // size < count:
            k = n // size
        else:
            return None
        b = nl.mem.get(off, k * size)
        if b is None:
            return nl.mem.at(off)
        vals = struct.unpack_from(f"<{k}{fmt}", b)
        return "{" + ", ".join(f"{f}={v}" for f, v in zip(_LINK_STATS, vals)) + "}"

    return pr


def _u32_struct(*names: str):
    """A struct of u32 fields, printed when the attribute holds it whole."""
    size = 4 * len(names)

    def pr(nl, off: int, n: int) -> str | None:
        if n < size:
            return None
        b = nl.mem.get(off, size)
        if b is None:
            return nl.mem.at(off)
        return "{" + ", ".join(f"{f}={v}" for f, v in zip(names, struct.unpack_from(f"<{len(names)}I", b))) + "}"

    return pr


# attribute printers by name (resolved in the set's values): the data of
# what strace decodes in each route attribute; the rest print in hex
_LINK_ATTRS = {"IFLA_ADDRESS": _hwaddr, "IFLA_BROADCAST": _hwaddr, "IFLA_PERM_ADDRESS": _hwaddr,
               "IFLA_IFNAME": "str", "IFLA_QDISC": "str", "IFLA_IFALIAS": "str", "IFLA_ALT_IFNAME": "str",
               "IFLA_PARENT_DEV_NAME": "str", "IFLA_PARENT_DEV_BUS_NAME": "str", "IFLA_PHYS_PORT_NAME": "str",
               "IFLA_MTU": u32, "IFLA_LINK": s32, "IFLA_MASTER": u32, "IFLA_TXQLEN": u32, "IFLA_WEIGHT": u32,
               "IFLA_OPERSTATE": u8, "IFLA_LINKMODE": u8, "IFLA_NET_NS_PID": u32, "IFLA_NUM_VF": u32,
               "IFLA_PROMISCUITY": u32, "IFLA_NUM_TX_QUEUES": u32, "IFLA_NUM_RX_QUEUES": u32,
               "IFLA_CARRIER": u8, "IFLA_CARRIER_CHANGES": u32, "IFLA_NET_NS_FD": u32, "IFLA_GROUP": u32,
               "IFLA_PROTO_DOWN": u8, "IFLA_GSO_MAX_SEGS": u32, "IFLA_GSO_MAX_SIZE": u32, "IFLA_PAD": None,
               "IFLA_NEW_NETNSID": s32, "IFLA_IF_NETNSID": s32, "IFLA_CARRIER_UP_COUNT": u32,
               "IFLA_CARRIER_DOWN_COUNT": u32, "IFLA_NEW_IFINDEX": s32, "IFLA_MIN_MTU": u32, "IFLA_MAX_MTU": u32,
               "IFLA_GRO_MAX_SIZE": u32, "IFLA_TSO_MAX_SIZE": u32, "IFLA_TSO_MAX_SEGS": u32, "IFLA_ALLMULTI": u32,
               "IFLA_LINK_NETNSID": s32, "IFLA_STATS": _stats("I", 24), "IFLA_STATS64": _stats("Q", 25),
               "IFLA_MAP": "ifmap", "IFLA_LINKINFO": "linkinfo", "IFLA_VF_PORTS": "vf_ports",
               "IFLA_PORT_SELF": "port", "IFLA_EXT_MASK": ("flags32", "rtnl_ifla_ext_filter_flags"),
               "IFLA_EVENT": ("xval32", "rtnl_ifla_events"), "IFLA_PROP_LIST": "prop_list", "IFLA_XDP": "xdp",
               "IFLA_PROTO_DOWN_REASON": "proto_down_reason", "IFLA_PROTINFO": "protinfo",
               "IFLA_VFINFO_LIST": "vfinfo_list"}
_ADDR_ATTRS = {"IFA_ADDRESS": "inet", "IFA_LOCAL": "inet", "IFA_LABEL": "str", "IFA_BROADCAST": "inet",
               "IFA_ANYCAST": "inet", "IFA_MULTICAST": "inet", "IFA_FLAGS": ("flags32", "ifa_flags"),
               "IFA_RT_PRIORITY": u32,
               "IFA_CACHEINFO": _u32_struct("ifa_prefered", "ifa_valid", "cstamp", "tstamp"), "IFA_TARGET_NETNSID": s32}
_ROUTE_ATTRS = {"RTA_DST": "inet", "RTA_SRC": "inet", "RTA_IIF": "ifindex", "RTA_OIF": "ifindex",
                "RTA_GATEWAY": "inet", "RTA_PRIORITY": u32, "RTA_PREFSRC": "inet", "RTA_FLOW": u32,
                "RTA_TABLE": ("xval32", "rt_tables"), "RTA_MARK": u32, "RTA_UID": u32, "RTA_TTL_PROPAGATE": u8,
                "RTA_IP_PROTO": u8, "RTA_SPORT": u16, "RTA_DPORT": u16, "RTA_NH_ID": u32,
                "RTA_NEWDST": "inet", "RTA_METRICS": "metrics", "RTA_MULTIPATH": "multipath", "RTA_PROTOINFO": u32,
                "RTA_CACHEINFO": "rta_cacheinfo", "RTA_MP_ALGO": u32, "RTA_MFC_STATS": "mfc_stats",
                "RTA_VIA": "via", "RTA_PREF": u8, "RTA_ENCAP_TYPE": "encap_type", "RTA_EXPIRES": u64}
def _with_tail(size: int, body, tail: bool = True):
    """A struct of `size` bytes (body(nl, bytes) prints it), then, with
    `tail`, what the attribute holds past it, in hex (strace's stats decoders)."""
    def pr(nl, off, n):
        if n < size:
            return None
        b = nl.mem.get(off, size)
        if b is None:
            return nl.mem.at(off)
        text = body(nl, bytes(b))
        if tail and n > size:
            text += ", " + nl.hexstr(off + size, n - size)
        return text

    return pr


def _flags_attr(setname: str, size: int):
    """Flags of `size` bytes named by a set (strace's decode_nla_flags)."""
    return _with_tail(size, lambda nl, b: nl.c.fs(setname).flags(int.from_bytes(b, "little"), nl.style()), False)


def _be16_attr(nl, off, n):
    if n < 2:
        return None
    b = nl.mem.get(off, 2)
    if b is None:
        return nl.mem.at(off)
    return f"htons({struct.unpack('>H', b)[0]})"


def _fdb_ext_attrs(nl, off, n):
    setname = "rtnl_neigh_fdb_ext_attrs"
    return attrs(nl, off, n, setname, _named(nl, setname, {"NFEA_ACTIVITY_NOTIFY": _flags_attr("fdb_notify_flags", 1)}))


_NEIGH_ATTRS = {"NDA_CACHEINFO": _u32_struct("ndm_confirmed", "ndm_used", "ndm_updated", "ndm_refcnt"), "NDA_DST": "inet", "NDA_LLADDR": _hwaddr, "NDA_PROBES": u32, "NDA_VLAN": u16, "NDA_VNI": u32,
                "NDA_IFINDEX": "ifindex", "NDA_MASTER": "ifindex", "NDA_LINK_NETNSID": u32, "NDA_SRC_VNI": u32,
                "NDA_PORT": _be16_attr, "NDA_FDB_EXT_ATTRS": _fdb_ext_attrs,
                "NDA_FLAGS_EXT": _flags_attr("neighbor_cache_entry_ext_flags", 4),
                "NDA_NDM_STATE_MASK": _flags_attr("nud_states", 2), "NDA_NDM_FLAGS_MASK": _flags_attr("ntf_flags", 1),
                "NDA_PROTOCOL": lambda nl, off, n: _xval_attr("inet_protocols", 1)(nl, off, n), "NDA_NH_ID": u32}
_ATTR_TABLES = {"link": ("rtnl_link_attrs", _LINK_ATTRS), "addr": ("rtnl_addr_attrs", _ADDR_ATTRS),
                "route": ("rtnl_route_attrs", _ROUTE_ATTRS), "neigh": ("rtnl_neigh_attrs", _NEIGH_ATTRS)}


def _port_vsi(nl, off, n):
    """struct ifla_port_vsi: the pad shown when nonzero."""
    if n < 8:
        return None
    b = nl.mem.get(off, 8)
    if b is None:
        return nl.mem.at(off)
    b = bytes(b)
    text = f"{{vsi_mgr_id={b[0]}, vsi_type_id={quote_buf(b[1:4], 3, 3, 0, True)}, vsi_type_version={b[4]}"
    if any(b[5:8]):
        text += f", pad={quote_buf(b[5:8], 3, 3, 0, True)}"
    return text + "}"


_PORT_ATTRS = {"IFLA_PORT_VF": u32, "IFLA_PORT_PROFILE": "str", "IFLA_PORT_VSI_TYPE": _port_vsi,
               "IFLA_PORT_REQUEST": u8, "IFLA_PORT_RESPONSE": u16}


def _port(nl, off, n):
    # strace names the unknown ones IFLA_VF_PORT_??? here too
    printers = _named(nl, "rtnl_ifla_port_attrs", _PORT_ATTRS)
    return attrs(nl, off, n, "rtnl_ifla_port_attrs", printers, dflt="IFLA_VF_PORT_???")


def _prop_list(nl, off, n):
    """IFLA_PROP_LIST: link attributes, of which only IFLA_ALT_IFNAME is decoded."""
    by_name = dict(nl.c.fs("rtnl_link_attrs").items)
    return attrs(nl, off, n, "rtnl_link_attrs", {by_name["IFLA_ALT_IFNAME"]: nla_str})


def _linkinfo(nl, off, n):
    table = {"IFLA_INFO_KIND": "str", "IFLA_INFO_SLAVE_KIND": "str"}
    return attrs(nl, off, n, "rtnl_ifla_info_attrs", _named(nl, "rtnl_ifla_info_attrs", table))


def _vf_ports(nl, off, n):
    return attrs(nl, off, n, "rtnl_ifla_vf_port_attrs", _named(nl, "rtnl_ifla_vf_port_attrs", {"IFLA_VF_PORT": _port}))


def _fd_attr(nl, off, n):
    """strace's decode_nla_fd: an fd, named under -y."""
    if n < 4:
        return None
    b = nl.mem.get(off, 4)
    if b is None:
        return nl.mem.at(off)
    return field_fd(nl.c, struct.unpack("<i", b)[0])


def _xdp(nl, off, n):
    table = {"IFLA_XDP_FD": _fd_attr, "IFLA_XDP_ATTACHED": _xval_attr("rtnl_ifla_xdp_attached_mode", 1),
             "IFLA_XDP_FLAGS": _u32f_attr("xdp_flags"), "IFLA_XDP_PROG_ID": u32, "IFLA_XDP_DRV_PROG_ID": u32,
             "IFLA_XDP_SKB_PROG_ID": u32, "IFLA_XDP_HW_PROG_ID": u32, "IFLA_XDP_EXPECTED_FD": _fd_attr}
    return attrs(nl, off, n, "rtnl_ifla_xdp_attrs", _named(nl, "rtnl_ifla_xdp_attrs", table))


def _proto_down_reason(nl, off, n):
    table = {"IFLA_PROTO_DOWN_REASON_MASK": x32, "IFLA_PROTO_DOWN_REASON_VALUE": x32}
    setname = "rtnl_ifla_proto_down_reason_attrs"
    return attrs(nl, off, n, setname, _named(nl, setname, table))


def _clock_t(nl, off, n):
    """A clock_t of 1..8 bytes, with its seconds at USER_HZ 100 (strace's print_clock_t)."""
    if n > 8:
        return None
    b = nl.mem.get(off, n)
    if b is None:
        return nl.mem.at(off)
    v = int.from_bytes(bytes(b), "little")
    return f"{v} /* {v // 100}.{v % 100:02d} s */" if v and nl.style() != "raw" else str(v)


def _mac(nl, off: int, n: int) -> str:
    """A MAC address field of n bytes (strace's PRINT_FIELD_MAC): `ab:cd:..`;
    -X raw the bytes, -X verbose the bytes with the address in a comment."""
    b = nl.mem.get(off, n)
    mac = ":".join(f"{x:02x}" for x in b)
    style = nl.style()
    if style != "abbrev":
        mac = nl.hexstr(off, n) + (f" /* {mac} */" if style == "verbose" else "")
    return mac


def _vf_struct(fmt: str, fields, mac_at: int | None = None):
    """A struct ifla_vf_* of u32 fields (fmt), printed when the attribute
    holds it whole: fields named, a field "link_state" by its set, "mac" /
    "broadcast" the 32 bytes at mac_at, "vlan_proto" a big-endian ETH_P_*."""
    size = struct.calcsize("<" + fmt) if mac_at is None else mac_at + 32

    def pr(nl, off, n):
        if n < size:
            return None
        b = nl.mem.get(off, size)
        if b is None:
            return nl.mem.at(off)
        vals = iter(struct.unpack_from("<" + fmt, b))
        out = []
        for f in fields:
            if f in ("mac", "broadcast"):
                out.append(f"{f}={_mac(nl, off + mac_at, 32)}")
            elif f == "link_state":
                out.append(f"{f}={nl.c.fs('rtnl_ifla_vf_link_states').xval(next(vals), nl.style())}")
            elif f == "vlan_proto":
                proto = int.from_bytes(struct.pack("<H", next(vals)), "big")
                out.append(f"vlan_proto=htons({nl.c.fs('ethernet_protocols').xval(proto, nl.style())})")
            elif f == "guid":
                out.append(f"guid={hexa(next(vals))}")
            else:
                out.append(f"{f}={next(vals)}")
        return "{" + ", ".join(out) + "}"

    return pr


def _vf_guid(nl, off, n):
    """struct ifla_vf_guid {u32 vf; u64 guid}: 12 bytes packed or 16 aligned."""
    if n not in (12, 16):
        return None
    return _vf_struct("IQ" if n == 12 else "I4xQ", ("vf", "guid"))(nl, off, n)


def _vf_info(nl, off, n):
    setname = "rtnl_ifla_vf_info_attrs"
    stats = "rtnl_ifla_vf_stats_attrs"
    vlans = "rtnl_ifla_vf_vlan_list_attrs"
    table = {"IFLA_VF_MAC": _vf_struct("I", ("vf", "mac"), 4), "IFLA_VF_VLAN": _vf_struct("III", ("vf", "vlan", "qos")),
             "IFLA_VF_TX_RATE": _vf_struct("II", ("vf", "rate")),
             "IFLA_VF_SPOOFCHK": _vf_struct("II", ("vf", "setting")),
             "IFLA_VF_LINK_STATE": _vf_struct("II", ("vf", "link_state")),
             "IFLA_VF_RATE": _vf_struct("III", ("vf", "min_tx_rate", "max_tx_rate")),
             "IFLA_VF_RSS_QUERY_EN": _vf_struct("II", ("vf", "setting")),
             "IFLA_VF_STATS": _nested(stats, {k: u64 for k in dict(nl.c.fs(stats).items) if k != "IFLA_VF_STATS_PAD"}),
             "IFLA_VF_TRUST": _vf_struct("II", ("vf", "setting")),
             "IFLA_VF_IB_NODE_GUID": _vf_guid, "IFLA_VF_IB_PORT_GUID": _vf_guid,
             "IFLA_VF_VLAN_LIST": _nested(vlans, {"IFLA_VF_VLAN_INFO": _vf_struct(
                 "IIIH2x", ("vf", "vlan", "qos", "vlan_proto"))}),
             "IFLA_VF_BROADCAST": _vf_struct("", ("broadcast",), 0)}
    return attrs(nl, off, n, setname, _named(nl, setname, table), "IFLA_VF_???")


def _vfinfo_list(nl, off, n):
    setname = "rtnl_ifla_vfinfo_list_attrs"
    return attrs(nl, off, n, setname, _named(nl, setname, {"IFLA_VF_INFO": _vf_info}), "IFLA_VF_INFO_???")


def _bridge_id(nl, off, n):
    """struct ifla_bridge_id {u8 prio[2]; u8 addr[6]}."""
    if n < 8:
        return None
    b = nl.mem.get(off, 8)
    if b is None:
        return nl.mem.at(off)
    return f"{{prio=[{b[0]}, {b[1]}], addr={_mac(nl, off + 2, 6)}}}"


_BRPORT_ATTRS = {n: u8 for n in (
    "IFLA_BRPORT_STATE", "IFLA_BRPORT_MODE", "IFLA_BRPORT_GUARD", "IFLA_BRPORT_PROTECT", "IFLA_BRPORT_FAST_LEAVE",
    "IFLA_BRPORT_LEARNING", "IFLA_BRPORT_UNICAST_FLOOD", "IFLA_BRPORT_PROXYARP", "IFLA_BRPORT_LEARNING_SYNC",
    "IFLA_BRPORT_PROXYARP_WIFI", "IFLA_BRPORT_TOPOLOGY_CHANGE_ACK", "IFLA_BRPORT_CONFIG_PENDING",
    "IFLA_BRPORT_MULTICAST_ROUTER", "IFLA_BRPORT_MCAST_FLOOD", "IFLA_BRPORT_MCAST_TO_UCAST",
    "IFLA_BRPORT_VLAN_TUNNEL", "IFLA_BRPORT_BCAST_FLOOD", "IFLA_BRPORT_NEIGH_SUPPRESS", "IFLA_BRPORT_ISOLATED",
    "IFLA_BRPORT_MRP_RING_OPEN", "IFLA_BRPORT_MRP_IN_OPEN", "IFLA_BRPORT_LOCKED")}
_BRPORT_ATTRS.update({n: u16 for n in ("IFLA_BRPORT_PRIORITY", "IFLA_BRPORT_DESIGNATED_PORT",
                                       "IFLA_BRPORT_DESIGNATED_COST", "IFLA_BRPORT_ID", "IFLA_BRPORT_NO")})
_BRPORT_ATTRS.update({n: u32 for n in ("IFLA_BRPORT_COST", "IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT",
                                       "IFLA_BRPORT_MCAST_EHT_HOSTS_CNT")})
_BRPORT_ATTRS.update({"IFLA_BRPORT_ROOT_ID": _bridge_id, "IFLA_BRPORT_BRIDGE_ID": _bridge_id,
                      "IFLA_BRPORT_MESSAGE_AGE_TIMER": _clock_t, "IFLA_BRPORT_FORWARD_DELAY_TIMER": _clock_t,
                      "IFLA_BRPORT_HOLD_TIMER": _clock_t, "IFLA_BRPORT_GROUP_FWD_MASK": _x("H", 2),
                      "IFLA_BRPORT_BACKUP_PORT": "ifindex"})


def _indexed(fmt: str, setname: str, dflt: str):
    """An array of integers indexed by a set's names (strace's print_array
    with PAF_PRINT_INDICES): `[[DEVCONF_FORWARDING]=1, ...]`."""
    return _int_array(fmt, index=(setname, dflt))


# IF_* flags of an inet6 device (the kernel's include/net/if_inet6.h)
_INET6_IF_FLAGS = FlagSet("inet6_if_flags", [
    ("IF_RS_SENT", 0x10), ("IF_RA_RCVD", 0x20), ("IF_RA_MANAGED", 0x40), ("IF_RA_OTHERCONF", 0x80),
    ("IF_READY", 0x80000000)], "IF_???", "include/net/if_inet6.h")


def _inet6_flags(nl, off, n):
    if n < 4:
        return None
    b = nl.mem.get(off, 4)
    if b is None:
        return nl.mem.at(off)
    return _INET6_IF_FLAGS.flags(struct.unpack("<I", b)[0], nl.style())


def _inet6_attrs() -> dict:
    """An AF_INET6 device's attributes (built at first use: their printers
    are defined further down)."""
    return {"IFLA_INET6_FLAGS": _inet6_flags,
            "IFLA_INET6_CONF": _indexed("i", "inet6_devconf_indices", "DEVCONF_???"),
            "IFLA_INET6_STATS": _indexed("Q", "snmp_ip_stats", "IPSTATS_MIB_???"),
            "IFLA_INET6_CACHEINFO": _fields_struct("IIII", ("max_reasm_len", "tstamp", "reachable_time",
                                                            "retrans_time")),
            "IFLA_INET6_ICMP6STATS": _indexed("Q", "snmp_icmp6_stats", "ICMP6_MIB_???"),
            "IFLA_INET6_TOKEN": _in_addr_attr(socket.AF_INET6),
            "IFLA_INET6_ADDR_GEN_MODE": _xval_attr("in6_addr_gen_mode", 1), "IFLA_INET6_RA_MTU": u32}


# the attributes of a link's IFLA_PROTINFO by its family
_PROTINFO = {socket.AF_BRIDGE: ("rtnl_ifla_brport_attrs", lambda: _BRPORT_ATTRS, "IFLA_BRPORT_???"),
             socket.AF_INET6: ("rtnl_ifla_af_spec_inet6_attrs", _inet6_attrs, "IFLA_INET6_???")}


def _protinfo(family: int):
    """IFLA_PROTINFO by the link's family: an AF_BRIDGE port's attributes,
    an AF_INET6 device's; other families' in hex."""
    def pr(nl, off, n):
        if family not in _PROTINFO:
            return None
        setname, table, dflt = _PROTINFO[family]
        return attrs(nl, off, n, setname, _named(nl, setname, table()), dflt)

    return pr


_LINK_NESTED = {
    "xdp": _xdp,
    "proto_down_reason": _proto_down_reason,
    "linkinfo": _linkinfo,
    "vf_ports": _vf_ports,
    "port": _port,
    "prop_list": _prop_list,
}


def _multipath(family: int):
    """RTA_MULTIPATH: struct rtnexthop each followed by route attributes (strace's
    decode_rta_multipath: `[{rtnh...}, attrs]` per next hop, an array when there are several)."""
    def pr(nl, off, n):
        if n < 8:
            return None
        parts, is_array, cur, left = [], False, off, n
        style = nl.style()
        for _ in range(n // 4 + 1):  # each step advances at least 4 bytes
            b = nl.mem.get(cur, 8)
            if b is None:
                parts.append(nl.mem.at(cur))
                break
            ln, fl, hops, ifi = struct.unpack("<HBBi", b)
            rl = min(left, ln)
            if cur == off and ln < n:
                is_array = True
            el = (f"{{rtnh_len={ln}, rtnh_flags={nl.c.fs('route_nexthop_flags').flags(fl, style)}, "
                  f"rtnh_hops={hops}, rtnh_ifindex={_ifindex(ifi, nl.style())}}}")
            if rl > 8:
                el = f"[{el}, {attrs(nl, cur + 8, rl - 8, 'rtnl_route_attrs', _route_attrs(family, 'route', nl))}]"
            parts.append(el)
            step = (rl + 3) & ~3
            if step >= left or step == 0:
                break
            cur, left = cur + step, left - step
        text = ", ".join(parts)
        return f"[{text}]" if is_array else text

    return pr


def _via(nl, off, n):
    """struct rtvia: the family, then the address by it."""
    if n < 2:
        return None
    b = nl.mem.get(off, 2)
    if b is None:
        return nl.mem.at(off)
    fam = struct.unpack("<H", b)[0]
    text = f"{{rtvia_family={_fam(nl, fam)}"
    if n > 2:
        text += ", " + _inet_field(nl, off + 2, n - 2, fam, "rtvia_addr")
    return text + "}"


def _inet_field(nl, off: int, n: int, family: int, field: str) -> str:
    """strace's decode_inet_addr: `FIELD=inet_addr("...")`, `inet_pton(AF_INET6,
    "...", &FIELD)`, or the bytes in hex when they are no address of the
    family (the address when they cannot be read)."""
    size = {socket.AF_INET: 4, socket.AF_INET6: 16}.get(family)
    if size and n >= size:
        a = nl.mem.get(off, size)
        if a is None:
            return f"{field}={nl.mem.at(off)}"
        a = socket.inet_ntop(family, bytes(a))
        return f'{field}=inet_addr("{a}")' if family == socket.AF_INET else f'inet_pton(AF_INET6, "{a}", &{field})'
    return f"{field}={nl.hexstr(off, n)}"


def _metrics(nl, off, n):
    names = ("RTAX_LOCK RTAX_MTU RTAX_WINDOW RTAX_RTT RTAX_RTTVAR RTAX_SSTHRESH RTAX_CWND RTAX_ADVMSS "
             "RTAX_REORDERING RTAX_HOPLIMIT RTAX_INITCWND RTAX_FEATURES RTAX_RTO_MIN RTAX_INITRWND RTAX_QUICKACK").split()
    table = {k: u32 for k in names}
    table["RTAX_CC_ALGO"] = nla_str
    return attrs(nl, off, n, "rtnl_rta_metrics_attrs", _named(nl, "rtnl_rta_metrics_attrs", table))


# built when first asked (their helpers are defined further down)
_ROUTE_SPECS = {
    "metrics": lambda: _metrics,
    "rta_cacheinfo": lambda: _fields_struct("IIIIIIII", ("rta_clntref", "rta_lastuse", "rta_expires", "rta_error",
                                                         "rta_used", "rta_id", "rta_ts", "rta_tsage"), ("rta_id",)),
    "mfc_stats": lambda: _fields_struct("QQQ", ("mfcs_packets", "mfcs_bytes", "mfcs_wrong_if")),
    "via": lambda: _via,
    "encap_type": lambda: _xval_attr("lwtunnel_encap_types", 2),
}


def _printer(spec, family: int):
    if spec == "str":
        return nla_str
    if spec == "inet":
        return _attr_addr(family)
    if spec == "ifindex":
        return _ifindex_attr
    if spec == "multipath":
        return _multipath(family)
    if spec == "protinfo":
        return _protinfo(family)
    if spec == "vfinfo_list":
        return _vfinfo_list
    if spec in _ROUTE_SPECS:
        return _ROUTE_SPECS[spec]()
    if spec in _LINK_NESTED:
        return _LINK_NESTED[spec]
    if spec == "ifmap":  # struct rtnl_link_ifmap (its fields, without the tail padding)
        return _fields_struct("QQQHBB", ("mem_start", "mem_end", "base_addr", "irq", "dma", "port"),
                              ("mem_start", "mem_end", "base_addr"))
    if isinstance(spec, tuple):
        how, setname = spec
        return _u32f_attr(setname) if how == "flags32" else _u32x_attr(setname)
    return spec


def _route_attrs(family: int, kind: str, nl=None) -> dict:
    setname, table = _ATTR_TABLES.get(kind, (None, {}))
    if not setname or nl is None:
        return {}
    by_name = dict(nl.c.fs(setname).items)
    return {by_name[n]: _printer(spec, family) for n, spec in table.items() if n in by_name and spec is not None}


def _u32x_attr(setname):
    def pr(nl, off, n):
        if n != 4:
            return None
        b = nl.mem.get(off, 4)
        return nl.c.fs(setname).xval(struct.unpack("<I", b)[0], nl.style()) if b is not None else nl.mem.at(off)

    return pr


def _ifindex_attr(nl, off, n):
    """strace's decode_nla_ifindex: an unsigned index in the first 4 bytes."""
    if n < 4:
        return None
    b = nl.mem.get(off, 4)
    return _ifindex(struct.unpack("<I", b)[0], nl.style()) if b is not None else nl.mem.at(off)


def _u32f_attr(setname):
    def pr(nl, off, n):
        if n != 4:
            return None
        b = nl.mem.get(off, 4)
        return nl.c.fs(setname).flags(struct.unpack("<I", b)[0], nl.style()) if b is not None else nl.mem.at(off)

    return pr


# RTM_* type -> (fields, struct size, attribute set, attribute kind)
_ROUTE = {}
for _t in (0x10, 0x11, 0x12, 0x13):
    _ROUTE[_t] = (_IFINFOMSG, 16, "rtnl_link_attrs", "link")
for _t in (0x14, 0x15, 0x16, 0x3A, 0x3E):
    _ROUTE[_t] = (_IFADDRMSG, 8, "rtnl_addr_attrs", "addr")
for _t in (0x18, 0x19, 0x1A):
    _ROUTE[_t] = (_RTMSG, 12, "rtnl_route_attrs", "route")
for _t in (0x1C, 0x1D, 0x1E):
    _ROUTE[_t] = (_NDMSG, 12, "rtnl_neigh_attrs", "neigh")


# --- the smaller route messages: a one-byte family header (padded to 4), then attributes

def _xval_attr(setname: str, size: int):
    """A value of `size` bytes named by a set (strace's decode_nla_xval;
    size 0: as many bytes as the attribute holds, up to 8)."""
    def pr(nl, off, n):
        if n < size or n > 8:
            return None
        b = nl.mem.get(off, size or n)
        if b is None:
            return nl.mem.at(off)
        return nl.c.fs(setname).xval(int.from_bytes(bytes(b), "little"), nl.style())

    return pr


def _in_addr_attr(family: int):
    """An address attribute: inet_addr(...) / inet_pton(...); in hex when
    shorter, or as a string with -X raw (strace's decode_nla_in_addr)."""
    size = 4 if family == socket.AF_INET else 16

    def pr(nl, off, n):
        if n < size:
            return None
        b = nl.mem.get(off, size)
        if b is None:
            return nl.mem.at(off)
        a = socket.inet_ntop(family, bytes(b))
        text = f'inet_addr("{a}")' if family == socket.AF_INET else f'inet_pton(AF_INET6, "{a}")'
        style = nl.style()
        if style == "abbrev":
            return text
        return nl.hexstr(off, size) + (f" /* {text} */" if style == "verbose" else "")

    return pr


def _fields_struct(fmt: str, names: tuple, hex_fields=()):
    """A struct of integer fields, printed when the attribute holds it whole."""
    size = struct.calcsize("<" + fmt)

    def pr(nl, off, n):
        if n < size:
            return None
        b = nl.mem.get(off, size)
        if b is None:
            return nl.mem.at(off)
        vals = struct.unpack("<" + fmt, b)
        return "{" + ", ".join(f"{k}={hexa(v) if k in hex_fields else v}" for k, v in zip(names, vals)) + "}"

    return pr


_NDT_STATS = ("ndts_allocs ndts_destroys ndts_hash_grows ndts_res_failed ndts_lookups ndts_hits "
              "ndts_rcv_probes_mcast ndts_rcv_probes_ucast ndts_periodic_gc_runs ndts_forced_gc_runs "
              "ndts_table_fulls").split()


def _ndt_stats(nl, off, n):
    """struct ndt_stats: 11 u64, or the older 10 when the attribute is exactly that."""
    k = 11 if n >= 88 else 10 if n == 80 else 0
    if not k:
        return None
    b = nl.mem.get(off, 8 * k)
    if b is None:
        return nl.mem.at(off)
    return "{" + ", ".join(f"{f}={v}" for f, v in zip(_NDT_STATS, struct.unpack(f"<{k}Q", b))) + "}"


def _nested(setname: str, table: dict):
    def pr(nl, off, n):
        return attrs(nl, off, n, setname, _named(nl, setname, table))

    return pr


def _named(nl, setname: str, table: dict) -> dict:
    """{attribute name: printer} -> {attribute value: printer} through the set."""
    by_name = dict(nl.c.fs(setname).items)
    return {by_name[k]: (nla_str if v == "str" else _ifindex_attr if v == "ifindex" else v)
            for k, v in table.items() if k in by_name and v is not None}


_NSID_ATTRS = {"NETNSA_NSID": s32, "NETNSA_PID": u32, "NETNSA_FD": s32, "NETNSA_TARGET_NSID": s32,
               "NETNSA_CURRENT_NSID": s32}
_NETCONF_ATTRS = {"NETCONFA_IFINDEX": "ifindex", "NETCONFA_FORWARDING": s32, "NETCONFA_RP_FILTER": s32,
                  "NETCONFA_MC_FORWARDING": s32, "NETCONFA_PROXY_NEIGH": s32,
                  "NETCONFA_IGNORE_ROUTES_WITH_LINKDOWN": s32, "NETCONFA_INPUT": s32, "NETCONFA_BC_FORWARDING": s32}
_NDTPA_ATTRS = {"NDTPA_IFINDEX": "ifindex", "NDTPA_REFCNT": u32, "NDTPA_REACHABLE_TIME": u64,
                "NDTPA_BASE_REACHABLE_TIME": u64, "NDTPA_RETRANS_TIME": u64, "NDTPA_GC_STALETIME": u64,
                "NDTPA_DELAY_PROBE_TIME": u64, "NDTPA_QUEUE_LEN": u32, "NDTPA_APP_PROBES": u32,
                "NDTPA_UCAST_PROBES": u32, "NDTPA_MCAST_PROBES": u32, "NDTPA_ANYCAST_DELAY": u64,
                "NDTPA_PROXY_DELAY": u64, "NDTPA_PROXY_QLEN": u32, "NDTPA_LOCKTIME": u64,
                "NDTPA_QUEUE_LENBYTES": u32, "NDTPA_MCAST_REPROBES": u32, "NDTPA_INTERVAL_PROBE_TIME_MS": u64}
_NDTA_ATTRS = {"NDTA_NAME": "str", "NDTA_THRESH1": u32, "NDTA_THRESH2": u32, "NDTA_THRESH3": u32,
               "NDTA_CONFIG": _fields_struct("HHIIIIIII", ("ndtc_key_len", "ndtc_entry_size", "ndtc_entries",
                                                           "ndtc_last_flush", "ndtc_last_rand", "ndtc_hash_rnd",
                                                           "ndtc_hash_mask", "ndtc_hash_chain_gc",
                                                           "ndtc_proxy_qlen"), ("ndtc_hash_mask",)),
               "NDTA_PARMS": _nested("rtnl_neightbl_parms_attrs", _NDTPA_ATTRS), "NDTA_STATS": _ndt_stats,
               "NDTA_GC_INTERVAL": u64}
_IPMRA_ATTRS = {"IPMRA_CREPORT_MSGTYPE": _xval_attr("rtnl_ipmra_msg_types", 1), "IPMRA_CREPORT_VIF_ID": u32,
                "IPMRA_CREPORT_SRC_ADDR": _in_addr_attr(socket.AF_INET),
                "IPMRA_CREPORT_DST_ADDR": _in_addr_attr(socket.AF_INET), "IPMRA_CREPORT_TABLE": u32}
_IP6MRA_ATTRS = {"IP6MRA_CREPORT_MSGTYPE": _xval_attr("rtnl_ip6mra_msg_types", 1), "IP6MRA_CREPORT_MIF_ID": u32,
                 "IP6MRA_CREPORT_SRC_ADDR": _in_addr_attr(socket.AF_INET6),
                 "IP6MRA_CREPORT_DST_ADDR": _in_addr_attr(socket.AF_INET6)}
# RTNL_FAMILY_IPMR / RTNL_FAMILY_IP6MR: their cache reports' attributes
_CREPORT = {0x80: ("rtnl_ipmra_creport_attr", _IPMRA_ATTRS), 0x81: ("rtnl_ip6mra_creport_attr", _IP6MRA_ATTRS)}


def _rtnl_family(nl, fam: int) -> str:
    """rtgen_family of a cache report: RTNL_FAMILY_* first, then AF_*."""
    name = nl.c.fs("rtnl_family").lookup(fam) or nl.c.fs("addrfams").lookup(fam)
    raw, style = hexa(fam), nl.style()
    if style == "raw":
        return raw
    if name:
        return f"{raw} /* {name} */" if style == "verbose" else name
    return f"{raw} /* RTNL_FAMILY_??? */"


def _family_msg(field: str, setname: str | None, table: dict | None):
    """{field=family}, then attributes after NLMSG_ALIGN(1) (rtgenmsg, netconfmsg, ndtmsg)."""
    def dec(nl, off, n, family):
        text = f"{{{field}={_fam(nl, family)}}}"
        if n > 4:
            text += ", " + attrs(nl, off + 4, n - 4, setname, _named(nl, setname, table))
        return text

    return dec


def _cachereport(nl, off, n, family):
    text = f"{{rtgen_family={_rtnl_family(nl, family)}}}"
    if n > 4:
        spec = _CREPORT.get(family)
        if spec is None:
            text += ", " + nl.hexstr(off + 4, n - 4)
        else:
            text += ", " + attrs(nl, off + 4, n - 4, spec[0], _named(nl, spec[0], spec[1]))
    return text


_IFAL_FIELDS = (("ifal_family", None), ("ifal_prefixlen", _u8(2)), ("ifal_flags", _u8(3)),  # after a reserved byte
                ("ifal_index", lambda nl, b: _ifindex(struct.unpack_from("<i", b, 4)[0], nl.style())),
                ("ifal_seq", lambda nl, b: str(struct.unpack_from("<I", b, 8)[0])))


def _addrlabel(nl, off, n, family):
    text, ok = _route_struct(nl, off, n, family, 12, _IFAL_FIELDS)
    if ok and n > 12:
        printers = _named(nl, "rtnl_addrlabel_attrs", {"IFAL_LABEL": u32})
        by_name = dict(nl.c.fs("rtnl_addrlabel_attrs").items)
        if family in (socket.AF_INET, socket.AF_INET6):
            printers[by_name["IFAL_ADDRESS"]] = _attr_addr(family)
        text += ", " + attrs(nl, off + 12, n - 12, "rtnl_addrlabel_attrs", printers)
    return text


def _range_attr(fmt: str):
    """struct fib_rule_uid_range / fib_rule_port_range: {start=, end=}."""
    return _fields_struct(fmt, ("start", "end"))


def _be64_attr(nl, off, n):
    if n < 8:
        return None
    b = nl.mem.get(off, 8)
    if b is None:
        return nl.mem.at(off)
    return f"htobe64({struct.unpack('>Q', b)[0]})"


_RULE_ATTRS = {"FRA_IIFNAME": "str", "FRA_GOTO": u32, "FRA_PRIORITY": u32, "FRA_FWMARK": u32, "FRA_FLOW": u32,
               "FRA_TUN_ID": _be64_attr, "FRA_SUPPRESS_IFGROUP": u32, "FRA_SUPPRESS_PREFIXLEN": u32,
               "FRA_TABLE": _xval_attr("rt_tables", 4), "FRA_FWMASK": u32, "FRA_OIFNAME": "str", "FRA_L3MDEV": u8,
               "FRA_UID_RANGE": _range_attr("II"), "FRA_PROTOCOL": _xval_attr("rt_protos", 1),
               "FRA_IP_PROTO": _xval_attr("inet_protocols", 1), "FRA_SPORT_RANGE": _range_attr("HH"),
               "FRA_DPORT_RANGE": _range_attr("HH")}
_RULE_FIELDS = (("family", None), ("dst_len", _u8(1)), ("src_len", _u8(2)), ("tos", lambda nl, b: _tos(nl, b[3])),
                ("table", _fs8(4, "rt_tables")), ("action", _fs8(7, "fib_rule_actions")),
                ("flags", _u32f(8, "fib_rule_flags")))


def _fib_rule(nl, off, n, family):
    text, ok = _route_struct(nl, off, n, family, 12, _RULE_FIELDS)
    if ok and n > 12:
        printers = _named(nl, "rtnl_rule_attrs", _RULE_ATTRS)
        if family in (socket.AF_INET, socket.AF_INET6):
            by_name = dict(nl.c.fs("rtnl_rule_attrs").items)
            printers[by_name["FRA_DST"]] = printers[by_name["FRA_SRC"]] = _attr_addr(family)
        text += ", " + attrs(nl, off + 12, n - 12, "rtnl_rule_attrs", printers)
    return text


_DCB_FIELDS = (("dcb_family", None), ("cmd", _fs8(1, "dcb_commands")))


def _dcb(nl, off, n, family):
    text, ok = _route_struct(nl, off, n, family, 4, _DCB_FIELDS)
    if ok and n > 4:
        text += ", " + attrs(nl, off + 4, n - 4, "rtnl_dcb_attrs", None)
    return text


def _ifstats_mask(nl, v: int) -> str:
    """if_stats_msg.filter_mask: 1<<IFLA_STATS_LINK_64|... by attribute number."""
    style = nl.style()
    if style == "raw" or v == 0:
        return hexa(v)
    items = nl.c.fs("ifstats_attrs").items
    parts, left = [], v
    for name, k in items:
        if left >> k & 1:
            parts.append(f"1<<{name}")
            left &= ~(1 << k)
    if not parts:
        return f"{hexa(v)} /* 1<<IFLA_STATS_??? */"
    if left:
        parts.append(hexa(left))
    text = "|".join(parts)
    return f"{hexa(v)} /* {text} */" if style == "verbose" else text


def _scope8(o: int):
    """A routing scope: its name, else bare hex (strace prints no RT_SCOPE_??? there)."""
    def pr(nl, b):
        v, style = b[o], nl.style()
        name = nl.c.fs("rt_scopes").lookup(v)
        if style == "raw" or not name:
            return hexa(v)
        return f"{hexa(v)} /* {name} */" if style == "verbose" else name

    return pr


def _nonzero_x(o: int, fmt: str):
    def pr(nl, b):
        v = struct.unpack_from("<" + fmt, b, o)[0]
        return hexa(v) if v else None

    return pr


def _u32at(o: int):
    return lambda nl, b: str(struct.unpack_from("<I", b, o)[0])


def _ifindex_at(o: int):
    return lambda nl, b: _ifindex(struct.unpack_from("<I", b, o)[0], nl.style())


_TCMSG_FIELDS = (("tcm_family", None), ("tcm_ifindex", _ifindex_at(4)), ("tcm_handle", _u32at(8)),
                 ("tcm_parent", _u32at(12)), ("tcm_info", _u32at(16)))
_IFSTATS_FIELDS = (("family", None), ("pad1", _nonzero_x(1, "B")), ("pad2", _nonzero_x(2, "H")),
                   ("ifindex", _ifindex_at(4)),
                   ("filter_mask", lambda nl, b: _ifstats_mask(nl, struct.unpack_from("<I", b, 8)[0])))
_BR_PORT_FIELDS = (("family", None), ("ifindex", _ifindex_at(4)))
_NHMSG_FIELDS = (("nh_family", None), ("nh_scope", _scope8(1)), ("nh_protocol", _fs8(2, "rt_protos")),
                 ("resvd", _nonzero_x(3, "B")), ("nh_flags", _u32f(4, "route_nexthop_flags")))

def _elems(nl, off: int, n: int, size: int, pr, cut: bool = False) -> str | None:
    """An array of n // size elements of `size` bytes, each printed by
    pr(bytes, index); memory that ends mid-array as `... /* address */`
    (the address alone before the first element); with `cut`, `...` after
    -s elements unless -v (strace's print_array: the element is read
    first). None: not one element."""
    k = n // size
    if not k:
        return None
    out = []
    for i in range(k):
        b = nl.mem.get(off + size * i, size)
        if b is None:
            if not out:
                return nl.mem.at(off)
            out.append(f"... /* {nl.mem.at(off + size * i)} */")
            break
        if cut and nl.c.abbrev and i >= nl.strsize:
            out.append("...")
            break
        out.append(pr(bytes(b), i))
    return "[" + ", ".join(out) + "]"


def _int_array(fmt: str, in_hex: bool = False, index: tuple | None = None):
    """An array of integers, the unreadable rest as `... /* address */`.
    With index (set name, default): each element after its index by name
    (`[NAME]=v`; the number under -X raw, both under -X verbose), cut at
    -s unless -v, as strace's print_array with PAF_PRINT_INDICES."""
    size = struct.calcsize("<" + fmt)

    def pr(nl, off, n):
        def one(b: bytes, i: int) -> str:
            v = struct.unpack("<" + fmt, b)[0]
            text = hexa(v) if in_hex else str(v)
            return text if index is None else f"[{_index_name(nl, index, i)}]={text}"

        return _elems(nl, off, n, size, one, cut=index is not None)

    return pr


def _index_name(nl, index: tuple, i: int) -> str:
    setname, dflt = index
    name, style = nl.c.fs(setname).lookup(i), nl.style()
    if style == "raw":
        return str(i)
    if style == "verbose":
        return f"{i} /* {name or dflt} */"
    return name or f"{i} /* {dflt} */"


_u16_array = _int_array("H")


_TCA_STATS_ATTRS = {"TCA_STATS_BASIC": _fields_struct("QI", ("bytes", "packets")),
                    "TCA_STATS_RATE_EST": _fields_struct("II", ("bps", "pps")),
                    "TCA_STATS_QUEUE": _fields_struct("IIIII", ("qlen", "backlog", "drops", "requeues", "overlimits")),
                    "TCA_STATS_RATE_EST64": _fields_struct("QQ", ("bps", "pps")),
                    "TCA_STATS_BASIC_HW": _fields_struct("QI", ("bytes", "packets")), "TCA_STATS_PKT64": u64}
_TCA_STAB_ATTRS = {"TCA_STAB_BASE": _fields_struct("BBhiIIII", ("cell_log", "size_log", "cell_align", "overhead",
                                                                "linklayer", "mpu", "mtu", "tsize")),
                   "TCA_STAB_DATA": _u16_array}
_TCA_ACT_ATTRS = {"TCA_ACT_KIND": "str", "TCA_ACT_INDEX": u32,
                  "TCA_ACT_STATS": _nested("rtnl_tca_stats_attrs", _TCA_STATS_ATTRS),
                  "TCA_ACT_FLAGS": _u32f_attr("rtnl_tca_act_flags"),
                  "TCA_ACT_HW_STATS": _u32f_attr("rtnl_tca_act_hw_stats"),
                  "TCA_ACT_USED_HW_STATS": _u32f_attr("rtnl_tca_act_hw_stats"), "TCA_ACT_IN_HW_COUNT": u32}
_TC_ATTRS = {"TCA_KIND": "str", "TCA_FCNT": u32, "TCA_CHAIN": u32, "TCA_HW_OFFLOAD": u8,
             "TCA_INGRESS_BLOCK": u32, "TCA_EGRESS_BLOCK": u32, "TCA_DUMP_FLAGS": u32,
             "TCA_STATS": _fields_struct("QIIIIIII", ("bytes", "packets", "drops", "overlimits", "bps", "pps", "qlen",
                                                     "backlog")),
             "TCA_RATE": _fields_struct("bB", ("interval", "ewma_log")),
             "TCA_STATS2": _nested("rtnl_tca_stats_attrs", _TCA_STATS_ATTRS),
             "TCA_STAB": _nested("rtnl_tca_stab_attrs", _TCA_STAB_ATTRS)}
def _nh_grp_entry(b: bytes, _i: int) -> str:
    gid, weight, r1, r2 = struct.unpack("<IBBH", b)
    text = f"{{id={gid}, weight={weight}"
    if r1:
        text += f", resvd1={hexa(r1)}"
    if r2:
        text += f", resvd2={hexa(r2)}"
    return text + "}"


def _nh_grp(nl, off, n):
    """NHA_GROUP: struct nexthop_grp entries, reserved fields shown when nonzero."""
    return _elems(nl, off, n, 8, _nh_grp_entry)


def _nh_res_group(nl, off, n):
    setname = "rtnl_nha_res_group_attrs"
    table = {"NHA_RES_GROUP_BUCKETS": u16, "NHA_RES_GROUP_IDLE_TIMER": _clock_t,
             "NHA_RES_GROUP_UNBALANCED_TIMER": _clock_t, "NHA_RES_GROUP_UNBALANCED_TIME": _clock_t}
    return attrs(nl, off, n, setname, _named(nl, setname, table))


def _nh_res_bucket(nl, off, n):
    setname = "rtnl_nha_res_bucket_attrs"
    table = {"NHA_RES_BUCKET_INDEX": u16, "NHA_RES_BUCKET_IDLE_TIME": _clock_t, "NHA_RES_BUCKET_NH_ID": u32}
    return attrs(nl, off, n, setname, _named(nl, setname, table))


_NH_ATTRS = {"NHA_ID": u32, "NHA_BLACKHOLE": u32, "NHA_OIF": "ifindex", "NHA_GROUPS": u32, "NHA_MASTER": "ifindex",
             "NHA_FDB": u32, "NHA_GROUP": _nh_grp, "NHA_GROUP_TYPE": _xval_attr("rtnl_nexthop_grp_types", 2),
             "NHA_ENCAP_TYPE": _xval_attr("lwtunnel_encap_types", 2),
             "NHA_RES_GROUP": _nh_res_group, "NHA_RES_BUCKET": _nh_res_bucket}


def _mdba_router_port(nl, off, n):
    """An interface index, then the port's attributes after it."""
    if n < 4:
        return None
    b = nl.mem.get(off, 4)
    text = _ifindex(struct.unpack("<I", b)[0], nl.style()) if b is not None else nl.mem.at(off)
    if n > 4:
        table = {"MDBA_ROUTER_PATTR_TIMER": _clock_t, "MDBA_ROUTER_PATTR_TYPE": _xval_attr("multicast_router_types", 1),
                 "MDBA_ROUTER_PATTR_INET_TIMER": _clock_t, "MDBA_ROUTER_PATTR_INET6_TIMER": _clock_t}
        setname = "rtnl_mdba_router_pattr_attrs"
        text += ", " + attrs(nl, off + 4, n - 4, setname, _named(nl, setname, table))
    return text


def _mdba_router(nl, off, n):
    setname = "rtnl_mdba_router_attrs"
    return attrs(nl, off, n, setname, _named(nl, setname, {"MDBA_ROUTER_PORT": _mdba_router_port}))


def _mdb_entry_info(nl, off, n):
    """struct br_mdb_entry (28 bytes): the port, state, flags, vid and the
    group address (by its proto when that is an address family, else its
    16 bytes in hex), then the entry's attributes after it."""
    if n < 28:
        return None
    b = nl.mem.get(off, 28)
    if b is None:
        text = nl.mem.at(off)
    else:
        ifindex, state, flags, vid = struct.unpack_from("<IBBH", b)
        proto = struct.unpack_from(">H", b, 24)[0]
        style = nl.style()
        u = _inet_addr(nl, off + 8, 16 if proto == socket.AF_INET6 else 4, proto) if proto in (
            socket.AF_INET, socket.AF_INET6) else None
        addr = f"u={u}" if u else f"u={nl.hexstr(off + 8, 16)}"
        text = (f"{{ifindex={_ifindex(ifindex, style)}, state={nl.c.fs('mdb_states').xval(state, style)}, "
                f"flags={nl.c.fs('mdb_flags').flags(flags, style)}, vid={vid}, "
                f"addr={{{addr}, proto=htons({nl.c.fs('addrfams').xval(proto, style)})}}}}")
    if n > 28:
        setname = "rtnl_mdba_mdb_eattr_attrs"
        text += ", " + attrs(nl, off + 28, n - 28, setname, _named(nl, setname, {"MDBA_MDB_EATTR_TIMER": _clock_t}))
    return text


def _mdba_mdb(nl, off, n):
    entry = _nested("rtnl_mdba_mdb_entry_attrs", {"MDBA_MDB_ENTRY_INFO": _mdb_entry_info})
    return attrs(nl, off, n, "rtnl_mdba_mdb_attrs", _named(nl, "rtnl_mdba_mdb_attrs", {"MDBA_MDB_ENTRY": entry}))


def _struct_msg(fields, size: int, setname: str, table: dict | None, addr_attr: str | None = None):
    """A fixed header read whole (else `...`), then its attributes after
    NLMSG_ALIGN(size); addr_attr: an attribute holding an address of the header's family."""
    at = (size + 3) & ~3

    def dec(nl, off, n, family):
        text, ok = _route_struct(nl, off, n, family, size, fields)
        if ok and n > at:
            printers = _named(nl, setname, table or {})
            if addr_attr and family in (socket.AF_INET, socket.AF_INET6):
                printers[dict(nl.c.fs(setname).items)[addr_attr]] = _attr_addr(family)
            text += ", " + attrs(nl, off + at, n - at, setname, printers)
        return text

    return dec


# --- RTM_GETSTATS attributes: extended stats by link type, offload stats, per family

def _u64_fields(names: tuple):
    return lambda nl, b: "{" + ", ".join(f"{k}={v}" for k, v in zip(names, struct.unpack_from(f"<{len(names)}Q", b))) + "}"


def _bridge_vlan_xstats(nl, b):
    rxb, rxp, txb, txp, vid, flags, pad2 = struct.unpack_from("<QQQQHHI", b)
    text = (f"{{rx_bytes={rxb}, rx_packets={rxp}, tx_bytes={txb}, tx_packets={txp}, vid={vid}, "
            f"flags={nl.c.fs('nl_bridge_vlan_flags').flags(flags, nl.style())}")
    return text + (f", pad2={hexa(pad2)}}}" if pad2 else "}")


# struct br_mcast_stats: u64 pairs indexed by direction, and two single counters
_MCAST_FIELDS = ("igmp_v1queries igmp_v2queries igmp_v3queries igmp_leaves igmp_v1reports igmp_v2reports "
                 "igmp_v3reports igmp_parse_errors! mld_v1queries mld_v2queries mld_leaves mld_v1reports "
                 "mld_v2reports mld_parse_errors! mcast_bytes mcast_packets").split()


def _bridge_mcast_xstats(nl, b):
    vals = struct.unpack_from("<30Q", b)
    out, k = [], 0
    for f in _MCAST_FIELDS:
        if f.endswith("!"):
            out.append(f"{f[:-1]}={vals[k]}")
            k += 1
            continue
        idx = ("ifstats_xstats_bridge_mcast_indices", "BR_MCAST_DIR_???")
        out.append(f"{f}=[[{_index_name(nl, idx, 0)}]={vals[k]}, [{_index_name(nl, idx, 1)}]={vals[k + 1]}]")
        k += 2
    return "{" + ", ".join(out) + "}"


_XSTATS_BRIDGE = {"BRIDGE_XSTATS_VLAN": _with_tail(40, _bridge_vlan_xstats),
                  "BRIDGE_XSTATS_MCAST": _with_tail(240, _bridge_mcast_xstats),
                  "BRIDGE_XSTATS_STP": _with_tail(48, _u64_fields(("transition_blk", "transition_fwd", "rx_bpdu",
                                                                   "tx_bpdu", "rx_tcn", "tx_tcn")))}
_XSTATS_BOND_3AD = {n: u64 for n in ("BOND_3AD_STAT_LACPDU_RX", "BOND_3AD_STAT_LACPDU_TX",
                                     "BOND_3AD_STAT_LACPDU_UNKNOWN_RX", "BOND_3AD_STAT_LACPDU_ILLEGAL_RX",
                                     "BOND_3AD_STAT_MARKER_RX", "BOND_3AD_STAT_MARKER_TX",
                                     "BOND_3AD_STAT_MARKER_RESP_RX", "BOND_3AD_STAT_MARKER_RESP_TX",
                                     "BOND_3AD_STAT_MARKER_UNKNOWN_RX")}
_XSTATS = {"LINK_XSTATS_TYPE_BRIDGE": _nested("ifstats_xstats_bridge_attrs", _XSTATS_BRIDGE),
           "LINK_XSTATS_TYPE_BOND": _nested("ifstats_xstats_bond_attrs", {
               "BOND_XSTATS_3AD": _nested("ifstats_xstats_bond_3ad_attrs", _XSTATS_BOND_3AD)})}
_MPLS_STATS = {"MPLS_STATS_LINK": _with_tail(72, _u64_fields(("rx_packets", "tx_packets", "rx_bytes", "tx_bytes",
                                                               "rx_errors", "tx_errors", "rx_dropped", "tx_dropped",
                                                               "rx_noroute")))}


def _ifstats_af_spec(nl, off, n):
    """Per-family stats: attributes typed by address family, MPLS's decoded."""
    return attrs(nl, off, n, "addrfams", {socket.AF_MPLS if hasattr(socket, "AF_MPLS") else 28:
                                           _nested("ifstats_af_spec_mpls_attrs", _MPLS_STATS)})


_IFSTATS_ATTRS = {"IFLA_STATS_LINK_64": _stats("Q", 25),
                  "IFLA_STATS_LINK_XSTATS": _nested("ifstats_xstats_type_attrs", _XSTATS),
                  "IFLA_STATS_LINK_XSTATS_SLAVE": _nested("ifstats_xstats_type_attrs", _XSTATS),
                  "IFLA_STATS_LINK_OFFLOAD_XSTATS": _nested("ifstats_offload_attrs",
                                                            {"IFLA_OFFLOAD_XSTATS_CPU_HIT": _stats("Q", 25)}),
                  "IFLA_STATS_AF_SPEC": _ifstats_af_spec}


# RTM_* type -> decoder(nl, off, n, family) for the messages above
_SMALL = {}
for _t in (0x58, 0x59, 0x5A):  # RTM_{NEW,DEL,GET}NSID
    _SMALL[_t] = _family_msg("rtgen_family", "rtnl_nsid_attrs", _NSID_ATTRS)
for _t in (0x50, 0x51, 0x52):  # RTM_{NEW,DEL,GET}NETCONF
    _SMALL[_t] = _family_msg("ncm_family", "rtnl_netconf_attrs", _NETCONF_ATTRS)
for _t in (0x40, 0x42, 0x43):  # RTM_{NEW,GET,SET}NEIGHTBL
    _SMALL[_t] = _family_msg("ndtm_family", "rtnl_neightbl_attrs", _NDTA_ATTRS)
for _t in (0x48, 0x49, 0x4A):  # RTM_{NEW,DEL,GET}ADDRLABEL
    _SMALL[_t] = _addrlabel
_SMALL[0x60] = _cachereport  # RTM_NEWCACHEREPORT
for _t in (0x20, 0x21, 0x22):  # RTM_{NEW,DEL,GET}RULE
    _SMALL[_t] = _fib_rule
for _t in (0x4E, 0x4F):  # RTM_{GET,SET}DCB
    _SMALL[_t] = _dcb
for _t in (0x24, 0x25, 0x26, 0x28, 0x29, 0x2A, 0x2C, 0x2D, 0x2E, 0x64, 0x65, 0x66):  # QDISC, TCLASS, TFILTER, CHAIN
    _SMALL[_t] = _struct_msg(_TCMSG_FIELDS, 20, "rtnl_tc_attrs", _TC_ATTRS)
for _t in (0x30, 0x31, 0x32):  # RTM_{NEW,DEL,GET}ACTION: struct tcamsg, the family only
    _SMALL[_t] = _family_msg("tca_family", "rtnl_tc_action_attrs", _TCA_ACT_ATTRS)
for _t in (0x54, 0x55, 0x56):  # RTM_{NEW,DEL,GET}MDB
    _SMALL[_t] = _struct_msg(_BR_PORT_FIELDS, 8, "rtnl_mdb_attrs", {"MDBA_MDB": _mdba_mdb, "MDBA_ROUTER": _mdba_router})
for _t in (0x5C, 0x5E):  # RTM_{NEW,GET}STATS
    _SMALL[_t] = _struct_msg(_IFSTATS_FIELDS, 12, "ifstats_attrs", _IFSTATS_ATTRS)
for _t in (0x68, 0x69, 0x6A):  # RTM_{NEW,DEL,GET}NEXTHOP
    _SMALL[_t] = _struct_msg(_NHMSG_FIELDS, 8, "rtnl_nexthop_attrs", _NH_ATTRS, "NHA_GATEWAY")


def _route(nl, h, off, n):
    if h[1] == 3:  # NLMSG_DONE
        return None
    b = nl.mem.get(off, 1)
    if b is None:
        return nl.mem.at(off)
    family = b[0]
    small = _SMALL.get(h[1])
    if small is not None:
        return small(nl, off, n, family)
    spec = _ROUTE.get(h[1])
    if spec is None:
        head = f"{{family={_fam(nl, family)}"
        if n > 1:
            head += f", data={nl.hexstr(off + 1, n - 1)}"
        return head + "}"
    fields, size, attrset, kind = spec
    text, ok = _route_struct(nl, off, n, family, size, fields)
    if ok and n > size:
        text += ", " + attrs(nl, off + size, n - size, attrset, _route_attrs(family, kind, nl))
        return f"{text}"
    return text


# --- NETLINK_SOCK_DIAG: inet sockets ----------------------------------------------

_TCP_STATES = {1: "TCP_ESTABLISHED", 2: "TCP_SYN_SENT", 3: "TCP_SYN_RECV", 4: "TCP_FIN_WAIT1", 5: "TCP_FIN_WAIT2",
               6: "TCP_TIME_WAIT", 7: "TCP_CLOSE", 8: "TCP_CLOSE_WAIT", 9: "TCP_LAST_ACK", 10: "TCP_LISTEN",
               11: "TCP_CLOSING", 12: "TCP_NEW_SYN_RECV"}


def _states(v: int) -> str:
    """idiag_states: 1<<TCP_ESTABLISHED|...|0x1 (bits by state, the rest in hex)."""
    parts, left = [], v
    for n, name in _TCP_STATES.items():
        if left & (1 << n):
            parts.append(f"1<<{name}")
            left &= ~(1 << n)
    if left or not parts:
        parts.append(hexa(left))
    return "|".join(parts)


def _sockid(nl, b: bytes, off: int, family: int) -> str:
    sport, dport = struct.unpack_from(">HH", b, off)
    size = 16 if family == socket.AF_INET6 else 4
    if family in (socket.AF_INET, socket.AF_INET6):
        src, dst = (socket.inet_ntop(family, b[off + k : off + k + size]) for k in (4, 20))
        if family == socket.AF_INET:
            addrs = f'idiag_src=inet_addr("{src}"), idiag_dst=inet_addr("{dst}")'
        else:
            addrs = f'inet_pton(AF_INET6, "{src}", &idiag_src), inet_pton(AF_INET6, "{dst}", &idiag_dst)'
    else:
        addrs = f"idiag_src={nl.hexstr(0, 0)}"
    ifi, c0, c1 = struct.unpack_from("<III", b, off + 36)
    return (f"id={{idiag_sport=htons({sport}), idiag_dport=htons({dport}), {addrs}, "
            f"idiag_if={_ifindex(ifi, nl.style())}, idiag_cookie=[{c0}, {c1}]}}")


def _bc_op(nl, b: bytes) -> str:
    code, yes, no = struct.unpack_from("<BBH", b)
    return f"{{code={nl.c.fs('inet_diag_bytecodes').xval(code, nl.style())}, yes={yes}, no={no}}}"


def _hostcond(nl, off: int, n: int) -> str:
    """struct inet_diag_hostcond {family, prefix_len, port}, then the
    address of that family (hex when short of it)."""
    if n < 8:
        return nl.hexstr(off, n)
    b = nl.mem.get(off, 8)
    if b is None:
        return nl.mem.at(off)
    family, plen, port = struct.unpack_from("<BB2xi", b)
    text = f"{{family={_fam(nl, family)}, prefix_len={plen}, port={port}"
    if n > 8:
        text += ", " + _inet_field(nl, off + 8, n - 8, family, "addr")
    return text + "}"


def _bc_data(nl, off: int, n: int, code: int) -> str:
    """What follows a bytecode operation, by its code (strace's decode_bytecode_data)."""
    if code in (7, 8):  # S_COND, D_COND
        return _hostcond(nl, off, n)
    size = {9: 4, 2: 4, 3: 4, 4: 4, 5: 4, 10: 8}.get(code)  # DEV_COND, S/D_GE/LE, MARK_COND
    if size is None or n < size:
        return nl.hexstr(off, n)
    b = nl.mem.get(off, size)
    if b is None:
        return nl.mem.at(off)
    if code == 9:
        return _ifindex(struct.unpack_from("<I", b)[0], nl.style())
    if code == 10:
        return "{mark=%d, mask=%d}" % struct.unpack_from("<II", b)
    return _bc_op(nl, bytes(b))


def _bytecode(nl, off, n):
    """INET_DIAG_REQ_BYTECODE: the first operation, then its data."""
    if n < 4:
        return None
    b = nl.mem.get(off, 4)
    if b is None:
        return nl.mem.at(off)
    text = _bc_op(nl, bytes(b))
    if n > 4:
        text += ", " + _bc_data(nl, off + 4, n - 4, b[0])
    return text


_INET_DIAG_REQ_ATTRS = {"INET_DIAG_REQ_BYTECODE": _bytecode, "INET_DIAG_REQ_PROTOCOL": _xval_attr("inet_protocols", 0)}


def _inet_diag_req(nl, off: int, n: int, family: int) -> str:
    size = 56
    head, b = _diag_fixed(nl, "sdiag_family", family, off, n, size)
    if b is None:
        return head
    proto = nl.c.fs("inet_protocols").xval(b[1], nl.style())
    ext = b[2]
    states = struct.unpack_from("<I", b, 4)[0]
    text = (head + f"sdiag_protocol={proto}, idiag_ext={_idiag_ext(nl, ext)}, idiag_states={_states(states)}, "
            f"{_sockid(nl, b, 8, family)}}}")
    if n > size:
        text += ", " + attrs(nl, off + size, n - size, "inet_diag_req_attrs",
                             _named(nl, "inet_diag_req_attrs", _INET_DIAG_REQ_ATTRS))
    return text


def _idiag_ext(nl, v: int) -> str:
    """idiag_ext: bit k asks for attribute k+1: `1<<(INET_DIAG_TOS-1)|...`."""
    style = nl.style()
    if style == "raw" or v == 0:
        return hexa(v)
    names = {val: name for name, val in nl.c.fs("inet_diag_attrs").items}
    parts, left = [], v
    for k in range(8):
        if left >> k & 1 and (k + 1) in names:
            parts.append(f"1<<({names[k + 1]}-1)")
            left &= ~(1 << k)
    if not parts:
        return f"{hexa(v)} /* 1<<INET_DIAG_???-1 */"
    if left:
        parts.append(hexa(left))
    text = "|".join(parts)
    return f"{hexa(v)} /* {text} */" if style == "verbose" else text


def _inet_diag_req_compat(nl, off: int, n: int, family: int) -> str:
    """The old struct inet_diag_req (TCPDIAG_GETSOCK, DCCPDIAG_GETSOCK)."""
    size = 60
    head, b = _diag_fixed(nl, "idiag_family", family, off, n, size)
    if b is None:
        return head
    states, dbs = struct.unpack_from("<II", b, 52)
    text = (head + f"idiag_src_len={b[1]}, idiag_dst_len={b[2]}, idiag_ext={_idiag_ext(nl, b[3])}, "
            f"{_sockid(nl, b, 4, family)}, idiag_states={_states(states)}, idiag_dbs={dbs}}}")
    if n > size:
        text += ", " + attrs(nl, off + size, n - size, "inet_diag_req_attrs",
                             _named(nl, "inet_diag_req_attrs", _INET_DIAG_REQ_ATTRS))
    return text


def _inet_diag_msg(nl, off: int, n: int, family: int) -> tuple[str, bool]:
    head, b = _diag_fixed(nl, "idiag_family", family, off, n, 72)
    if b is None:
        return head, False
    state, timer, retrans = b[1], b[2], b[3]
    st = _TCP_STATES.get(state, f"{hexa(state)} /* TCP_??? */")
    expires, rq, wq, uid, ino = struct.unpack_from("<IIIII", b, 52)
    return (head + f"idiag_state={st}, idiag_timer={timer}, idiag_retrans={retrans}, {_sockid(nl, b, 4, family)}, "
            f"idiag_expires={expires}, idiag_rqueue={rq}, idiag_wqueue={wq}, idiag_uid={uid}, idiag_inode={ino}}}"), True


def _sockopt_bits(nl, off, n):
    if n != 2:
        return None
    b = nl.mem.get(off, 2)
    if b is None:
        return nl.mem.at(off)
    v = struct.unpack("<H", b)[0]
    # struct inet_diag_sockopt's bit-fields, low bit first
    names = ("recverr", "is_icsk", "freebind", "hdrincl", "mc_loop", "transparent", "mc_all", "nodefrag",
             "bind_address_no_port", "recverr_rfc4884", "defer_connect")
    on = [f"{nm}=1" for k, nm in enumerate(names) if v >> k & 1]
    return "{" + ", ".join(on) + "}" if on else "{}"


# RCV_SHUTDOWN/SEND_SHUTDOWN: the kernel's (include/net/sock.h), not uapi
_SHUTDOWN_FLAGS = FlagSet("sock_shutdown_flags", [("RCV_SHUTDOWN", 1), ("SEND_SHUTDOWN", 2)], "???_SHUTDOWN",
                          "include/net/sock.h")


def _shutdown_attr(style: str | None = None):
    """A socket's shutdown state, one byte of RCV_SHUTDOWN|SEND_SHUTDOWN
    (strace's decode_diag_shutdown prints inet's in the verbose style
    whatever -X says)."""
    def pr(nl, b):
        st = nl.style()
        return _SHUTDOWN_FLAGS.flags(b[0], st if style is None or st == "raw" else style)

    return _with_tail(1, pr, False)


# struct sk_meminfo's words by index (sock_diag.h's SK_MEMINFO_*)
_SK_MEMINFO = _int_array("I", False, ("sk_meminfo", "SK_MEMINFO_???"))

_INET_DIAG_ATTRS = {"INET_DIAG_SHUTDOWN": _shutdown_attr("verbose"), "INET_DIAG_MARK": u32, "INET_DIAG_CGROUP_ID": u64,
                    "INET_DIAG_TOS": u8, "INET_DIAG_TCLASS": u8, "INET_DIAG_SKV6ONLY": u8,
                    "INET_DIAG_PROTOCOL": _xval_attr("inet_protocols", 0), "INET_DIAG_CLASS_ID": u32,
                    "INET_DIAG_CONG": "str", "INET_DIAG_SOCKOPT": _sockopt_bits,
                    "INET_DIAG_MEMINFO": _fields_struct("IIII", ("idiag_rmem", "idiag_wmem", "idiag_fmem",
                                                                 "idiag_tmem")),
                    "INET_DIAG_VEGASINFO": _fields_struct("IIII", ("tcpv_enabled", "tcpv_rttcnt", "tcpv_rtt",
                                                                   "tcpv_minrtt")),
                    "INET_DIAG_DCTCPINFO": _fields_struct("HHIII", ("dctcp_enabled", "dctcp_ce_state", "dctcp_alpha",
                                                                    "dctcp_ab_ecn", "dctcp_ab_tot")),
                    "INET_DIAG_BBRINFO": _fields_struct("IIIII", ("bbr_bw_lo", "bbr_bw_hi", "bbr_min_rtt",
                                                                  "bbr_pacing_gain", "bbr_cwnd_gain"),
                                                        ("bbr_bw_lo", "bbr_bw_hi")),
                    "INET_DIAG_SKMEMINFO": _SK_MEMINFO}


def _unix_vfs(nl, off, n):
    """struct unix_diag_vfs {ino, dev}: printed device first, as makedev(major, minor)."""
    if n < 8:
        return None
    b = nl.mem.get(off, 8)
    if b is None:
        return nl.mem.at(off)
    ino, dev = struct.unpack("<II", b)  # the inode comes first
    major, minor = (dev >> 8) & 0xFFF, (dev & 0xFF) | ((dev >> 12) & 0xFFF00)
    return f"{{udiag_vfs_dev=makedev({hexa(major)}, {hexa(minor)}), udiag_vfs_ino={ino}}}"


_UNIX_DIAG_ATTRS = {"UNIX_DIAG_NAME": "str", "UNIX_DIAG_VFS": _unix_vfs, "UNIX_DIAG_PEER": u32,
                    "UNIX_DIAG_ICONS": _int_array("I"),
                    "UNIX_DIAG_RQLEN": _fields_struct("II", ("udiag_rqueue", "udiag_wqueue")),
                    "UNIX_DIAG_SHUTDOWN": u8, "UNIX_DIAG_UID": u32, "UNIX_DIAG_MEMINFO": _SK_MEMINFO}


def _diag_fixed(nl, field: str, family: int, off: int, n: int, size: int):
    """The head of a message with a fixed struct of `size` bytes that
    starts with its family: (`{FIELD=AF_X, `, its bytes), or (the whole
    text, None) when the message is shorter (`...`) or cannot be read (the
    address after the family)."""
    head = f"{{{field}={_fam(nl, family)}, "
    if n < size:
        return head + "...}", None
    b = nl.mem.get(off, size)
    if b is None:
        return head + nl.mem.at(off + 1) + "}", None
    return head, bytes(b)


def _unix_diag_msg(nl, off, n, family):
    head, b = _diag_fixed(nl, "udiag_family", family, off, n, 16)
    if b is None:
        return head
    st = _TCP_STATES.get(b[2], f"{hexa(b[2])} /* TCP_??? */")
    ino, c0, c1 = struct.unpack_from("<III", b, 4)
    text = (head + f"udiag_type={nl.c.fs('sock_types').xval(b[1], nl.style())}, udiag_state={st}, "
            f"udiag_ino={ino}, udiag_cookie=[{c0}, {c1}]}}")
    if n > 16:
        text += ", " + attrs(nl, off + 16, n - 16, "unix_diag_attrs", _named(nl, "unix_diag_attrs", _UNIX_DIAG_ATTRS))
    return text


_NETLINK_DIAG_ATTRS = {"NETLINK_DIAG_GROUPS": _int_array("Q", True),
                       "NETLINK_DIAG_RX_RING": _fields_struct("IIII", ("ndr_block_size", "ndr_block_nr",
                                                                       "ndr_frame_size", "ndr_frame_nr")),
                       "NETLINK_DIAG_TX_RING": _fields_struct("IIII", ("ndr_block_size", "ndr_block_nr",
                                                                       "ndr_frame_size", "ndr_frame_nr")),
                       "NETLINK_DIAG_FLAGS": _u32f_attr("netlink_socket_flags")}
_NETLINK_STATES = {0: "NETLINK_UNCONNECTED", 1: "NETLINK_CONNECTED"}


def _netlink_diag_msg(nl, off, n, family):
    head, b = _diag_fixed(nl, "ndiag_family", family, off, n, 28)
    if b is None:
        return head
    style = nl.style()
    st = _NETLINK_STATES.get(b[3])
    st = (st if style == "abbrev" else f"{hexa(b[3])} /* {st} */") if st and style != "raw" else \
        (hexa(b[3]) if style == "raw" else f"{hexa(b[3])} /* NETLINK_??? */")
    portid, dport, dgroup, ino, c0, c1 = struct.unpack_from("<IIIIII", b, 4)
    text = (head + f"ndiag_type={nl.c.fs('sock_types').xval(b[1], style)}, "
            f"ndiag_protocol={nl.c.fs('netlink_protocols').xval(b[2], style)}, ndiag_state={st}, "
            f"ndiag_portid={portid}, ndiag_dst_portid={dport}, ndiag_dst_group={dgroup}, ndiag_ino={ino}, "
            f"ndiag_cookie=[{c0}, {c1}]}}")
    if n > 28:
        text += ", " + attrs(nl, off + 28, n - 28, "netlink_diag_attrs",
                             _named(nl, "netlink_diag_attrs", _NETLINK_DIAG_ATTRS))
    return text


def _diag_req(prefix: str, size: int, body):
    """A sock_diag request of a family: `{PREFIX_family=AF_X, ...}` when
    shorter than its struct, the address after the family when it cannot be
    read, else the family's fields (body(nl, bytes))."""

    def dec(nl, off, n, family):
        head, b = _diag_fixed(nl, prefix + "_family", family, off, n, size)
        return head if b is None else head + body(nl, b) + "}"

    return dec


def _cookie(b: bytes, off: int) -> str:
    return "[{}, {}]".format(*struct.unpack_from("<II", b, off))


def _unix_req(nl, b):
    states, ino, show = struct.unpack_from("<III", b, 4)
    return (f"sdiag_protocol={b[1]}, udiag_states={_states(states)}, udiag_ino={ino}, "
            f"udiag_show={nl.c.fs('unix_diag_show').flags(show, nl.style())}, udiag_cookie={_cookie(b, 16)}")


def _netlink_req(nl, b):
    ino, show = struct.unpack_from("<II", b, 4)
    style = nl.style()
    if b[1] == 0xFF:
        proto = {"raw": "0xff", "verbose": "0xff /* NDIAG_PROTO_ALL */"}.get(style, "NDIAG_PROTO_ALL")
    else:
        proto = nl.c.fs("netlink_protocols").xval(b[1], style)
    return (f"sdiag_protocol={proto}, ndiag_ino={ino}, "
            f"ndiag_show={nl.c.fs('netlink_diag_show').flags(show, style)}, ndiag_cookie={_cookie(b, 12)}")


def _packet_req(nl, b):
    ino, show = struct.unpack_from("<II", b, 4)
    return (f"sdiag_protocol={hexa(b[1])}, pdiag_ino={ino}, "
            f"pdiag_show={nl.c.fs('packet_diag_show').flags(show, nl.style())}, pdiag_cookie={_cookie(b, 12)}")


def _diag_msg(prefix: str, size: int, body, setname: str, dflt: str | None = None, table: dict | None = None):
    """A sock_diag reply of a family: its fixed struct (body(nl, bytes)
    prints the fields after the family), then its attributes by `setname`
    (their printers by name: `table`)."""

    def dec(nl, off, n, family):
        head, b = _diag_fixed(nl, prefix + "_family", family, off, n, size)
        if b is None:
            return head
        text = head + body(nl, b) + "}"
        if n > size:
            text += ", " + attrs(nl, off + size, n - size, setname, _named(nl, setname, table or {}), dflt)
        return text

    return dec


def _packet_msg(nl, b):
    """struct packet_diag_msg (16 bytes)."""
    style = nl.style()
    num, ino = struct.unpack_from("<HI", b, 2)
    return (f"pdiag_type={nl.c.fs('sock_types').xval(b[1], style)}, "
            f"pdiag_num={nl.c.fs('ethernet_protocols').xval(num, style)}, pdiag_ino={ino}, "
            f"pdiag_cookie={_cookie(b, 8)}")


def _packet_info(nl, off, n):
    """struct packet_diag_info (24 bytes)."""
    if n < 24:
        return None
    b = nl.mem.get(off, 24)
    if b is None:
        return nl.mem.at(off)
    idx, ver, res, thr, ts, flags = struct.unpack("<6I", b)
    style = nl.style()
    return (f"{{pdi_index={_ifindex(idx, style)}, pdi_version={nl.c.fs('af_packet_versions').xval(ver, style)}, "
            f"pdi_reserve={res}, pdi_copy_thresh={thr}, pdi_tstamp={ts}, "
            f"pdi_flags={nl.c.fs('packet_diag_info_flags').flags(flags, style)}}}")


def _packet_mclist(nl, off, n):
    """struct packet_diag_mclist[] (44 bytes each: the address as long as
    pdmc_alen says, at most its 32 bytes, in hex); the unreadable rest as
    `... /* address */`, cut at -s unless -v."""
    def one(b: bytes, _i: int) -> str:
        idx, count, typ, alen = struct.unpack_from("<IIHH", b)
        m = min(alen, 32)
        addr = quote_buf(b[12:12 + m], m, 32, 0, True)
        return (f"{{pdmc_index={_ifindex(idx, nl.style())}, pdmc_count={count}, pdmc_type={typ}, "
                f"pdmc_alen={alen}, pdmc_addr={addr}}}")

    return _elems(nl, off, n, 44, one, cut=True)


# classic BPF (linux/filter.h, linux/bpf_common.h): a sock_filter program
# as strace prints it, BPF_STMT(code, k) or BPF_JUMP(code, k, jt, jf)
_BPF_CLASS = FlagSet("bpf_class", [("BPF_LD", 0), ("BPF_LDX", 1), ("BPF_ST", 2), ("BPF_STX", 3), ("BPF_ALU", 4),
                                   ("BPF_JMP", 5), ("BPF_RET", 6), ("BPF_MISC", 7)], "BPF_???", "linux/bpf_common.h")
_BPF_SIZE = FlagSet("bpf_size", [("BPF_W", 0), ("BPF_H", 0x8), ("BPF_B", 0x10), ("BPF_DW", 0x18)], "BPF_???",
                    "linux/bpf_common.h")
_BPF_MODE = FlagSet("bpf_mode", [("BPF_IMM", 0), ("BPF_ABS", 0x20), ("BPF_IND", 0x40), ("BPF_MEM", 0x60),
                                 ("BPF_LEN", 0x80), ("BPF_MSH", 0xa0), ("BPF_XADD", 0xc0)], "BPF_???", "linux/bpf_common.h")
_BPF_SRC = FlagSet("bpf_src", [("BPF_K", 0), ("BPF_X", 0x8)], "BPF_???", "linux/bpf_common.h")
_BPF_ALU = FlagSet("bpf_op_alu", [(n, i << 4) for i, n in enumerate(
    "BPF_ADD BPF_SUB BPF_MUL BPF_DIV BPF_OR BPF_AND BPF_LSH BPF_RSH BPF_NEG BPF_MOD BPF_XOR BPF_MOV BPF_ARSH "
    "BPF_END".split())], "BPF_???", "linux/bpf_common.h")
_BPF_JMP = FlagSet("bpf_op_jmp", [(n, i << 4) for i, n in enumerate(
    "BPF_JA BPF_JEQ BPF_JGT BPF_JGE BPF_JSET BPF_JNE BPF_JSGT BPF_JSGE BPF_CALL BPF_EXIT BPF_JLT BPF_JLE BPF_JSLT "
    "BPF_JSLE".split())], "BPF_???", "linux/bpf_common.h")
_BPF_RVAL = FlagSet("bpf_rval", [("BPF_K", 0), ("BPF_X", 0x8), ("BPF_A", 0x10)], "BPF_???", "linux/filter.h")
_BPF_MISCOP = FlagSet("bpf_miscop", [("BPF_TAX", 0), ("BPF_TXA", 0x80)], "BPF_???", "linux/filter.h")
_SKF_AD = FlagSet("skf_ad", [(n, 4 * i) for i, n in enumerate(
    "SKF_AD_PROTOCOL SKF_AD_PKTTYPE SKF_AD_IFINDEX SKF_AD_NLATTR SKF_AD_NLATTR_NEST SKF_AD_MARK SKF_AD_QUEUE "
    "SKF_AD_HATYPE SKF_AD_RXHASH SKF_AD_CPU SKF_AD_ALU_XOR_X SKF_AD_VLAN_TAG SKF_AD_VLAN_TAG_PRESENT "
    "SKF_AD_PAY_OFFSET SKF_AD_RANDOM SKF_AD_VLAN_TPID".split())], "SKF_AD_???", "linux/filter.h")


def _bpf_code(st: str, code: int) -> str:
    cls = code & 7
    i = code & ~7
    out = [_BPF_CLASS.xval(cls, st)]
    rest = 0
    if cls in (0, 1):  # LD, LDX
        out += [_BPF_SIZE.xval(code & 0x18, st), _BPF_MODE.xval(code & 0xE0, st)]
    elif cls in (2, 3):  # ST, STX
        rest = i
    elif cls == 7:  # MISC
        out.append(_BPF_MISCOP.xval(code & 0xF8, st))
        rest = i & ~0xF8
    elif cls in (4, 5):  # ALU, JMP
        out += [_BPF_SRC.xval(code & 8, st), (_BPF_ALU if cls == 4 else _BPF_JMP).xval(code & 0xF0, st)]
    elif cls == 6:  # RET
        out.append(_BPF_RVAL.xval(code & 0x18, st))
        rest = i & ~0x18
    if rest:
        out.append(f"{hexa(rest)} /* BPF_??? */")
    return "|".join(out)


def _skf_off(st: str, name: str, v: int) -> str:
    return {"raw": hexa(v), "verbose": f"{hexa(v)} /* {name} */"}.get(st, name)


def _bpf_insn(st: str, code: int, jt: int, jf: int, k: int) -> str:
    if jt or jf:
        return f"BPF_JUMP({_bpf_code(st, code)}, {hexa(k)}, {hexa(jt)}, {hexa(jf)})"
    kt = hexa(k)
    if code & 7 == 0 and code & 0xE0 == 0x20:  # LD|ABS: the kernel's special offsets
        if k >= 0xFFFFF000:
            kt = f"{_skf_off(st, 'SKF_AD_OFF', 0xFFFFF000)}+{_SKF_AD.xval(k - 0xFFFFF000, st)}"
        elif k >= 0xFFF00000:
            kt = f"{_skf_off(st, 'SKF_NET_OFF', 0xFFF00000)}+{k - 0xFFF00000}"
        elif k >= 0xFFE00000:
            kt = f"{_skf_off(st, 'SKF_LL_OFF', 0xFFE00000)}+{k - 0xFFE00000}"
    return f"BPF_STMT({_bpf_code(st, code)}, {kt})"


def _sock_filter(nl, off, n):
    """PACKET_DIAG_FILTER: struct sock_filter[] (8 bytes each); the address
    unless -v, as strace's print_bpf_fprog."""
    if not n // 8 or n // 8 > 0xFFFF:
        return None
    if nl.c.abbrev:
        return nl.mem.at(off)
    return _elems(nl, off, n, 8, lambda b, _i: _bpf_insn(nl.style(), *struct.unpack("<HBBI", b)))


_PACKET_RING = _fields_struct("7I", ("pdr_block_size", "pdr_block_nr", "pdr_frame_size", "pdr_frame_nr",
                                     "pdr_retire_tmo", "pdr_sizeof_priv", "pdr_features"))
_PACKET_DIAG_ATTRS = {"PACKET_DIAG_INFO": _packet_info, "PACKET_DIAG_MCLIST": _packet_mclist,
                      "PACKET_DIAG_RX_RING": _PACKET_RING, "PACKET_DIAG_TX_RING": _PACKET_RING,
                      "PACKET_DIAG_FANOUT": u32, "PACKET_DIAG_UID": u32, "PACKET_DIAG_MEMINFO": _SK_MEMINFO,
                      "PACKET_DIAG_FILTER": _sock_filter}


# SMC sockets (linux/smc_diag.h; the states are the kernel's net/smc/smc.h)
_SMC_STATES = FlagSet("smc_states", [
    ("SMC_ACTIVE", 1), ("SMC_INIT", 2), ("SMC_CLOSED", 7), ("SMC_LISTEN", 10), ("SMC_PEERCLOSEWAIT1", 20),
    ("SMC_PEERCLOSEWAIT2", 21), ("SMC_APPFINCLOSEWAIT", 24), ("SMC_APPCLOSEWAIT1", 22), ("SMC_APPCLOSEWAIT2", 23),
    ("SMC_PEERFINCLOSEWAIT", 25), ("SMC_PEERABORTWAIT", 26), ("SMC_PROCESSABORT", 27)], "SMC_???", "net/smc/smc.h")
_SMC_MODES = FlagSet("smc_diag_mode", [
    ("SMC_DIAG_MODE_SMCR", 0), ("SMC_DIAG_MODE_FALLBACK_TCP", 1), ("SMC_DIAG_MODE_SMCD", 2)],
    "SMC_DIAG_MODE_???", "include/uapi/linux/smc_diag.h")
_SMC_EXT = FlagSet("smc_diag_extended_flags", [("1<<(SMC_DIAG_CONNINFO-1)", 1), ("1<<(SMC_DIAG_LGRINFO-1)", 2)],
                   "1<<SMC_DIAG_???-1", "include/uapi/linux/smc_diag.h")


def _smc_req(nl, b):
    return f"diag_ext={_SMC_EXT.flags(b[3], nl.style())}, {_sockid(nl, b, 4, socket.AF_INET)}"


def _smc_msg(nl, b):
    """struct smc_diag_msg (64 bytes: an AF_INET socket id)."""
    style = nl.style()
    uid, inode = struct.unpack_from("<IQ", b, 52)
    return (f"diag_state={_SMC_STATES.xval(b[1], style)}, diag_fallback={_SMC_MODES.xval(b[2], style)}, "
            f"diag_shutdown={b[3]}, {_sockid(nl, b, 4, socket.AF_INET)}, diag_uid={uid}, diag_inode={inode}")


_AF_SMC = 43  # (the socket module lacks it)
# requests (NLM_F_REQUEST) by family, beside inet's
_DIAG_REQS = {socket.AF_UNIX: _diag_req("sdiag", 24, _unix_req), socket.AF_NETLINK: _diag_req("sdiag", 20, _netlink_req),
              socket.AF_PACKET: _diag_req("sdiag", 20, _packet_req), _AF_SMC: _diag_req("diag", 52, _smc_req)}
# replies by family, beside unix's, netlink's and inet's
_SMC_ROLES = FlagSet("smc_link_group_roles", [("SMC_CLNT", 0), ("SMC_SERV", 1)], "SMC_???", "net/smc/smc.h")
# the CLC decline codes (net/smc/smc_clc.h, not uapi: strace prints them in
# the verbose style), as strace 6.1 lists them
_SMC_DECL = FlagSet("smc_decl_codes", [
    ("SMC_CLC_DECL_MEM", 0x01010000), ("SMC_CLC_DECL_TIMEOUT_CL", 0x02010000), ("SMC_CLC_DECL_TIMEOUT_AL", 0x02020000),
    ("SMC_CLC_DECL_CNFERR", 0x03000000), ("SMC_CLC_DECL_PEERNOSMC", 0x03010000), ("SMC_CLC_DECL_IPSEC", 0x03020000),
    ("SMC_CLC_DECL_NOSMCDEV", 0x03030000), ("SMC_CLC_DECL_MODEUNSUPP", 0x03040000),
    ("SMC_CLC_DECL_RMBE_EC", 0x03050000), ("SMC_CLC_DECL_OPTUNSUPP", 0x03060000),
    ("SMC_CLC_DECL_SYNCERR", 0x04000000), ("SMC_CLC_DECL_PEERDECL", 0x05000000),
    ("SMC_CLC_DECL_INTERR", 0x99990000), ("SMC_CLC_DECL_ERR_RTOK", 0x99990001),
    ("SMC_CLC_DECL_ERR_RDYLNK", 0x99990002), ("SMC_CLC_DECL_ERR_REGRMB", 0x99990003)],
    "SMC_CLC_DECL_???", "net/smc/smc_clc.h")


def _smc_cursor(b: bytes, off: int) -> str:
    return "{reserved=%d, wrap=%d, count=%d}" % struct.unpack_from("<HHI", b, off)


def _smc_conninfo(nl, b):
    """struct smc_diag_conninfo (76 bytes)."""
    head = "token={}, sndbuf_size={}, rmbe_size={}, peer_rmbe_size={}".format(*struct.unpack_from("<4I", b))
    cur = [f"{k}={_smc_cursor(b, 16 + 8 * i)}" for i, k in enumerate(("rx_prod", "rx_cons", "tx_prod", "tx_cons"))]
    flags = [f"{k}={hexa(b[48 + i]) if b[48 + i] else '0'}" for i, k in enumerate(
        ("rx_prod_flags", "rx_conn_state_flags", "tx_prod_flags", "tx_conn_state_flags"))]
    tail = [f"{k}={_smc_cursor(b, 52 + 8 * i)}" for i, k in enumerate(("tx_prep", "tx_sent", "tx_fin"))]
    return "{" + ", ".join([head] + cur + flags + tail) + "}"


def _smc_lgrinfo(nl, b):
    """struct smc_diag_lgrinfo: one link (146 bytes), then the role."""
    lnk = (f"{{link_id={b[0]}, ibname={cstring(b[1:65])}, ibport={b[65]}, gid={cstring(b[66:106])}, "
           f"peer_gid={cstring(b[106:146])}}}")
    return f"{{lnk=[{lnk}], role={_SMC_ROLES.xval(b[146], nl.style())}}}"


def _smc_fallback(nl, b):
    st = nl.style()
    r, p = struct.unpack_from("<II", b)
    f = (lambda v: hexa(v)) if st == "raw" else (lambda v: _SMC_DECL.xval(v, "verbose"))
    return f"{{reason={f(r)}, peer_diagnosis={f(p)}}}"


_SMC_DIAG_ATTRS = {"SMC_DIAG_CONNINFO": _with_tail(76, _smc_conninfo, False),
                   "SMC_DIAG_LGRINFO": _with_tail(147, _smc_lgrinfo, False),
                   "SMC_DIAG_FALLBACK": _with_tail(8, _smc_fallback, False),
                   "SMC_DIAG_SHUTDOWN": _shutdown_attr(),
                   "SMC_DIAG_DMBINFO": _fields_struct("I4xQQQQ", ("linkid", "peer_gid", "my_gid", "token", "peer_token"),
                                                      ("peer_gid", "my_gid", "token", "peer_token"))}
_DIAG_MSGS = {socket.AF_PACKET: _diag_msg("pdiag", 16, _packet_msg, "packet_diag_attrs", None, _PACKET_DIAG_ATTRS),
              _AF_SMC: _diag_msg("diag", 64, _smc_msg, "smc_diag_attrs", "SMC_DIAG_???", _SMC_DIAG_ATTRS)}


def _sock_diag(nl, h, off, n):
    if h[1] in (0x12, 0x13) and h[2] & 1:  # TCPDIAG_GETSOCK, DCCPDIAG_GETSOCK requests
        b = nl.mem.get(off, 1)
        if b is None:
            return nl.mem.at(off)
        return f"{{family={_fam(nl, b[0])}}}" if n <= 1 else _inet_diag_req_compat(nl, off, n, b[0])
    if h[1] not in (0x14, 0x15) or h[1] == 3:  # SOCK_DIAG_BY_FAMILY, SOCK_DESTROY
        return None
    b = nl.mem.get(off, 1)
    if b is None:
        return nl.mem.at(off)
    family = b[0]
    if n <= 1:  # the family alone
        return f"{{family={_fam(nl, family)}}}"
    if h[2] & 1 and family in _DIAG_REQS:
        return _DIAG_REQS[family](nl, off, n, family)
    if not h[2] & 1 and family in _DIAG_MSGS:
        return _DIAG_MSGS[family](nl, off, n, family)
    if family == socket.AF_UNIX and not h[2] & 1:  # a reply: struct unix_diag_msg
        return _unix_diag_msg(nl, off, n, family)
    if family == socket.AF_NETLINK and not h[2] & 1:  # struct netlink_diag_msg
        return _netlink_diag_msg(nl, off, n, family)
    if family not in (socket.AF_INET, socket.AF_INET6):
        text = f"{{family={_fam(nl, family)}"
        if n > 1:
            text += f", data={nl.hexstr(off + 1, n - 1)}"
        return text + "}"
    if h[2] & 1:  # NLM_F_REQUEST: an inet_diag_req_v2
        return _inet_diag_req(nl, off, n, family)
    text, ok = _inet_diag_msg(nl, off, n, family)
    if ok and n > 72:
        by_name = dict(nl.c.fs("inet_diag_attrs").items)
        printers = {by_name[k]: (nla_str if v == "str" else v) for k, v in _INET_DIAG_ATTRS.items() if k in by_name}
        text += ", " + attrs(nl, off + 72, n - 72, "inet_diag_attrs", printers)
    return text


# --- NETLINK_NETFILTER: struct nfgenmsg, then attributes ------------------------------

def _netfilter(nl, h, off, n):
    if h[1] < 0x10 or n < 4:
        return None
    b = nl.mem.get(off, 4)
    if b is None:
        return nl.mem.at(off)
    family, version = b[0], b[1]
    le, be = struct.unpack_from("<H", b, 2)[0], struct.unpack_from(">H", b, 2)[0]
    ver = "NFNETLINK_V0" if version == 0 else f"{hexa(version)} /* NFNETLINK_??? */"
    if h[1] >> 8 == 10 and h[1] != 0x10:  # an nftables message: res_id names the subsystem
        res = ("NFNL_SUBSYS_NFTABLES" if le == 10 else "htons(NFNL_SUBSYS_NFTABLES)" if be == 10 else f"htons({be})")
    else:
        res = f"htons({be})"
    text = f"{{nfgen_family={_fam(nl, family)}, version={ver}, res_id={res}}}"
    if n > 4:
        rest = nl.hexstr(off + 4, n - 4) if h[1] in (0x10, 0x11) else attrs(nl, off + 4, n - 4, None, None)
        return f"{text}, {rest}"
    return text


FAMILIES = {7: _selinux, 0: _route, 4: _sock_diag, 12: _netfilter}
