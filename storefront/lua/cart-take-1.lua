--[[
  Takes an anonymous cart whole: returns its lines and deletes it, in one step, so a cart token merges
  into a user's cart at most once however many logins race with it.

  KEYS[1] cart hash  <prefix>cart:{a:<cartId>}
  Returns "id1,qty1,id2,qty2,..." ("" when there was no cart).
]]
--- @include "includes/cart-lines"
local ids, qty = readCart(redis.call('HGETALL', KEYS[1]))
redis.call('DEL', KEYS[1])
return table.concat(cartLines(ids, qty, {}), ',')
