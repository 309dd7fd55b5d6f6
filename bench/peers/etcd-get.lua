-- wrk script: etcd v3 HTTP gateway GET (POST /v3/kv/range) of a key uniform over the prefilled
-- set <prefix>0..<keys-1>; linearizable unless PEERS_SERIALIZABLE=1.
--
--   PEERS_KEYS          size of the key set (default 1000)
--   PEERS_PREFIX        key prefix (default "wrk-get-")
--   PEERS_SERIALIZABLE  1: serializable (local, possibly stale) reads

local keys = tonumber(os.getenv("PEERS_KEYS") or "1000")
local prefix = os.getenv("PEERS_PREFIX") or "wrk-get-"
local serializable = os.getenv("PEERS_SERIALIZABLE") == "1"
local b64 = dofile(os.getenv("PEERS_LUA_DIR") .. "/base64.lua")
local headers = { ["Content-Type"] = "application/json" }
local counter = 0

-- Encoded once: the request loop only picks one.
local bodies = {}
for i = 0, keys - 1 do
  local extra = serializable and ',"serializable":true' or ''
  bodies[i] = '{"key":"' .. b64(prefix .. i) .. '"' .. extra .. '}'
end

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

function init(args)
  math.randomseed(104729 * (thread_id or 1))
end

function request()
  return wrk.format("POST", "/v3/kv/range", headers, bodies[math.random(0, keys - 1)])
end
