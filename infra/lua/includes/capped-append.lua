-- Appends one entry to a stream kept near 100,000 entries (MAXLEN ~ trims whole nodes, so it is cheap).
local function cappedAppend(stream, ...)
  return redis.call('XADD', stream, 'MAXLEN', '~', 100000, '*', ...)
end
