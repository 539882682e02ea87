"""Real collectors for the sink tests, each a private instance: rsyslog
(TCP, TLS, RELP, UDP, a unix socket) with its own config, work directory and
ports; systemd-journald in a private mount namespace; nats-server with
JetStream. Ports are ephemeral (a port the kernel handed out and we freed a
moment before); sockets live in the test's directory.

A system rsyslogd (the package's own service) may own /dev/log: nothing here
touches it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
NATS = shutil.which("nats-server") or "/usr/bin/nats-server"
JOURNALD = "/lib/systemd/systemd-journald"


def free_port(kind=socket.SOCK_STREAM) -> int:
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port: int, proc, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"receiver exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on port {port}")


def make_certs(d: str) -> dict:
    """A CA, a server certificate for localhost/127.0.0.1 and a client pair (openssl)."""
    def run(*a):
        subprocess.run(["openssl", *a], cwd=d, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=tracerd-test-ca")
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for who in ("srv", "cli"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{who}.key", "-out", f"{who}.csr", "-subj", "/CN=localhost")
        run("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", f"{who}.pem", "-days", "2", "-extfile", "ext")
    return {k: os.path.join(d, v) for k, v in (("ca", "ca.pem"), ("cert", "cli.pem"), ("key", "cli.key"), ("srv_cert", "srv.pem"), ("srv_key", "srv.key"))}


_SD = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def sd_params(sd: str) -> dict:
    return {k: re.sub(r"\\(.)", r"\1", v) for k, v in _SD.findall(sd)}


class Rsyslog:
    """rsyslogd -n with inputs tcp, tls, relp, udp and unix; each input writes
    JSON lines (msg, msgid, procid, app, sd, pri) to DIR/<input>.jsonl."""

    INPUTS = ("tcp", "tls", "relp", "udp", "unix")

    def __init__(self, d: str):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.certs = make_certs(d)
        self.ports = {"tcp": free_port(), "tls": free_port(), "relp": free_port(), "udp": free_port(socket.SOCK_DGRAM)}
        self.unix = os.path.join(d, "log.sock")
        self.proc = None
        self._write_conf()
        self.start()

    def _write_conf(self) -> None:
        c = self.certs
        p = self.ports
        rulesets = "\n".join(f'ruleset(name="{n}") {{ action(type="omfile" file="{self.dir}/{n}.jsonl" template="j") }}' for n in self.INPUTS)
        conf = f"""
global(workDirectory="{self.dir}" DefaultNetstreamDriverCAFile="{c['ca']}" DefaultNetstreamDriverCertFile="{c['srv_cert']}" DefaultNetstreamDriverKeyFile="{c['srv_key']}" maxMessageSize="256k")
module(load="imtcp" MaxSessions="200")
module(load="imrelp")
module(load="imudp")
module(load="imuxsock" SysSock.Use="off")
template(name="j" type="list" option.jsonf="on") {{
  property(outname="msg" name="msg" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="pri" name="pri" format="jsonf")
}}
{rulesets}
input(type="imtcp" port="{p['tcp']}" ruleset="tcp")
input(type="imtcp" port="{p['tls']}" ruleset="tls" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imrelp" port="{p['relp']}" ruleset="relp")
input(type="imudp" port="{p['udp']}" address="127.0.0.1" ruleset="udp")
input(type="imuxsock" socket="{self.unix}" ruleset="unix" useSpecialParser="off" parseHostname="on")
"""
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        with open(self.conf, "w") as f:
            f.write(conf)

    def start(self) -> None:
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", self.conf, "-i", os.path.join(self.dir, "rsyslogd.pid")],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "rsyslogd.log"), "ab"))
        for name in ("tcp", "tls", "relp"):
            wait_port(self.ports[name], self.proc)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.unix) and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def pause(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def url(self, name: str, **q) -> str:
        if name == "unix":
            base = f"syslog+unix://{self.unix}"
        elif name == "tls":
            base = f"syslog+tls://localhost:{self.ports['tls']}"
            q = {"ca": self.certs["ca"], **q}
        else:
            base = f"syslog+{name}://127.0.0.1:{self.ports[name]}"
        return base + ("?" + "&".join(f"{k}={v}" for k, v in q.items()) if q else "")

    def messages(self, name: str) -> list[dict]:
        path = os.path.join(self.dir, f"{name}.jsonl")
        out = []
        try:
            with open(path) as f:
                for line in f:
                    if line.strip():
                        m = json.loads(line)
                        m["params"] = sd_params(m.get("sd", ""))
                        out.append(m)
        except FileNotFoundError:
            pass
        return out

    def clear(self, name: str) -> None:
        try:
            os.unlink(os.path.join(self.dir, f"{name}.jsonl"))
        except FileNotFoundError:
            pass
        self.proc.send_signal(signal.SIGHUP)  # omfile reopens its file
        time.sleep(0.1)

    def wait_messages(self, name: str, pred, limit: float = 20.0) -> list[dict]:
        deadline = time.monotonic() + limit
        while True:
            msgs = self.messages(name)
            if pred(msgs) or time.monotonic() > deadline:
                return msgs
            time.sleep(0.05)


class Journald:
    """systemd-journald alone in a private mount namespace (unshare -m): our
    directories are bind-mounted on /run and /var/log/journal there, so its
    socket and its files are in the test's directory. Volatile storage, no
    kernel log, no rate limit (the test is the only sender)."""

    def __init__(self, d: str):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.run = os.path.join(d, "run")
        self.var = os.path.join(d, "journal")
        os.makedirs(self.run, exist_ok=True)
        os.makedirs(self.var, exist_ok=True)
        conf = os.path.join(d, "journald.conf")
        with open(conf, "w") as f:
            f.write("[Journal]\nStorage=volatile\nReadKMsg=no\nRateLimitIntervalSec=0\nForwardToSyslog=no\nForwardToWall=no\nRuntimeMaxUse=64M\n")
        script = (f"mount --make-rprivate / && mount --bind {self.run} /run && mount --bind {self.var} /var/log/journal && "
                  f"mount --bind {conf} /etc/systemd/journald.conf && exec {JOURNALD}")
        self.proc = subprocess.Popen(["unshare", "-m", "sh", "-c", script], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(d, "journald.log"), "ab"))
        self.socket = os.path.join(self.run, "systemd", "journal", "socket")
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"systemd-journald did not start: {open(os.path.join(d, 'journald.log')).read()[-500:]}")
            time.sleep(0.02)

    def entries(self, **match) -> list[dict]:
        args = [f"{k}={v}" for k, v in match.items()]
        r = subprocess.run(["journalctl", "-D", os.path.join(self.run, "log", "journal"), "-o", "json", "--no-pager", *args],
                           capture_output=True, text=True, timeout=30)
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class NatsServer:
    """nats-server -js on an ephemeral loopback port, its store in the test's directory."""

    def __init__(self, d: str):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.port = free_port()
        self.proc = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen([NATS, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", os.path.join(self.dir, "js")],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "nats.log"), "ab"))
        wait_port(self.port, self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def pause(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def url(self, subject: str, **q) -> str:
        return f"nats://127.0.0.1:{self.port}/{subject}" + ("?" + "&".join(f"{k}={v}" for k, v in q.items()) if q else "")

    def messages(self, stream: str, subject: str) -> list[tuple[dict, dict]]:
        """Every message of the stream: (headers, JSON object)."""
        import asyncio

        import nats

        async def read():
            nc = await nats.connect(f"nats://127.0.0.1:{self.port}")
            try:
                js = nc.jetstream()
                info = await js.stream_info(stream)
                out = []
                for seq in range(info.state.first_seq, info.state.last_seq + 1):
                    m = await js.get_msg(stream, seq)
                    out.append((m.headers or {}, json.loads(m.data)))
                return out
            finally:
                await nc.close()

        return asyncio.run(read())
