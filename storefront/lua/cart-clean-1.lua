--[[
  After a write-behind flush: forgets the carts persisted, but only those not changed since they were read
  (their dirty score, the cart's version when last changed, is not above the version written).

  KEYS[1] dirty set  <prefix>cart:{c<bucket>}:dirty (zset: user id -> version of the last change)
  ARGV[1..] pairs: user id, version persisted
  Returns how many carts were marked clean.
]]
local cleaned = 0
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) <= tonumber(ARGV[i + 1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    cleaned = cleaned + 1
  end
end
return cleaned
