--[[
  Changes lines of one storefront cart atomically, bumps its change counter and TTL, returns the cart.

  KEYS[1] cart hash  <prefix>cart:{c<bucket>}:u:<userId> or <prefix>cart:{a:<cartId>}: product id ->
                     quantity, plus `_v`, the cart's change counter (the version the write-behind flush persists),
                     and `_t`, the day (epoch days) its TTL was last refreshed
  KEYS[2] dirty set  <prefix>cart:{c<bucket>}:dirty (zset user id -> version of the last change), in the
                     same slot as the cart, so the change and its mark for write-behind are one atomic step
  ARGV[1] TTL (ms), refreshed on every change
  ARGV[2] "1" when the cart must already exist (a signed-in user's cart: a missing hash means Redis lost
          it, and it must be reloaded from Postgres before it is changed), "0" to create it (anonymous)
  ARGV[3] most distinct products in one cart     ARGV[4] most units of one product (99)
  ARGV[5] mode: set   pairs (product id, quantity): the new quantity, 0 removes the line
                sub   pairs (product id, units): take units off, the line goes at 0 (emptying after checkout)
                merge triples (product id, units, stock): add units, capped by ARGV[4] and by stock, but a
                      line is never lowered below what it was; lines past ARGV[3] are skipped
  ARGV[6] the user id to mark dirty in KEYS[2], or "" (anonymous carts are not persisted)
  ARGV[7] today (epoch days), stored in `_t`
  ARGV[8..] the pairs or triples

  Returns {status, version, id1, qty1, id2, qty2, ...}; status is OK, MISSING (ARGV[2] = "1" and no
  hash: nothing changed) or FULL (set would add a line past ARGV[3]: nothing changed).
]]
--- @include "includes/cart-lines"
local key = KEYS[1]
local ttl = tonumber(ARGV[1])
local maxLines = tonumber(ARGV[3])
local maxQty = tonumber(ARGV[4])
local mode = ARGV[5]

if ARGV[2] == '1' and redis.call('EXISTS', key) == 0 then return {'MISSING', 0} end

local lines = redis.call('HLEN', key) - redis.call('HEXISTS', key, '_v') - redis.call('HEXISTS', key, '_t')
local step = 2
if mode == 'merge' then step = 3 end

for i = 8, #ARGV, step do
  local id = ARGV[i]
  local n = tonumber(ARGV[i + 1])
  local cur = tonumber(redis.call('HGET', key, id) or '0')
  local new
  if mode == 'set' then
    new = n
  elseif mode == 'sub' then
    new = cur - n
  else
    new = math.min(cur + n, maxQty)
    local stock = tonumber(ARGV[i + 2])
    if new > stock then new = math.max(cur, stock) end
  end
  if new <= 0 then
    if cur > 0 then
      redis.call('HDEL', key, id)
      lines = lines - 1
    end
  elseif new ~= cur then
    if cur == 0 then
      if lines >= maxLines then
        if mode == 'set' then return {'FULL', 0} end
        new = 0
      else
        lines = lines + 1
      end
    end
    if new > 0 then redis.call('HSET', key, id, new) end
  end
end

local version = redis.call('HINCRBY', key, '_v', 1)
redis.call('HSET', key, '_t', ARGV[7])
redis.call('PEXPIRE', key, ttl)
if ARGV[6] ~= '' then redis.call('ZADD', KEYS[2], 'GT', version, ARGV[6]) end
local out = {'OK', version}
local all = redis.call('HGETALL', key)
return appendCartLines(all, out)
