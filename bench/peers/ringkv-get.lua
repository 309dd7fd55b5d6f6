-- wrk script: ringkv GET /kv/<prefix><n><query>, n uniform over the prefilled <prefix>0..<keys-1>.
--
--   PEERS_KEYS    size of the key set (default 1000)
--   PEERS_PREFIX  key prefix (default "wrk-get-")
--   PEERS_QUERY   appended to the path, e.g. "?r=1" (default none: the cluster's R)

local keys = tonumber(os.getenv("PEERS_KEYS") or "1000")
local prefix = os.getenv("PEERS_PREFIX") or "wrk-get-"
local query = os.getenv("PEERS_QUERY") or ""
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
