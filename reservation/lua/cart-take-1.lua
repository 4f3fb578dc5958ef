--[[
  Takes an anonymous cart whole: returns its lines and deletes it, in one step, so a cart token merges
  into a user's cart at most once however many logins race with it.

  KEYS[1] cart hash  <prefix>cart:{a:<cartId>}
  Returns {id1, qty1, id2, qty2, ...} (empty when there was no cart).
]]
local all = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  if string.byte(all[i], 1) ~= 95 then -- not `_v` or `_t`
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
return out
