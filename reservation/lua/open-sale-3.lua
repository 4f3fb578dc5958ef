--[[
  Open a sale in Redis, once: writes its meta with status `open` and its stock. Safe to run again after a
  crash or a retried job: stock is only set if absent, and a closed sale is never reopened.
  KEYS[1] meta  KEYS[2] stock  KEYS[3] stats
  ARGV[1] quantity   ARGV[2..] meta field/value pairs (id, productId, priceCents, perUserLimit, ...)
  Returns the status the sale has afterwards ("open", or "closed"/"cancelled" if it had already ended).
]]
local current = redis.call('HGET', KEYS[1], 'status')
if current == 'closed' or current == 'cancelled' then return current end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('HSET', KEYS[1], 'status', 'open')
redis.call('SETNX', KEYS[2], ARGV[1])
redis.call('HSETNX', KEYS[3], 'held', 0)
redis.call('HSETNX', KEYS[3], 'sold', 0)
return 'open'
