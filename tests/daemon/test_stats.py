"""`tracectl stats`: the daemon's own figures, from a real daemon."""

import json

from daemon_helpers import tracectl


def test_stats_count_a_finished_session(daemon):
    before = json.loads(tracectl("stats", "--json", socket_path=daemon.path).stdout)
    assert before["sessions"] == 0 and before["sessions_total"] == 0 and before["records"] == 0
    r = tracectl("run", "-e", "trace=openat", "--", "cat", "/etc/hostname", socket_path=daemon.path)
    assert r.returncode == 0, r.stderr
    after = json.loads(tracectl("stats", "--json", socket_path=daemon.path).stdout)
    # the session has ended; its records were forwarded and none dropped
    assert after["sessions"] == 0 and after["sessions_total"] == 1
    assert after["records"] >= r.stderr.count("openat(") > 0
    assert after["dropped"] == 0
    assert after["uptime_ns"] > before["uptime_ns"] and after["pid"] == before["pid"]


def test_stats_text_and_the_embedded_refusal(daemon):
    r = tracectl("stats", socket_path=daemon.path)
    assert r.returncode == 0, r.stderr
    labels = [line.split("  ")[0].strip() for line in r.stdout.splitlines()]
    assert labels[:3] == ["pid", "version", "uptime"] and "records dropped" in labels
    r = tracectl("--embedded", "stats")
    assert r.returncode == 1
    assert r.stderr.strip() == "tracectl: 'stats' needs the daemon; --embedded has no sessions"
