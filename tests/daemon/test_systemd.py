"""The systemd units: `systemd-analyze verify` passes, and they say what the
daemon relies on."""

import configparser
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
UNITS = os.path.join(HERE, "..", "..", "systemd")


def unit(name):
    p = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    p.optionxform = str
    p.read(os.path.join(UNITS, name))
    return p


def unit_caps() -> set[str]:
    """CapabilityBoundingSet= as systemd reads it: the union of every line
    (configparser would keep the last one only)."""
    caps = set()
    with open(os.path.join(UNITS, "tracerd.service")) as f:
        for line in f:
            if line.startswith("CapabilityBoundingSet="):
                caps |= set(line.split("=", 1)[1].split())
    return caps


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing (Debian package: systemd)")
def test_systemd_analyze_verify(tmp_path):
    # ExecStart must exist for verify: point the copy at this venv's tracerd,
    # nothing else changes
    tracerd = os.path.join(os.path.dirname(sys.executable), "tracerd")
    assert os.access(tracerd, os.X_OK)
    with open(os.path.join(UNITS, "tracerd.service")) as f:
        text = f.read()
    assert "ExecStart=/usr/local/bin/tracerd " in text
    (tmp_path / "tracerd.service").write_text(text.replace("ExecStart=/usr/local/bin/tracerd ", f"ExecStart={tracerd} "))
    shutil.copy(os.path.join(UNITS, "tracerd.socket"), tmp_path / "tracerd.socket")
    r = subprocess.run(["systemd-analyze", "verify", "tracerd.socket", "tracerd.service"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", r.stderr  # no warnings either


def test_service_contract():
    s = unit("tracerd.service")["Service"]
    assert s["Type"] == "notify"
    assert unit_caps() == {"CAP_SYS_PTRACE", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"}
    assert s["ProtectSystem"] == "strict" and s["ProtectHome"] == "read-only" and s["PrivateTmp"] == "yes"
    assert s["RuntimeDirectory"] == "tracerd" and s["Restart"] == "on-failure"
    assert "ProtectProc" not in s  # the daemon must see the processes it traces
    sock = unit("tracerd.socket")["Socket"]
    assert sock["ListenStream"] == "/run/tracerd/tracerd.sock"
    assert sock["SocketMode"] == "0660" and sock["SocketGroup"] == "tracing"
