-- wrk script: PUT /kv/<prefix><n> with a 1 KiB body, n uniform over a fixed set of keys.
--
--   RINGKV_WRK_KEYS    size of the key set (default 100000)
--   RINGKV_WRK_PREFIX  key prefix (default "wrk-put-")
--
-- Each PUT is a blind write (no X-Ringkv-Context), so repeated writes to one key become
-- siblings; the default set is large enough that a 10 s run writes each key about once or
-- twice, far below the sibling limit (a 409 would show up in wrk's "Non-2xx" line).

local keys = tonumber(os.getenv("RINGKV_WRK_KEYS") or "100000")
local prefix = os.getenv("RINGKV_WRK_PREFIX") or "wrk-put-"
local body = string.rep("v", 1024)
local headers = { ["Content-Type"] = "application/octet-stream" }
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

function init(args)
  -- a fixed seed per thread: runs are repeatable, threads write different key sequences
  math.randomseed(7919 * (thread_id or 1))
end

function request()
  local path = "/kv/" .. prefix .. math.random(0, keys - 1)
  return wrk.format("PUT", path, headers, body)
end
