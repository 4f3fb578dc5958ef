--[[
  Shared by the cart scripts: appends a cart hash's lines (productId, quantity pairs) from an HGETALL
  reply to `out`, skipping the bookkeeping fields `_v` (version) and `_t` (last TTL refresh).
]]
local function appendCartLines(all, out)
  for i = 1, #all, 2 do
    if string.byte(all[i], 1) ~= 95 then -- not `_v` or `_t`
      out[#out + 1] = all[i]
      out[#out + 1] = all[i + 1]
    end
  end
  return out
end
