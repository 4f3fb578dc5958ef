--[[
  Waiting room heartbeat: the users whose sockets are open on this gateway are still there.
  KEYS[1] seen  {sale:<id>}:wr:seen
  ARGV[1..n] user ids
  Returns the number of users refreshed.
]]
--- @include "includes/now-ms"
local now = nowMs()
for i = 1, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', now, ARGV[i])
end
return #ARGV
