-- Redis' own clock in milliseconds: the same for every gateway process, and unaffected by their clocks.
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
