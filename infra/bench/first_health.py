#!/usr/bin/env python3
"""exec → first `GET /health` 200, for infra/bench.sh.

    first_health.py RUNS BINARY [ARGS...]   # env: LOKET_BIND=127.0.0.1:PORT

Starts BINARY RUNS times; each time measures from just before exec until the
first 200 to `GET /health` on LOKET_BIND (polling every 0.5 ms with a raw HTTP/1.1
request), then stops it with SIGTERM (SIGKILL after 5 s). Prints one line:
median, p90, min and max in milliseconds.
"""
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

runs, cmd = int(sys.argv[1]), sys.argv[2:]
host, port = os.environ["LOKET_BIND"].rsplit(":", 1)
port = int(port)
request = f"GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()


def healthy():
    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            s.sendall(request)
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


samples = []
for _ in range(runs):
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not healthy():
        if proc.poll() is not None:
            sys.exit(f"{cmd[0]} exited with {proc.returncode} before answering /health")
        if time.perf_counter() - t0 > 10:
            proc.kill()
            sys.exit(f"{cmd[0]} did not answer /health within 10 s")
        time.sleep(0.0005)
    samples.append((time.perf_counter() - t0) * 1000)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    # The port must be free again before the next start.
    time.sleep(0.05)

samples.sort()
p90 = samples[min(len(samples) - 1, int(round(0.9 * (len(samples) - 1))))]
print(
    f"median {statistics.median(samples):.1f} ms  p90 {p90:.1f} ms  "
    f"min {samples[0]:.1f} ms  max {samples[-1]:.1f} ms  ({runs} runs)"
)
