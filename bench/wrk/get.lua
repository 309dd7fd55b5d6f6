-- wrk script: GET /kv/<prefix><n>, n uniform over the prefilled key set (see prefill.mjs).
--
--   RINGKV_WRK_KEYS    size of the key set (default 1000)
--   RINGKV_WRK_PREFIX  key prefix (default "wrk-get-")
--   RINGKV_WRK_QUERY   appended to the path, e.g. "?r=1" (default none: the cluster's R)

local keys = tonumber(os.getenv("RINGKV_WRK_KEYS") or "1000")
local prefix = os.getenv("RINGKV_WRK_PREFIX") or "wrk-get-"
local query = os.getenv("RINGKV_WRK_QUERY") or ""
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

function init(args)
  math.randomseed(104729 * (thread_id or 1))
end

function request()
  return wrk.format("GET", "/kv/" .. prefix .. math.random(0, keys - 1) .. query)
end
