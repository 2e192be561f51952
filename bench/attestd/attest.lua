-- wrk script for cocoon-attestd: POSTs one attestation request body over and over.
--   BODY=file.json     the request body (required)
--   DELAY_MS=n         pause per connection between requests, to run below the peak rate
--   RESULT=file        where done() writes one JSON line of results
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")
if delay_ms > 0 then
  function delay() return delay_ms end
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local line = string.format(
    '{"requests":%d,"seconds":%.2f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"non2xx":%d,"socket_errors":%d}',
    summary.requests, secs, summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout)
  local out = os.getenv("RESULT")
  if out then
    local r = assert(io.open(out, "w")); r:write(line, "\n"); r:close()
  end
  io.write(line, "\n")
end
