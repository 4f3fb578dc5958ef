--[[
  Close (or cancel) a sale in Redis: no reservation is accepted afterwards. Holds already made may still
  be checked out until they expire.
  KEYS[1] meta
  ARGV[1] new status: "closed" or "cancelled"
  Returns the status before the call ("" when the sale was never opened in Redis).
]]
local current = redis.call('HGET', KEYS[1], 'status') or ''
if current == 'closed' or current == 'cancelled' then return current end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
return current
