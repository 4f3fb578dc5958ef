--[[
  Several reservations of one sale in one call (requests that arrived together at one gateway), each
  with every check of reserve-7.lua, one after the other, as if each were its own script call. It saves
  the fixed cost of a script call per request and reads and writes the sale's shared state once (see
  includes/reserve-many.lua); the result for each is exactly what reserve-7 would give.

  KEYS[1] meta    {sale:<id>}:meta      KEYS[2] stock   {sale:<id>}:stock
  KEYS[3] holds   {sale:<id>}:holds     KEYS[4] users   {sale:<id>}:users
  KEYS[5] idem    {sale:<id>}:idem      KEYS[6] stats   {sale:<id>}:stats
  KEYS[7] events  {sale:<id>}:events
  ARGV[1] now (epoch ms)
  then 5 per request: user id, quantity, idempotency key or "", admission jti or "", marker seconds

  Returns one string, 4 comma-separated values per request in order: status, reservationId, quantity,
  expiresAt (statuses as in reserve-7.lua). One string, not a list: the client decodes one value instead
  of four per request.
]]
--- @include "includes/reserve-many"
return table.concat(reserveMany(KEYS, tonumber(ARGV[1]), ARGV, 2), ',')
