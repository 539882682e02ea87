"""Fds named while the tracee is stopped (-y, -yy, -P), compared with
strace 6.1 on real tracees; and -yy inside another network namespace,
where strace shows only TCP:[INODE]."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from test_run import STRACE, TRACECTL, run_group, strace, tracectl

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(STRACE is None, reason="strace is not installed"),
]
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")

# sockets of every kind -yy describes, made and used in one process
NET = r"""
import os, socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.socket(); c.connect(s.getsockname()); a, _ = s.accept(); a.send(b"x"); c.recv(1)
u = socket.socketpair(); u[0].send(b"y")
n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); n.bind((0, 0)); n.getsockname()
d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); d.sendto(b"z", ("127.0.0.1", 9))
for x in (s, c, a, u[0], u[1], n, d):
    x.getsockname()
"""
# the same inside a fresh network namespace, its loopback brought up first
# (SIOCSIFFLAGS IFF_UP|IFF_RUNNING on lo)
NETNS = r"""
import fcntl, socket, struct
l = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
fcntl.ioctl(l, 0x8914, struct.pack("16sH14x", b"lo", 1 | 8)); l.close()
""" + NET
NET_CALLS = "trace=socket,connect,sendto,recvfrom,getsockname,socketpair,accept4,listen"
# files, a device, a pidfd, a deleted file and a memfd
FILES = r"""
import os
os.memfd_create("m")
p = os.pidfd_open(os.getpid()); os.close(p)
f = open("gone", "w"); os.unlink("gone"); os.fsync(f.fileno())
n = os.open("/dev/null", os.O_RDONLY); os.fsync(n) if False else os.close(n)
os.close(os.open(".", os.O_RDONLY))
import select
r, w = os.pipe(); p = select.poll(); p.register(r); p.register(w, select.POLLOUT); p.poll(0)
select.select([r], [w], [], 0)
"""


def numbers(t: str) -> str:
    """What differs between two runs: inodes, ports, pids, addresses."""
    t = re.sub(r"0x[0-9a-f]{6,}", "ADDR", t)
    return re.sub(r"\b\d{3,}\b", "N", t)


def test_P_matches_an_fd_whose_open_is_not_traced():
    """-P /etc/hostname with only read traced: strace checks the fd's
    /proc link at the stop; the open that made it is never seen."""
    args = ["-P", "/etc/hostname", "-e", "trace=read", "cat", "/etc/hostname"]
    # cat reads (not copy_file_range) when its output is a pipe
    ours, theirs = tracectl(*args, stdout=subprocess.PIPE), strace(*args, capture_output=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert ours.returncode == theirs.returncode == 0
    assert 'read(3, "' in ours.stderr
    assert ours.stderr == theirs.stderr


def test_P_symlink_matches_its_target(tmp_path):
    """strace adds the path's realpath to the set, and says so."""
    (tmp_path / "hn").symlink_to("/etc/hostname")
    args = ["-P", str(tmp_path / "hn"), "-e", "trace=read", "cat", "/etc/hostname"]
    ours, theirs = tracectl(*args, stdout=subprocess.PIPE), strace(*args, capture_output=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert f'tracectl: Requested path "{tmp_path}/hn" resolved into "/etc/hostname"' in ours.stderr
    assert 'read(3, "' in ours.stderr
    assert ours.stderr == theirs.stderr.replace("strace: ", "tracectl: ")


def test_y_names_an_fd_whose_open_is_not_traced():
    args = ["-y", "-e", "trace=read", "cat", "/etc/hostname"]
    ours, theirs = tracectl(*args, stdout=subprocess.PIPE), strace(*args, capture_output=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert "read(3</etc/hostname>, " in ours.stderr
    assert numbers(ours.stderr) == numbers(theirs.stderr)


def _annotated(text: str) -> set[tuple[str, str, str]]:
    """(call, fd, what -y/-yy printed for it) for every fd argument shown."""
    return {(m[0], m[1], numbers(m[2])) for m in re.findall(r"(\w+)\((?:[^<]*?, )?(\d+)<((?:[^<>]|<[^<>]*>)*)>", text)}


def test_yy_pipe_between_children():
    """`echo hi | cat` under sh: the writer's fd 1 was dup2'ed from a pipe
    in a child: named at the stop, it is the pipe (the decoder could not
    know it from the filtered stream)."""
    args = ["-f", "-yy", "-e", "trace=write,dup2,pipe2,close,read", "sh", "-c", "echo hi | cat"]
    ours, theirs = tracectl(*args, stdout=subprocess.PIPE), strace(*args, capture_output=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert ours.returncode == theirs.returncode == 0
    pipes = set(re.findall(r"pipe2\(\[3<(pipe:\[\d+\])>", ours.stderr))
    assert len(pipes) == 1
    assert f'write(1<{pipes.pop()}>, "hi\\n", 3' in ours.stderr
    assert _annotated(ours.stderr) == _annotated(theirs.stderr)


def test_yy_sockets_match_strace(tmp_path):
    """TCP before and after connect, a listener, an accepted socket, a UNIX
    socketpair's peers, a netlink socket's protocol and port, UDP."""
    (tmp_path / "net.py").write_text(NET)
    args = ["-yy", "-e", NET_CALLS, PY, "net.py"]
    ours, theirs = tracectl(*args, cwd=tmp_path), strace(*args, cwd=tmp_path)
    assert ours.returncode == theirs.returncode == 0
    assert re.search(r"getsockname\(4<TCP:\[127\.0\.0\.1:\d+->127\.0\.0\.1:\d+\]>", ours.stderr)
    assert re.search(r"socket\(AF_INET, SOCK_STREAM\|SOCK_CLOEXEC, IPPROTO_IP\) = 4<TCP:\[\d+\]>", ours.stderr)  # not yet connected
    assert re.search(r"UNIX-STREAM:\[(\d+)->(\d+)\]", ours.stderr) and "NETLINK:[ROUTE:" in ours.stderr
    assert numbers(ours.stderr) == numbers(theirs.stderr)


def test_yy_files_devices_pidfds_match_strace(tmp_path):
    (tmp_path / "files.py").write_text(FILES)
    args = ["-yy", "-e", "trace=memfd_create,pidfd_open,close,fsync,poll,pselect6", PY, "files.py"]
    ours, theirs = tracectl(*args, cwd=tmp_path), strace(*args, cwd=tmp_path)
    assert ours.returncode == theirs.returncode == 0
    for want in ("(deleted)", "<pid:", "</dev/null<char 1:3>>", f"<{tmp_path}>"):
        assert want in ours.stderr
    assert re.search(r"poll\(\[\{fd=\d+<pipe:\[\d+\]>, events=", ours.stderr)
    assert re.search(r"pselect6\(\d+, \[\d+<pipe:\[\d+\]>\], \[\d+<pipe:", ours.stderr)
    assert numbers(ours.stderr) == numbers(theirs.stderr)


needs_netns = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare")


@needs_netns
def test_yy_inside_another_network_namespace(tmp_path):
    """strace asks sock_diag in its own namespace and prints TCP:[INODE];
    we ask in the tracee's and print what it prints outside one."""
    (tmp_path / "netns.py").write_text(NETNS)
    (tmp_path / "net.py").write_text(NET)
    args = ["-f", "-yy", "-e", "trace=getsockname", "unshare", "-n", PY, "netns.py"]
    ours, theirs = tracectl(*args, cwd=tmp_path), strace(*args, cwd=tmp_path)
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    outside = tracectl("-yy", "-e", "trace=getsockname", PY, "net.py", cwd=tmp_path)

    def calls(t):
        return [numbers(re.sub(r"^\[pid +\d+\] ", "", line)) for line in t.splitlines() if "getsockname(" in line]

    assert calls(ours.stderr) == calls(outside.stderr)
    assert re.search(r"getsockname\(4<TCP:\[127\.0\.0\.1:\d+->127\.0\.0\.1:\d+\]>", ours.stderr)
    # what strace 6.1 shows there: no addresses (the reason for this work)
    assert re.search(r"getsockname\(4<TCP:\[\d+\]>", theirs.stderr)


@needs_netns
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv")
def test_yy_says_once_when_it_cannot_ask(tmp_path):
    """Without CAP_SYS_ADMIN the tracer cannot join the tracee's network
    namespace: sockets print as strace prints them, and stderr says why,
    once."""
    (tmp_path / "netns.py").write_text(NETNS)
    (tmp_path / "net.py").write_text(NET)
    cmd = ["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", *TRACECTL, "--embedded", "run",
           "-f", "-yy", "-e", "trace=getsockname", "unshare", "-Urn", PY, "netns.py"]
    r = run_group(cmd, cwd=tmp_path, text=True)
    assert r.returncode == 0, r.stderr
    notes = [line for line in r.stderr.splitlines() if line.startswith("tracectl: -yy:")]
    assert notes == [f"tracectl: -yy: cannot ask the kernel about sockets (setns into its network namespace for pid {notes[0].split('for pid ')[1].split(':')[0]}: Operation not permitted): sockets show as PROTO:[INODE]"]
    assert re.search(r"getsockname\(4<TCP:\[\d+\]>", r.stderr)


def test_a_recording_made_with_yy_serves_replay_yy(tmp_path):
    """The records carry the details named at the stops: replay shows them
    as the live run did; a recording made with -y alone refuses -yy."""
    (tmp_path / "net.py").write_text(NET)
    live = tracectl("-yy", "-e", "trace=getsockname", PY, "net.py", cwd=tmp_path)
    rec = tmp_path / "r.mp"
    assert tracectl("-yy", "--format=msgpack", "-o", str(rec), "-e", "trace=getsockname", PY, "net.py", cwd=tmp_path).returncode == 0
    shown = run_group([*TRACECTL, "replay", "-yy", str(rec)], text=True)
    assert shown.returncode == 0, shown.stderr
    assert "UNIX-STREAM:[" in shown.stderr and numbers(shown.stderr) == numbers(live.stderr)
    only_y = tmp_path / "y.mp"
    assert tracectl("-y", "--format=msgpack", "-o", str(only_y), "-e", "trace=getsockname", PY, "net.py", cwd=tmp_path).returncode == 0
    r = run_group([*TRACECTL, "replay", "-yy", str(only_y)], text=True)
    assert r.returncode == 1 and r.stderr.endswith("record with -yy\n")
