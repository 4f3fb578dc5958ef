--[[
  Changes lines of one storefront cart atomically, bumps its change counter and TTL, returns the cart.
  One HGETALL reads the cart; the changes are worked out in Lua and written with one HSET (plus one HDEL
  when lines go), so a change costs five Redis commands whatever the cart holds.

  KEYS[1] cart hash  <prefix>cart:{c<bucket>}:u:<userId> or <prefix>cart:{a:<cartId>}: product id ->
                     quantity, plus `_v`, the cart's change counter (the version the write-behind flush persists),
                     and `_t`, the day (epoch days) its TTL was last refreshed
  KEYS[2] dirty set  <prefix>cart:{c<bucket>}:dirty (zset user id -> version of the last change), in the
                     same slot as the cart, so the change and its mark for write-behind are one atomic step
  ARGV[1] settings "<TTL ms>:<most distinct products>:<most units of one product>:<today>": the TTL is
          refreshed on every change; today (epoch days) is stored in `_t`
  ARGV[2] mode: set   pairs (product id, quantity): the new quantity, 0 removes the line
                sub   pairs (product id, units): take units off, the line goes at 0 (emptying after checkout)
                merge triples (product id, units, stock): add units, capped by the unit limit and by stock,
                      but a line is never lowered below what it was; lines past the line limit are skipped
                touch no pairs: only refresh `_t` and the TTL of an existing cart (a read on a new day); the
                      version stays, nothing is marked dirty, and no lines are returned
  ARGV[3] a signed-in user's id, or "" for an anonymous cart. A user's cart must already exist (a hash
          without `_v` means Redis lost it, and it must be reloaded from Postgres before it is changed) and
          each change marks it dirty in KEYS[2] for write-behind; an anonymous cart is created when missing
          and never persisted
  ARGV[4..] the pairs or triples

  Returns one string, "OK,<version>,<id1>,<qty1>,<id2>,<qty2>,..." (lines in hash order; touch: no lines),
  or "MISSING" (no cart, and a user's cart or mode touch: nothing changed) or "FULL" (set would add a line
  past the line limit: nothing changed). Arguments are few and packed, and the answer is one string, because
  the client's cost of a call grows with the number of values each way.
]]
--- @include "includes/cart-lines"
local key = KEYS[1]
local ttl, maxLines, maxQty, today = string.match(ARGV[1], '^(%d+):(%d+):(%d+):(%d+)$')
maxLines = tonumber(maxLines)
maxQty = tonumber(maxQty)
local mode = ARGV[2]
local user = ARGV[3]
local ids, qty, version = readCart(redis.call('HGETALL', key))

if version == nil and (user ~= '' or mode == 'touch') then return 'MISSING' end
if mode == 'touch' then
  redis.call('HSET', key, '_t', today)
  redis.call('PEXPIRE', key, ttl)
  return 'OK,' .. version
end

local lines = #ids
local known = {}
for _, id in ipairs(ids) do known[id] = true end
local touched = {}
local step = 2
if mode == 'merge' then step = 3 end

for i = 4, #ARGV, step do
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
        if mode == 'set' then return 'FULL' end
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
local set = {'_v', version, '_t', today}
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
redis.call('PEXPIRE', key, ttl)
if user ~= '' then redis.call('ZADD', KEYS[2], 'GT', version, user) end
return table.concat(cartLines(ids, qty, {'OK', version}), ',')
