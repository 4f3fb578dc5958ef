--[[
  Shared by cart-apply-2.lua and cart-batch-n.lua: one change of one cart, as cart-apply-2.lua describes it.
  applyCart(key, dirty, s, mode, user, argv, first, last)
    key, dirty  the cart hash and its bucket's dirty set (KEYS of cart-apply)
    s           the settings, from cartSettings(ARGV[1]): ttl, maxLines, maxQty, today
    mode, user  as cart-apply's ARGV[2] and ARGV[3]
    argv[first..last]  the pairs or triples of the change
  Returns the change's answer string: "OK,<version>,<id>,<qty>,...", "MISSING" or "FULL".
]]
--- @include "includes/cart-lines"
local function cartSettings(packed)
  local ttl, maxLines, maxQty, today = string.match(packed, '^(%d+):(%d+):(%d+):(%d+)$')
  return {ttl = ttl, maxLines = tonumber(maxLines), maxQty = tonumber(maxQty), today = today}
end

local function applyCart(key, dirty, s, mode, user, argv, first, last)
  local maxLines, maxQty, today = s.maxLines, s.maxQty, s.today
  local ids, qty, version = readCart(redis.call('HGETALL', key))

  if version == nil and (user ~= '' or mode == 'touch') then return 'MISSING' end
  if mode == 'touch' then
    redis.call('HSET', key, '_t', today)
    redis.call('PEXPIRE', key, s.ttl)
    return 'OK,' .. version
  end

  local lines = #ids
  -- qty holds strings (as read, or the new quantity as text); touched lists the ids changed, in order.
  local touched = {}
  local step = 2
  if mode == 'merge' then step = 3 end

  for i = first, last, step do
    local id = argv[i]
    local n = tonumber(argv[i + 1])
    local had = qty[id]
    local cur = tonumber(had) or 0
    local new
    if mode == 'set' then
      new = n
    elseif mode == 'sub' then
      new = cur - n
    else
      new = math.min(cur + n, maxQty)
      local stock = tonumber(argv[i + 2])
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
          local listed = false
          for _, x in ipairs(ids) do
            if x == id then
              listed = true
              break
            end
          end
          if not listed then ids[#ids + 1] = id end
        end
      end
      if new > 0 then
        if mode == 'set' then qty[id] = argv[i + 1] else qty[id] = tostring(new) end
        touched[#touched + 1] = id
      end
    end
  end

  version = tostring((version or 0) + 1)
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
  redis.call('PEXPIRE', key, s.ttl)
  if user ~= '' then redis.call('ZADD', dirty, 'GT', version, user) end
  return table.concat(cartLines(ids, qty, {'OK', version}), ',')
end
