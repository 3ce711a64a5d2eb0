#!/usr/bin/env python3
"""A stand-in for the Lambda Runtime API, for infra/bench.sh: what Lambda reports as
Init Duration, without the sandbox.

    lambda_init.py RUNS EVENT_FILE BINARY     # env (LOKET_*, AWS_*) passes through

Each run starts BINARY with AWS_LAMBDA_RUNTIME_API pointing here, and measures
  init:  exec → its first GET /2018-06-01/runtime/invocation/next;
  first: that moment → its response to EVENT_FILE (the first invocation).
The process is killed after its response. Prints one line: the median init and the
median first invocation in milliseconds, and the first response's statusCode.
"""
import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time

runs, event_file, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
event = open(event_file, "rb").read()


class Run:
    def __init__(self):
        self.next_at = None
        self.done_at = None
        self.response = None
        self.served = False
        self.done = threading.Event()


current = Run()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.endswith("/runtime/invocation/next"):
            self.send_error(404)
            return
        run = current
        if run.served:
            run.done.wait(10)  # the second poll waits until the process is killed
            return
        run.served = True
        run.next_at = time.perf_counter()
        self.send_response(200)
        for k, v in [("Content-Type", "application/json"),
                     ("Lambda-Runtime-Aws-Request-Id", "bench-1"),
                     ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000)),
                     ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:bench"),
                     ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
                     ("Content-Length", str(len(event)))]:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(event)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        run = current
        run.done_at = time.perf_counter()
        run.response = body if self.path.endswith("/response") else b'{"error": true}'
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        run.done.set()


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a killed process leaves its second poll behind: expected


inits, firsts, status = [], [], None
for _ in range(runs):
    current = Run()
    # A server per run: a killed process's second poll never meets the next run.
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}",
               AWS_LAMBDA_FUNCTION_NAME="bench", AWS_LAMBDA_FUNCTION_VERSION="1",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not current.done.wait(30):
        proc.kill()
        sys.exit(f"{cmd[0]}: no response within 30 s")
    proc.kill()
    proc.wait()
    current.done.set()
    server.shutdown()
    server.server_close()
    inits.append((current.next_at - t0) * 1000)
    firsts.append((current.done_at - current.next_at) * 1000)
    try:
        status = json.loads(current.response).get("statusCode", status)
    except ValueError:
        status = "?"
print(f"init {statistics.median(inits):.1f} ms  first invocation {statistics.median(firsts):.1f} ms  "
      f"(median of {runs}; status {status})")
