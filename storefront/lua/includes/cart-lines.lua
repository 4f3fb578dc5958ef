--[[
  Shared by the cart scripts: reads a cart hash from its HGETALL reply into
    ids      the line product ids (strings), in hash order
    qty      product id -> quantity, as the hash holds it (a string: answers reuse it as it is, which is much
             cheaper in Lua than turning numbers back into text)
    version  the `_v` change counter (number), or nil when the hash has none (no cart: a hash without `_v`
             is a stray, e.g. an `_t` written just as the cart went, and is treated as no cart)
  skipping the bookkeeping fields `_v` (version) and `_t` (day of the last TTL refresh).
  cartLines(ids, qty, out) appends the lines (product id, quantity) to out, for table.concat(out, ','):
  the scripts answer one comma-separated string, which the client decodes far faster than an array.
]]
local function readCart(all)
  local ids, qty, version = {}, {}, nil
  for i = 1, #all, 2 do
    local field = all[i]
    if string.byte(field, 1) ~= 95 then -- not `_v` or `_t`
      ids[#ids + 1] = field
      qty[field] = all[i + 1]
    elseif field == '_v' then
      version = tonumber(all[i + 1])
    end
  end
  return ids, qty, version
end

local function cartLines(ids, qty, out)
  local n = #out
  for _, id in ipairs(ids) do
    local q = qty[id]
    if q then
      out[n + 1] = id
      out[n + 2] = q
      n = n + 2
    end
  end
  return out
end
