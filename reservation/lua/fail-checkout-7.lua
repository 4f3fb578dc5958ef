--[[
  A checkout's payment failed: give the hold's units back (state paying -> released) and drop it from the
  paying zset. Idempotent. A sold hold is never released.
  KEYS[1] meta  KEYS[2] stock  KEYS[3] holds  KEYS[4] users  KEYS[5] stats  KEYS[6] events
  KEYS[7] paying  {sale:<id>}:paying
  ARGV[1] reservation id
  Returns RELEASED (units returned now), ALREADY (already released or expired), SOLD (refused: it was
  paid), or MISSING (no such hold).
]]
--- @include "includes/return-hold"
local base = string.sub(KEYS[1], 1, -5)
local rid = ARGV[1]
local h = readHold(base .. 'records', rid)
redis.call('ZREM', KEYS[7], rid)
if not h then return 'MISSING' end
if h.status == 'sold' then return 'SOLD' end
if returnHold(base, KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], rid, 'released', h) then return 'RELEASED' end
return 'ALREADY'
