--[[
  Waiting room: join the queue of a sale, or look up the caller's place (a reconnect, a second socket, an
  HTTP poll). A user holds one place per sale: whoever already has one gets it back, as long as they were
  not gone longer than the grace period (then the place is lost and they join again at the back).

  KEYS[1] meta     {sale:<id>}:meta         KEYS[2] state    {sale:<id>}:wr:state
  KEYS[3] tickets  {sale:<id>}:wr:tickets   KEYS[4] line     {sale:<id>}:wr:line
  KEYS[5] pre      {sale:<id>}:wr:pre       KEYS[6] late     {sale:<id>}:wr:late
  KEYS[7] admitted {sale:<id>}:wr:admitted  KEYS[8] grants   {sale:<id>}:wr:grants
  KEYS[9] seen     {sale:<id>}:wr:seen      KEYS[10] conn    {sale:<id>}:wr:conn
  ARGV[1] user id     ARGV[2] connection id ("" for HTTP: leaves the WebSocket owner alone)
  ARGV[3] secret random key for the pre-start shuffle (integer < 2^48, from crypto)
  ARGV[4] startsAt (ms)   ARGV[5] endsAt (ms)   ARGV[6] grace period (ms)
  ARGV[7] "1" to join when the user has no place, "0" to only look

  Time is Redis' clock (TIME), the same for every gateway.
  Returns {kind, ticket, serving, grant, windowEnd, soldOut, rateMilli, previousConn}; kind is one of
  PRE (in the line, no ticket yet: the pre-start shuffle has not reached them), WAITING, ADMITTED
  (grant = "token|expiresAt" or "" when not issued yet; windowEnd in ms), CLOSED, NONE (no place, ARGV[7]=0).
  previousConn: the connection that held the place before this one ("" if none): it must be closed.
]]
--- @include "includes/now-ms"
local now = nowMs()
local user, connId = ARGV[1], ARGV[2]
local startsAt, endsAt, grace = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

local status = redis.call('HGET', KEYS[1], 'status')
if status == 'closed' or status == 'cancelled' or now >= endsAt then return {'CLOSED', 0, 0, '', 0, 0, 0} end

local st = redis.call('HMGET', KEYS[2], 'phase', 'serving', 'soldOut', 'rate')
local serving = tonumber(st[2] or '0')
local soldOut = tonumber(st[3] or '0')
local rate = tonumber(st[4] or '-1')

local prev = ''
if connId ~= '' then prev = redis.call('HGET', KEYS[10], user) or '' end
if prev == connId then prev = '' end

local function touch()
  redis.call('ZADD', KEYS[9], now, user)
  if connId ~= '' then redis.call('HSET', KEYS[10], user, connId) end
end

local seen = redis.call('ZSCORE', KEYS[9], user)
local stale = (not seen) or tonumber(seen) < now - grace

local windowEnd = redis.call('ZSCORE', KEYS[7], user)
if windowEnd then
  if tonumber(windowEnd) > now then
    touch()
    local ticket = tonumber(redis.call('HGET', KEYS[3], user) or '0')
    return {'ADMITTED', ticket, serving, redis.call('HGET', KEYS[8], user) or '', tonumber(windowEnd), soldOut, rate, prev}
  end
  -- the window ended unused: the slot is free again and the place is spent
  redis.call('ZREM', KEYS[7], user)
  redis.call('HDEL', KEYS[8], user)
  redis.call('HDEL', KEYS[3], user)
end

local ticket = redis.call('ZSCORE', KEYS[4], user)
if ticket then
  if not stale then
    touch()
    return {'WAITING', tonumber(ticket), serving, '', 0, soldOut, rate, prev}
  end
  redis.call('ZREM', KEYS[4], user)
  redis.call('HDEL', KEYS[3], user)
elseif redis.call('ZSCORE', KEYS[5], user) or redis.call('ZSCORE', KEYS[6], user) then
  if not stale then
    touch()
    return {'PRE', 0, serving, '', 0, soldOut, rate, prev}
  end
  redis.call('ZREM', KEYS[5], user)
  redis.call('ZREM', KEYS[6], user)
end

if ARGV[7] ~= '1' then return {'NONE', 0, serving, '', 0, soldOut, rate} end

touch()
if now < startsAt then
  redis.call('ZADD', KEYS[5], tonumber(ARGV[3]), user)
  return {'PRE', 0, serving, '', 0, soldOut, rate, prev}
end
if st[1] ~= 'live' then
  if redis.call('ZCARD', KEYS[5]) == 0 and redis.call('ZCARD', KEYS[6]) == 0 then
    redis.call('HSET', KEYS[2], 'phase', 'live') -- nobody to shuffle: first-come, first-served from here
  else
    redis.call('ZADD', KEYS[6], redis.call('HINCRBY', KEYS[2], 'lateSeq', 1), user)
    return {'PRE', 0, serving, '', 0, soldOut, rate, prev}
  end
end
local n = redis.call('HINCRBY', KEYS[2], 'next', 1)
redis.call('HSET', KEYS[3], user, n)
redis.call('ZADD', KEYS[4], n, user)
return {'WAITING', n, serving, '', 0, soldOut, rate, prev}
