"""The classic BPF printer of netlink's PACKET_DIAG_FILTER: each line is
what strace 6.1 -v prints for the same instructions (setsockopt
SO_ATTACH_FILTER, checked on this machine); the suite's
nlattr_packet_diag_msg checks it on a real trace."""

import pytest

from tracerd.client.decode._netlink_msgs import _bpf_insn

pytestmark = pytest.mark.unit


def test_statements_and_jumps():
    # BPF_LD|BPF_B|BPF_ABS of an ancillary offset, as strace names it
    assert _bpf_insn("abbrev", 0x30, 0, 0, 0xFFFFF004) == "BPF_STMT(BPF_LD|BPF_B|BPF_ABS, SKF_AD_OFF+SKF_AD_PKTTYPE)"
    assert _bpf_insn("abbrev", 0x06, 0, 0, 42) == "BPF_STMT(BPF_RET|BPF_K, 0x2a)"
    # a jump: its targets make it BPF_JUMP; k stays in hex
    assert _bpf_insn("abbrev", 0x15, 1, 0, 0x800) == "BPF_JUMP(BPF_JMP|BPF_K|BPF_JEQ, 0x800, 0x1, 0)"
    # network-layer offsets count from SKF_NET_OFF; unknown bits of a store
    assert _bpf_insn("abbrev", 0x20, 0, 0, 0xFFF00009) == "BPF_STMT(BPF_LD|BPF_W|BPF_ABS, SKF_NET_OFF+9)"
    assert _bpf_insn("abbrev", 0x42, 0, 0, 1) == "BPF_STMT(BPF_ST|0x40 /* BPF_??? */, 0x1)"


def test_raw():
    # strace -v -Xraw of SO_ATTACH_FILTER with the same program
    assert _bpf_insn("raw", 0x30, 0, 0, 0xFFFFF004) == "BPF_STMT(0|0x10|0x20, 0xfffff000+0x4)"
    assert _bpf_insn("raw", 0x06, 0, 0, 42) == "BPF_STMT(0x6|0, 0x2a)"
    assert _bpf_insn("raw", 0x15, 1, 0, 0x800) == "BPF_JUMP(0x5|0|0x10, 0x800, 0x1, 0)"
    assert _bpf_insn("raw", 0x20, 0, 0, 0xFFF00009) == "BPF_STMT(0|0|0x20, 0xfff00000+9)"
