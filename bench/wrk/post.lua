-- wrk script of bench/run.py: POST $BENCH_BODY with the headers in $BENCH_HEADERS (one
-- "name: value" per line), count replies that are not a 200 carrying each line of
-- $BENCH_EXPECT (by default the emulator's reply text), and print one JSON line of results at
-- the end.

wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

local expect = {}
for line in string.gmatch(os.getenv("BENCH_EXPECT") or "Hello from the AmigoChat emulator",
                          "[^\n]+") do
  table.insert(expect, line)
end

local threads = {}
wrong = 0

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  local ok = status == 200
  for _, text in ipairs(expect) do
    ok = ok and string.find(body, text, 1, true) ~= nil
  end
  if not ok then
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("wrong") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "errors": %d, "wrong": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout, bad))
end
