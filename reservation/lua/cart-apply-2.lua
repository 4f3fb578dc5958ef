--[[
  Changes lines of one storefront cart atomically, bumps its change counter and TTL, returns the cart.
  One HGETALL reads the cart; the changes are worked out in Lua and written with one HSET (plus one HDEL
  when lines go), so a change costs five Redis commands whatever the cart holds.

  KEYS[1] cart hash  <prefix>cart:{c<bucket>}:u:<userId> or <prefix>cart:{a:<cartId>}: product id ->
                     quantity, plus `_v`, the cart's change counter (the version the write-behind flush persists),
                     and `_t`, the day (epoch days) its TTL was last refreshed
  KEYS[2] dirty set  <prefix>cart:{c<bucket>}:dirty (zset user id -> version of the last change), in the
                     same slot as the cart, so the change and its mark for write-behind are one atomic step
  ARGV[1] TTL (ms), refreshed on every change
  ARGV[2] "1" when the cart must already exist (a signed-in user's cart: a hash without `_v` means Redis lost
          it, and it must be reloaded from Postgres before it is changed), "0" to create it (anonymous)
  ARGV[3] most distinct products in one cart     ARGV[4] most units of one product (99)
  ARGV[5] mode: set   pairs (product id, quantity): the new quantity, 0 removes the line
                sub   pairs (product id, units): take units off, the line goes at 0 (emptying after checkout)
                merge triples (product id, units, stock): add units, capped by ARGV[4] and by stock, but a
                      line is never lowered below what it was; lines past ARGV[3] are skipped
                touch no pairs: only refresh `_t` and the TTL of an existing cart (a read on a new day); the
                      version stays, nothing is marked dirty, and no lines are returned
  ARGV[6] the user id to mark dirty in KEYS[2], or "" (anonymous carts are not persisted)
  ARGV[7] today (epoch days), stored in `_t`
  ARGV[8..] the pairs or triples

  Returns {status, version, id1, qty1, id2, qty2, ...} (lines in hash order, numbers); status is OK, MISSING
  (no cart and ARGV[2] = "1" or mode touch: nothing changed) or FULL (set would add a line past ARGV[3]:
  nothing changed).
]]
--- @include "includes/cart-lines"
local key = KEYS[1]
local mode = ARGV[5]
local ids, qty, version = readCart(redis.call('HGETALL', key))

if version == nil and (ARGV[2] == '1' or mode == 'touch') then return {'MISSING', 0} end
if mode == 'touch' then
  redis.call('HSET', key, '_t', ARGV[7])
  redis.call('PEXPIRE', key, ARGV[1])
  return {'OK', version}
end

local maxLines = tonumber(ARGV[3])
local maxQty = tonumber(ARGV[4])
local lines = #ids
local known = {}
for _, id in ipairs(ids) do known[id] = true end
local touched = {}
local step = 2
if mode == 'merge' then step = 3 end

for i = 8, #ARGV, step do
  local id = ARGV[i]
  local n = tonumber(ARGV[i + 1])
  local cur = qty[id] or 0
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
      qty[id] = nil
      lines = lines - 1
      touched[#touched + 1] = id
    end
  elseif new ~= cur then
    if cur == 0 then
      if lines >= maxLines then
        if mode == 'set' then return {'FULL', 0} end
        new = 0
      else
        lines = lines + 1
        if not known[id] then
          known[id] = true
          ids[#ids + 1] = id
        end
      end
    end
    if new > 0 then
      qty[id] = new
      touched[#touched + 1] = id
    end
  end
end

version = (version or 0) + 1
local set = {'_v', version, '_t', ARGV[7]}
local gone = {}
local done = {}
for _, id in ipairs(touched) do
  if not done[id] then
    done[id] = true
    if qty[id] then
      set[#set + 1] = id
      set[#set + 1] = qty[id]
    else
      gone[#gone + 1] = id
    end
  end
end
if #gone > 0 then redis.call('HDEL', key, unpack(gone)) end
redis.call('HSET', key, unpack(set))
redis.call('PEXPIRE', key, ARGV[1])
if ARGV[6] ~= '' then redis.call('ZADD', KEYS[2], 'GT', version, ARGV[6]) end
return cartLines(ids, qty, {'OK', version})
