--[[
  Shared by release and expire: ends a hold that may move to `newStatus` (held or paying, by the hold
  state table) and gives its units back.
  Needs: base (the sale's hash-tagged key base), stockKey, usersKey, statsKey, eventsKey; h is the hold's
  record when the caller has read it already (else nil).
  Returns true when the hold was returned now, false when it was already ended.
]]
--- @include "includes/hold-record"
--- @include "includes/capped-append"
local function returnHold(base, stockKey, holdsKey, usersKey, statsKey, eventsKey, rid, newStatus, h)
  local recordsKey = base .. 'records'
  h = h or readHold(recordsKey, rid)
  if not h then return false end
  if not holdCan(h.status, newStatus) then return false end
  local q = tonumber(h.quantity)
  setHoldStatus(recordsKey, rid, h, newStatus)
  redis.call('ZREM', holdsKey, rid)
  redis.call('INCRBY', stockKey, q)
  redis.call('HINCRBY', usersKey, h.userId, -q)
  redis.call('HINCRBY', statsKey, 'held', -q)
  cappedAppend(eventsKey, 'type', newStatus, 'rid', rid, 'userId', h.userId, 'quantity', q)
  return true
end
