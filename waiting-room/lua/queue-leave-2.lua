--[[
  Waiting room: a user's WebSocket closed. If it was the user's current connection (not one replaced by a
  newer socket, here or on another gateway), the grace period starts now.
  KEYS[1] conn  {sale:<id>}:wr:conn     KEYS[2] seen  {sale:<id>}:wr:seen
  ARGV[1] user id   ARGV[2] connection id
  Returns 1 when the connection was the current one, else 0.
]]
--- @include "includes/now-ms"
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], nowMs(), ARGV[1])
return 1
