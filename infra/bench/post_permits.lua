-- wrk script for infra/bench.sh: POST /permits with the Zomerfestival application
-- (tests/fixtures/zomerfestival.json, or the file in LOKET_BENCH_BODY). No
-- Idempotency-Key: every request files a new application.
local path = os.getenv("LOKET_BENCH_BODY") or "tests/fixtures/zomerfestival.json"
local f = assert(io.open(path, "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
