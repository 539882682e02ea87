"""`tracectl rules`: the daemon's standing rules, one block per rule: what it
matches, its trace options, each process it caught (session, mode, how it was
caught, any refusal), records/s and records lost; then the exec catcher's
figures. Sink figures (per-sink lag, spool bytes) come with the sinks."""

from __future__ import annotations

import json


def show(info: dict, as_json: bool, out) -> int:
    if as_json:
        for r in info["rules"]:
            out.write(json.dumps(r) + "\n")
        out.write(json.dumps({"catcher": info["catcher"], "note": info["note"]}) + "\n")
        return 0
    if not info["rules"]:
        out.write("no standing rules\n")
    for r in info["rules"]:
        match = " ".join(f"{k}={v}" for k, v in r["match"].items())
        sinks = ",".join(r["sinks"]) or "-"
        out.write(f"rule {r['name']}: {match}  trace: {r['trace'] or '(all)'}  mode: {r['mode']}  sinks: {sinks}\n")
        out.write(f"  {len(r['processes'])} process(es), {r['rate']:.0f} records/s, {r['records']} records, {r['lost']} lost\n")
        for p in r["processes"]:
            cmd = " ".join(p["command"]) if p["command"] else "?"
            sess = f"session {p['session']}" if p["session"] is not None else "not traced"
            lat = f", held {p['latency_ms']} ms" if p.get("latency_ms") is not None else ""
            out.write(f"  pid {p['pid']}: {sess}, {p['mode']}, {p['state']} (caught {p['how']}{lat}) {cmd}\n")
            for note in (p["refusal"], p.get("sinks_note")):
                if note:
                    out.write(f"    {note}\n")
    c = info["catcher"]
    if c.get("pid"):
        marks = ", ".join(f"{p} ({k})" for p, k in c["marks"])
        out.write(f"catcher pid {c['pid']}: marks {marks}; hold {c['hold_ms']} ms; {c.get('events', 0)} exec events, {c.get('matched', 0)} held, {c.get('answered', 0)} answered, {c.get('timeouts', 0)} allowed on timeout\n")
    if info["note"]:
        out.write(f"note: {info['note']}\n")
    return 0
