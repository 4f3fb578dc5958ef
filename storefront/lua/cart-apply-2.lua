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
  the client's cost of a call grows with the number of values each way. The work is includes/cart-apply.lua,
  which cart-batch-n.lua shares.
]]
--- @include "includes/cart-lines"
--- @include "includes/cart-apply"
return applyCart(KEYS[1], KEYS[2], cartSettings(ARGV[1]), ARGV[2], ARGV[3], ARGV, 4, #ARGV)
