--[[
  Release a hold before it expires (the shopper gave it back, or a payment failed): the units go back.
  KEYS[1] meta  KEYS[2] stock  KEYS[3] holds  KEYS[4] users  KEYS[5] stats  KEYS[6] events
  ARGV[1] reservation id   ARGV[2] owner user id, or "" to skip the owner check (system callers)
  ARGV[3] "paying-ok": "1" lets a hold in state `paying` be released (a failed payment); "0" refuses it
  Returns {status}: OK (released now, or already released or expired), NOT_FOUND (no such hold or not
  the owner's), BUSY (a payment is in flight or done: state paying or sold).
]]
--- @include "includes/return-hold"
local base = string.sub(KEYS[1], 1, -5)
local rid, owner, payingOk = ARGV[1], ARGV[2], ARGV[3] == '1'
local h = readHold(base .. 'records', rid)
if not h or (owner ~= '' and h.userId ~= owner) then return {'NOT_FOUND'} end
if h.status == 'released' or h.status == 'expired' then return {'OK'} end
if h.status == 'sold' or (h.status == 'paying' and not payingOk) then return {'BUSY'} end
returnHold(base, KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], rid, 'released', h)
return {'OK'}
