--[[
  Shared by reserve and reserve-batch: reservations of one sale, in arrival order, each with every check,
  with exactly the results that one script call per request would give.
  The sale's shared state (meta, stock, the users' counts, the sequence) is read once, kept in Lua tables
  while the requests are worked through, and written back once at the end, together with the batch's hold
  records (one HSET into `records`) and one `reserved` event listing its reservations; only an admission
  marker is written per request. A Redis command costs more than the Lua around it, so this is what makes a
  batch cheaper than its requests one by one.

  K is the script's KEYS: meta, stock, holds, users, idem, stats, events.
  A holds the requests from index `first` on, 5 values each: userId, quantity (text), idempotency key or "",
  admission jti or "", marker seconds (read straight from ARGV: no table per request).
  At most a few hundred requests per call (Lua's unpack limit is about 8,000 values).
  Returns a flat list, 4 text values per request in order: status, reservationId, quantity, expiresAt.
  Statuses, checked in this order: INVALID (quantity is not a whole number >= 1), DUPLICATE (the same
  user and idempotency key again: the first result), NOT_OPEN, NOT_ADMITTED (admission token spent),
  SOLD_OUT, LIMIT (per-user limit), OK.
]]
--- @include "includes/hold-record"
--- @include "includes/capped-append"
local function reserveMany(K, now, A, first)
  local meta = redis.call('HMGET', K[1], 'id', 'status', 'perUserLimit', 'holdSeconds', 'startsAt', 'endsAt')
  local base = string.sub(K[1], 1, -5) -- strip "meta"
  local saleId = meta[1]
  local open = meta[2] == 'open' and now >= tonumber(meta[5]) and now < tonumber(meta[6])
  local limit = tonumber(meta[3])
  local expiresAt = open and (now + tonumber(meta[4]) * 1000) or 0
  -- Numbers written as text once: Lua turns a number into text with sprintf each time it meets one in a
  -- concatenation, which cost more than the rest of a reservation's Lua.
  local expText, nowText = tostring(expiresAt), tostring(now)
  local recordTail = '|' .. expText .. '|held|' .. nowText -- a new hold's record is userId|quantity .. this
  local qtyTexts, qtyNums = {}, {}

  -- Shared state, read once.
  local stock = tonumber(redis.call('GET', K[2]) or '0')
  local seq = tonumber(redis.call('GET', base .. 'seq') or '0')
  local used, userFields, idem, idemFields = {}, {}, {}, {}
  for i = first, #A, 5 do
    local u, key = A[i], A[i + 2]
    if used[u] == nil then
      used[u] = false
      userFields[#userFields + 1] = u
    end
    if key ~= '' then
      local field = u .. ':' .. key
      if idem[field] == nil then
        idem[field] = false
        idemFields[#idemFields + 1] = field
      end
    end
  end
  local counts = redis.call('HMGET', K[4], unpack(userFields))
  for i, u in ipairs(userFields) do used[u] = tonumber(counts[i] or '0') end
  if #idemFields > 0 then
    local prior = redis.call('HMGET', K[5], unpack(idemFields))
    for i, f in ipairs(idemFields) do idem[f] = prior[i] or false end
  end

  local out, n, taken, zadd, userWrites, idemWrites, spent = {}, 0, 0, {}, {}, {}, {}
  local records, eventRids, eventUsers, eventQtys = {}, {}, {}, {}
  local function answer(status, rid, qty, exp)
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] = status, rid, qty, exp
    n = n + 4
  end

  for i = first, #A, 5 do
    local userId, qtyArg, key, jti = A[i], A[i + 1], A[i + 2], A[i + 3]
    local qty = qtyNums[qtyArg] -- parsed once per batch for each quantity text (tonumber is a strtod)
    if qty == nil then
      qty = tonumber(qtyArg) or false
      qtyNums[qtyArg] = qty
    end
    qty = qty or nil
    local field = key ~= '' and (userId .. ':' .. key) or nil
    if not qty or qty < 1 or qty ~= math.floor(qty) then
      answer('INVALID', '', '0', '0')
    elseif field and idem[field] then
      local rid, q, exp = string.match(idem[field], '^([^|]+)|([^|]+)|([^|]+)$')
      answer('DUPLICATE', rid, q, exp)
    elseif not open then
      answer('NOT_OPEN', '', '0', '0')
    elseif jti ~= '' and (spent[jti] or redis.call('EXISTS', base .. 'admission:' .. jti) == 1) then
      answer('NOT_ADMITTED', '', '0', '0')
    elseif stock < qty then
      answer('SOLD_OUT', '', '0', '0')
    elseif used[userId] + qty > limit then
      answer('LIMIT', '', '0', '0')
    else
      local qtyText = qtyTexts[qty]
      if not qtyText then
        qtyText = tostring(qty)
        qtyTexts[qty] = qtyText
      end
      stock = stock - qty
      taken = taken + qty
      used[userId] = used[userId] + qty
      userWrites[userId] = true
      seq = seq + 1
      local rid = saleId .. '-' .. string.format('%d', seq) -- %d: an integer's digits, not the float sprintf
      records[#records + 1], records[#records + 2] = rid, userId .. '|' .. qtyText .. recordTail
      zadd[#zadd + 1], zadd[#zadd + 2] = expText, rid
      eventRids[#eventRids + 1], eventUsers[#eventUsers + 1], eventQtys[#eventQtys + 1] = rid, userId, qtyText
      if field then
        idem[field] = rid .. '|' .. qtyText .. '|' .. expText
        idemWrites[#idemWrites + 1] = field
        idemWrites[#idemWrites + 1] = idem[field]
      end
      if jti ~= '' then
        spent[jti] = true
        redis.call('SET', base .. 'admission:' .. jti, rid, 'EX', tonumber(A[i + 4]))
      end
      answer('OK', rid, qtyText, expText)
    end
  end

  -- Shared state, written once.
  if taken > 0 then
    redis.call('DECRBY', K[2], taken)
    redis.call('HINCRBY', K[6], 'held', taken)
    redis.call('SET', base .. 'seq', seq)
    redis.call('ZADD', K[3], unpack(zadd))
    redis.call('HSET', base .. 'records', unpack(records))
    cappedAppend(K[7], 'type', 'reserved', 'rid', table.concat(eventRids, ' '), 'userId', table.concat(eventUsers, ' '),
      'quantity', table.concat(eventQtys, ' '))
    local hset = {}
    for u in pairs(userWrites) do
      hset[#hset + 1] = u
      hset[#hset + 1] = used[u]
    end
    redis.call('HSET', K[4], unpack(hset))
    if #idemWrites > 0 then redis.call('HSET', K[5], unpack(idemWrites)) end
  end
  return out
end
