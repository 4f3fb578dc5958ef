--[[
  A hold's record: one field of the sale's `records` hash (base .. 'records'),
  reservation id -> "userId|quantity|expiresAt|status|createdAt". User ids are numbers, so "|" never
  occurs inside a value. A field rather than a hash per hold: a batch of reservations writes all its
  records with one HSET, where a hash per hold cost a key and a command each.
  readHold returns {userId, quantity, expiresAt, status, createdAt} (all text) or nil. setHoldStatus writes
  a new state; its callers check holdCan (includes/hold-status) first.
]]
--- @include "includes/hold-status"
local function readHold(recordsKey, rid)
  local v = redis.call('HGET', recordsKey, rid)
  if not v then return nil end
  local userId, quantity, expiresAt, status, createdAt = string.match(v, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)$')
  if not userId then return nil end
  return {userId = userId, quantity = quantity, expiresAt = expiresAt, status = status, createdAt = createdAt}
end

local function setHoldStatus(recordsKey, rid, h, status)
  h.status = status
  redis.call('HSET', recordsKey, rid, h.userId .. '|' .. h.quantity .. '|' .. h.expiresAt .. '|' .. status .. '|' .. h.createdAt)
end
