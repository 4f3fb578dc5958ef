--[[
  The hold state table of reservation/hold-status.ts, for the scripts (hold-status.test.ts keeps the two
  equal). holdCan(from, to) answers whether a hold in state `from` may move to `to`; every script checks
  it before setHoldStatus writes a new state.
]]
local HOLD_MOVES = {
  held = {paying = true, released = true, expired = true},
  paying = {sold = true, released = true, expired = true},
}
local function holdCan(from, to)
  local m = HOLD_MOVES[from]
  return m ~= nil and m[to] == true
end
