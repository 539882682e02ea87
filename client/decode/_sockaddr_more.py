"""Socket addresses of the newer families, as strace 6.1 prints them:
RxRPC (its transport an inet or inet6 address), IEEE 802.15.4, AF_ALG,
NFC (the LLCP form only when the length holds it), vsock, Qualcomm IPC
router, XDP and MCTP. Same calling convention as `_sockaddr_fam`.

Fields strace prints "verbosely" (the number and its name as a comment
even when abbreviating) use `_xv`.
"""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import quote
from ._ioctl_util import field_fd
from ._netlink_msgs import _ifindex
from ._sockaddr_fam import cstr_field, inet, inet6
from ._sockopt import mac_text


def _xv(c: C, setname: str, v: int) -> str:
    return c.fs(setname).xval(v, "raw" if c.style == "raw" else "verbose")


def rxrpc(c: C, b: bytes, n: int) -> str:
    service, ttype, tlen = struct.unpack_from("<HHH", b, 2)
    fam = struct.unpack_from("<H", b, 8)[0]
    length = min(tlen, n - 8)
    rest = max(0, length - 2)
    tail = b[10:10 + rest]
    fname = c.fs("addrfams").xval(fam, c.style)
    if fam == 2:
        body = "sin={sin_family=" + fname + (", " + inet(c, b[8:], length) if tlen >= 16
                                              else (", " + quote(tail) if rest else "")) + "}"
    elif fam == 10:
        body = "sin6={sin6_family=" + fname + (", " + inet6(c, b[8:], length) if tlen >= 24
                                                else (", " + quote(tail) if rest else "")) + "}"
    else:
        body = "family=" + fname + (", " + quote(tail) if rest else "")
    return (f"srx_service={_xv(c, 'rxrpc_services', service)}, "
            f"transport_type={c.fs('sock_types').xval(ttype, c.style)}, transport_len={tlen}, transport={{{body}}}")


def ieee802154(c: C, b: bytes, n: int) -> str:
    atype, pan = struct.unpack_from("<IH", b, 4)
    out = f"addr_type={_xv(c, 'ieee802154_addr_types', atype)}, pan_id={_xv(c, 'ieee802154_pan_ids', pan)}"
    if atype == 2:  # IEEE802154_ADDR_SHORT
        out += f", short_addr={_xv(c, 'ieee802154_addrs', struct.unpack_from('<H', b, 10)[0])}"
    elif atype != 0:  # IEEE802154_ADDR_LONG and unknown types: the hardware address
        out += f", hwaddr={mac_text(b[10:18], c.style)}"
    return "addr={" + out + "}"


def alg(c: C, b: bytes, n: int) -> str:
    feat, mask = struct.unpack_from("<II", b, 16)
    fl = "raw" if c.style == "raw" else "verbose"
    fs = c.fs("alg_sockaddr_flags")
    return (f"salg_type={cstr_field(b[2:16])}, salg_feat={fs.flags(feat, fl)}, salg_mask={fs.flags(mask, fl)}, "
            f"salg_name={cstr_field(b[24:n])}")


_NFC_LLCP_SIZE = 96  # struct sockaddr_nfc_llcp on a 64-bit kernel


def nfc(c: C, b: bytes, n: int) -> str:
    dev, target, proto = struct.unpack_from("<III", b, 4)
    out = [f"dev_idx={_ifindex(dev, c.style)}", f"target_idx={target:#x}" if target else "target_idx=0",
           f"nfc_protocol={c.fs('nfc_protocols').xval(proto, c.style)}"]
    if n < _NFC_LLCP_SIZE:
        if n > 16:
            out.append("...")
        return ", ".join(out)
    size = struct.unpack_from("<Q", b, 88)[0]
    out += [f"dsap={_xv(c, 'nfc_saps', b[16])}", f"ssap={_xv(c, 'nfc_saps', b[17])}",
            f"service_name={quote(b[18:18 + min(63, size)])}", f"service_name_len={size}"]
    return ", ".join(out)


def vsock(c: C, b: bytes, n: int) -> str:
    res, port, cid, flags = struct.unpack_from("<HIIB", b, 2)
    out = [f"svm_reserved1={res:#x}"] if res else []
    out += [f"svm_cid={c.fs('vsock_cids').xval(cid, c.style)}", f"svm_port={c.fs('vsock_ports').xval(port, c.style)}",
            f"svm_flags={c.fs('vsock_flags').flags(flags, c.style)}"]
    if any(b[13:16]):
        out.append("svm_zero=" + quote(b[13:16], force_hex=True))
    return ", ".join(out)


def qrtr(c: C, b: bytes, n: int) -> str:
    node, port = struct.unpack_from("<II", b, 4)
    return f"sq_node={c.fs('qrtr_nodes').xval(node, c.style)}, sq_port={c.fs('qrtr_ports').xval(port, c.style)}"


def xdp(c: C, b: bytes, n: int) -> str:
    flags, ifindex, queue, fd = struct.unpack_from("<HIII", b, 2)
    out = [f"sxdp_flags={c.fs('xdp_sockaddr_flags').flags(flags, c.style)}", f"sxdp_ifindex={_ifindex(ifindex, c.style)}",
           f"sxdp_queue_id={queue}"]
    if flags & 1:  # XDP_SHARED_UMEM: an fd
        v = fd - (1 << 32) if fd >> 31 else fd
        # bind's and connect's: named at the stop (the table's sockaddr_xdp layout)
        named = c.name in ("bind", "connect") and c.dec._anyfd
        out.append(f"sxdp_shared_umem_fd={c.fd_in(1, 12, v) if named else field_fd(c, v)}")
    elif fd:
        out.append(f"sxdp_shared_umem_fd={fd:#x}")
    return ", ".join(out)


def mctp(c: C, b: bytes, n: int) -> str:
    pad0, net, addr, mtype, tag, pad1 = struct.unpack_from("<HIBBBB", b, 2)
    out = [f"__smctp_pad0={pad0:#x}"] if pad0 else []
    out += [f"smctp_network={c.fs('mctp_nets').xval(net, c.style)}",
            f"smctp_addr={{s_addr={c.fs('mctp_addrs').xval(addr, c.style)}}}",
            f"smctp_type={mtype:#x}" if mtype else "smctp_type=0", f"smctp_tag={tag:#x}" if tag else "smctp_tag=0"]
    if pad1:
        out.append(f"__smctp_pad1={pad1:#x}")
    return ", ".join(out)
