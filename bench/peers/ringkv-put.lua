-- wrk script: ringkv PUT /kv/<prefix><n> with a 1 KiB body, n uniform over <prefix>0..<keys-1>.
-- Blind writes (no context): a key written twice gets siblings, far below the limit at 100 000 keys.
--
--   PEERS_KEYS    size of the key set (default 100000)
--   PEERS_PREFIX  key prefix (default "wrk-put-")

local keys = tonumber(os.getenv("PEERS_KEYS") or "100000")
local prefix = os.getenv("PEERS_PREFIX") or "wrk-put-"
local body = string.rep("v", 1024)
local headers = { ["Content-Type"] = "application/octet-stream" }
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

function init(args)
  math.randomseed(7919 * (thread_id or 1))
end

function request()
  return wrk.format("PUT", "/kv/" .. prefix .. math.random(0, keys - 1), headers, body)
end
