-- wrk script: etcd v3 HTTP gateway PUT (POST /v3/kv/put) of a 1 KiB value to a key uniform over
-- <prefix>0..<keys-1>. Keys and values travel base64-encoded in the gateway's JSON.
--
--   PEERS_KEYS    size of the key set (default 100000)
--   PEERS_PREFIX  key prefix (default "wrk-put-")

local keys = tonumber(os.getenv("PEERS_KEYS") or "100000")
local prefix = os.getenv("PEERS_PREFIX") or "wrk-put-"
local b64 = dofile(os.getenv("PEERS_LUA_DIR") .. "/base64.lua")
local value = b64(string.rep("v", 1024))
local headers = { ["Content-Type"] = "application/json" }
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

function init(args)
  math.randomseed(7919 * (thread_id or 1))
end

function request()
  local key = b64(prefix .. math.random(0, keys - 1))
  return wrk.format("POST", "/v3/kv/put", headers, '{"key":"' .. key .. '","value":"' .. value .. '"}')
end
