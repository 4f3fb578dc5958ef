--[[
  Shared by release and expire: ends a hold in state `held` or `paying` and gives its units back.
  Needs: base (the sale's hash-tagged key base), stockKey, usersKey, statsKey, eventsKey.
  Returns true when the hold was returned now, false when it was already ended.
]]
local function returnHold(base, stockKey, holdsKey, usersKey, statsKey, eventsKey, rid, newStatus)
  local holdKey = base .. 'hold:' .. rid
  local h = redis.call('HMGET', holdKey, 'userId', 'quantity', 'status')
  if not h[1] then return false end
  if h[3] ~= 'held' and h[3] ~= 'paying' then return false end
  local q = tonumber(h[2])
  redis.call('HSET', holdKey, 'status', newStatus)
  redis.call('ZREM', holdsKey, rid)
  redis.call('INCRBY', stockKey, q)
  redis.call('HINCRBY', usersKey, h[1], -q)
  redis.call('HINCRBY', statsKey, 'held', -q)
  redis.call('XADD', eventsKey, 'MAXLEN', '~', 100000, '*', 'type', newStatus, 'rid', rid, 'userId', h[1], 'quantity', q)
  return true
end
