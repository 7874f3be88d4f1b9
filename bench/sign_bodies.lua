-- wrk script: replay pre-signed Stripe events, each thread taking its own slice of the file.
-- usage: wrk -s bench/sign_bodies.lua URL -- FILE NTHREADS
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("wrapped") end
  io.write(string.format("wrapped=%d\n", total))
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  lines = {}
  for line in io.lines(path) do lines[#lines + 1] = line end
  step = nthreads
  idx = tid + 1
  wrapped = 0
end

function request()
  local line = lines[idx]
  idx = idx + step
  if idx > #lines then idx = tid + 1; wrapped = wrapped + 1 end
  local tab = line:find("\t", 1, true)
  return wrk.format("POST", "/webhooks/stripe", {
    ["Content-Type"] = "application/json",
    ["Stripe-Signature"] = line:sub(1, tab - 1),
  }, line:sub(tab + 1))
end
