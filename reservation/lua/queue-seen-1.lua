--[[
  Waiting room heartbeat: the users whose sockets are open on this gateway are still there.
  KEYS[1] seen  {sale:<id>}:wr:seen
  ARGV[1..n] user ids
  Returns the number of users refreshed.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', now, ARGV[i])
end
return #ARGV
