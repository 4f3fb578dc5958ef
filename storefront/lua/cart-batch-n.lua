--[[
  Several cart changes in one call (changes that reached one gateway in the same event-loop turn), each
  exactly as its own cart-apply-2.lua call would make it, one after the other in the order given: a change
  sees the changes before it, also on the same cart. It saves the fixed cost of a script call per change
  (the client's command and reply, Redis's call setup and I/O). The number of keys varies (2 per change),
  so the caller passes it; on Redis Cluster the caller sends only changes of one slot together (one bucket,
  or one anonymous cart).

  KEYS[2i-1] cart hash of change i    KEYS[2i] its dirty set (as cart-apply-2.lua's KEYS[1] and KEYS[2])
  ARGV[1] settings "<TTL ms>:<most distinct products>:<most units of one product>:<today>", for every change
  then per change: mode (set, sub, merge, touch), user id or "", n (how many values follow), the n values
  (pairs or triples, as cart-apply-2.lua's ARGV[4..])

  Returns one string: the answers, in order, joined by "|", each what cart-apply-2.lua answers ("OK,...",
  "MISSING", "FULL"), or "ERR <message>" when Redis refused a command of that change (the changes around it
  still run, as separate calls would).
]]
--- @include "includes/cart-lines"
--- @include "includes/cart-apply"
local s = cartSettings(ARGV[1])
local out = {}
local a = 2
local k = 1
while a <= #ARGV do
  local n = tonumber(ARGV[a + 2])
  local ok, answer = pcall(applyCart, KEYS[k], KEYS[k + 1], s, ARGV[a], ARGV[a + 1], ARGV, a + 3, a + 2 + n)
  if not ok then
    if type(answer) == 'table' then answer = answer.err end
    answer = 'ERR ' .. string.gsub(tostring(answer), '|', '/')
  end
  out[#out + 1] = answer
  a = a + 3 + n
  k = k + 2
end
return table.concat(out, '|')
