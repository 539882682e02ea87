"""-e kvm=vcpu: why KVM_RUN returned, read from the vcpu's kvm_run mapping
while the tracee is held in the exit stop (PlanFlag.KVM), printed as strace
6.1 prints it: `ioctl(5, KVM_RUN, 0) = 0 (KVM_EXIT_IO)`. The tracee is a
real VM (progs/kvm_guest.c: `out` then `hlt`); skipped without /dev/kvm."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TRACECTL = [str(Path(sys.executable).with_name("tracectl")), "--embedded"]
SRC = Path(__file__).with_name("progs") / "kvm_guest.c"


@pytest.fixture(scope="module")
def guest(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("needs root (ptrace)")
    if shutil.which("gcc") is None:
        pytest.skip("gcc missing")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        pytest.skip("/dev/kvm missing or not usable")
    exe = tmp_path_factory.mktemp("kvm") / "kvm_guest"
    subprocess.run(["gcc", "-O1", "-o", str(exe), str(SRC)], check=True)
    rc = subprocess.run([str(exe)], timeout=30).returncode
    if rc == 77:
        pytest.skip("KVM cannot create a VM here")
    assert rc == 0, f"the guest itself failed: {rc}"
    return str(exe)


def _trace(tmp_path, *opts) -> list[str]:
    out = tmp_path / "trace"
    p = subprocess.run([*TRACECTL, "-e", "trace=ioctl", *opts[:-1], "-o", str(out), opts[-1]],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    # (-f: the pid column)
    return [re.sub(r"^\d+ +", "", line) for line in out.read_text().splitlines() if "KVM_RUN" in line]


@pytest.mark.parametrize("follow", [(), ("-f",)], ids=["plain", "filter"])
def test_kvm_run_exit_reasons(guest, tmp_path, follow):
    lines = _trace(tmp_path, *follow, "-e", "kvm=vcpu", "-y", guest)
    assert lines[-2:] == [
        "ioctl(5<anon_inode:kvm-vcpu:0>, KVM_RUN, 0) = 0 (KVM_EXIT_IO)",
        "ioctl(5<anon_inode:kvm-vcpu:0>, KVM_RUN, 0) = 0 (KVM_EXIT_HLT)",
    ], lines


def test_without_kvm_vcpu_no_reason(guest, tmp_path):
    lines = _trace(tmp_path, guest)
    assert lines[-1] == "ioctl(5, KVM_RUN, 0)                    = 0", lines


def test_kvm_bad_value():
    p = subprocess.run([*TRACECTL, "-e", "kvm=all", "true"], capture_output=True, text=True, timeout=30)
    assert (p.returncode, p.stderr) == (1, "tracectl: invalid -e kvm= argument: 'all'\n")
