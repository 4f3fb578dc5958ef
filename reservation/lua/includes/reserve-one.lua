--[[
  Shared by reserve and reserve-batch: one reservation, with every check, inside the caller's script.
  K is the script's KEYS (meta, stock, holds, users, idem, stats, events); meta is the result of
  HMGET meta id status perUserLimit holdSeconds startsAt endsAt (read once per script call).
  Returns status, reservationId, quantity, expiresAt (see reserve-7.lua for the statuses).
]]
local function reserveOne(K, meta, userId, qtyArg, now, idemKey, jti, markerSeconds)
  local qty = tonumber(qtyArg)
  if not qty or qty < 1 or qty ~= math.floor(qty) then return 'INVALID', '', 0, 0 end
  local base = string.sub(K[1], 1, -5) -- strip "meta"

  local idemField = nil
  if idemKey ~= '' then
    idemField = userId .. ':' .. idemKey
    local prior = redis.call('HGET', K[5], idemField)
    if prior then
      local rid, q, exp = string.match(prior, '^([^|]+)|([^|]+)|([^|]+)$')
      return 'DUPLICATE', rid, tonumber(q), tonumber(exp)
    end
  end

  local saleId, status = meta[1], meta[2]
  if status ~= 'open' or now < tonumber(meta[5]) or now >= tonumber(meta[6]) then return 'NOT_OPEN', '', 0, 0 end

  if jti ~= '' and redis.call('EXISTS', base .. 'admission:' .. jti) == 1 then return 'NOT_ADMITTED', '', 0, 0 end

  local stock = tonumber(redis.call('GET', K[2]) or '0')
  if stock < qty then return 'SOLD_OUT', '', 0, 0 end

  local used = tonumber(redis.call('HGET', K[4], userId) or '0')
  if used + qty > tonumber(meta[3]) then return 'LIMIT', '', 0, 0 end

  redis.call('DECRBY', K[2], qty)
  redis.call('HINCRBY', K[4], userId, qty)
  redis.call('HINCRBY', K[6], 'held', qty)
  local rid = saleId .. '-' .. redis.call('INCR', base .. 'seq')
  local expiresAt = now + tonumber(meta[4]) * 1000
  redis.call('HSET', base .. 'hold:' .. rid, 'userId', userId, 'quantity', qty, 'expiresAt', expiresAt,
    'status', 'held', 'createdAt', now)
  redis.call('ZADD', K[3], expiresAt, rid)
  if idemField then redis.call('HSET', K[5], idemField, rid .. '|' .. qty .. '|' .. expiresAt) end
  if jti ~= '' then redis.call('SET', base .. 'admission:' .. jti, rid, 'EX', tonumber(markerSeconds)) end
  redis.call('XADD', K[7], 'MAXLEN', '~', 100000, '*', 'type', 'reserved', 'rid', rid, 'userId', userId, 'quantity', qty)
  return 'OK', rid, qty, expiresAt
end
