--[[
  Puts a cart reloaded from Postgres back into Redis, unless a live cart (a hash with `_v`) exists already
  (a concurrent request reloaded it first, or changed it since): the live copy always wins. A hash without
  `_v` is a stray and is replaced.

  A dirty mark left for the user refers to changes Redis lost with the cart: it is dropped, since the cart
  now equals its Postgres copy.

  KEYS[1] cart hash  <prefix>cart:{c<bucket>}:u:<userId>    KEYS[2] dirty set <prefix>cart:{c<bucket>}:dirty
  ARGV[1] TTL (ms)   ARGV[2] version persisted with it   ARGV[3] user id   ARGV[4] today (epoch days, `_t`)
  ARGV[5..] pairs: product id, quantity
  Returns 1 when loaded, 0 when a live cart was already there.
]]
local key = KEYS[1]
if redis.call('HEXISTS', key, '_v') == 1 then return 0 end
redis.call('DEL', key)
local fields = {'_v', ARGV[2], '_t', ARGV[4]}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', key, unpack(fields))
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('PEXPIRE', key, ARGV[1])
return 1
