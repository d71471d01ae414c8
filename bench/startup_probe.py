#!/usr/bin/env python3
"""Start-up to ready: exec -> first HTTP 200 from /readyz, for a service started N times.

  startup_probe.py --runs 7 --cacert CA.crt --audit-dir DIR -- /path/cds-service --config CFG [flags]

The probe polls in-process (a TLS socket every millisecond), so the figure is the service's and
not the cost of spawning a client per poll. The first run starts with an empty audit directory
(the schema is created), the others reopen it. Every wait is bounded; everything started is
stopped. Prints one summary line.
"""
import argparse, os, shutil, socket, ssl, statistics, subprocess, sys, time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port, ctx):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as raw:
            s = ctx.wrap_socket(raw, server_hostname="localhost") if ctx else raw
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--cacert", help="CA of the service's certificate; omit for plain HTTP")
    ap.add_argument("--audit-dir", required=True)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    ctx = ssl.create_default_context(cafile=a.cacert) if a.cacert else None
    times = []
    for i in range(a.runs):
        if i == 0:
            shutil.rmtree(a.audit_dir, ignore_errors=True)
        os.makedirs(a.audit_dir, exist_ok=True)
        port = free_port()
        t0 = time.monotonic()
        p = subprocess.Popen(cmd + ["--listen", f"127.0.0.1:{port}", "--audit-db", os.path.join(a.audit_dir, "audit.db")],
                             stderr=subprocess.DEVNULL)
        ok = False
        for _ in range(10000):  # <= ~10 s
            if ready(port, ctx):
                ok = True
                break
            if p.poll() is not None:
                break
            time.sleep(0.001)
        t1 = time.monotonic()
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        if not ok:
            print(f"run {i + 1}: the service did not become ready", file=sys.stderr)
            return 1
        times.append(round((t1 - t0) * 1000, 1))
    rest = times[1:] or times
    print(f"start-up to ready, {a.runs} runs, ms: first (new audit DB) {times[0]}; "
          f"others sorted: {sorted(rest)} (median {statistics.median(rest)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
