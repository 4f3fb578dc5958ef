import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { holdStatus } from './hold-status.js';
import { saleEnded, saleStatus } from './sale-status.js';

/** Every allowed move of a table as "from -> to", sorted. */
const moves = (m: { states: readonly string[]; can: (a: never, b: never) => boolean }) =>
  m.states.flatMap((a) => m.states.filter((b) => m.can(a as never, b as never)).map((b) => `${a} -> ${b}`)).sort();

it('sale status: scheduled -> open -> closed, scheduled|open -> cancelled, nothing leaves closed or cancelled', () => {
  expect(moves(saleStatus)).toEqual(['open -> cancelled', 'open -> closed', 'scheduled -> cancelled', 'scheduled -> open']);
  expect(saleStatus.from('open')).toEqual(['scheduled']);
  expect(saleStatus.from('cancelled')).toEqual(['scheduled', 'open']);
  expect(saleStatus.finals).toEqual(['closed', 'cancelled']);
  expect(saleStatus.live).toEqual(['scheduled', 'open']);
  expect(() => saleStatus.assert('closed', 'open')).toThrow('a closed sale cannot become open');
});

it('saleEnded: closed or cancelled, or at/after endsAt, whatever the status says', () => {
  const endsAt = new Date('2026-12-04T00:00:00Z');
  const at = endsAt.getTime();
  expect(saleEnded({ status: 'open', endsAt }, at - 1)).toBe(false);
  expect(saleEnded({ status: 'scheduled', endsAt }, at - 1)).toBe(false);
  expect(saleEnded({ status: 'open', endsAt }, at)).toBe(true);
  expect(saleEnded({ status: 'closed', endsAt }, at - 1)).toBe(true);
  expect(saleEnded({ status: 'cancelled', endsAt }, at - 1)).toBe(true);
});

it('hold status: held -> paying -> sold; held|paying -> released|expired; sold, released, expired are final; the Lua copy is the same table', () => {
  expect(moves(holdStatus)).toEqual(['held -> expired', 'held -> paying', 'held -> released', 'paying -> expired', 'paying -> released', 'paying -> sold']);
  expect(holdStatus.from('released')).toEqual(['held', 'paying']);
  expect(holdStatus.finals).toEqual(['sold', 'released', 'expired']);
  const lua = readFileSync(new URL('./lua/includes/hold-status.lua', import.meta.url), 'utf8');
  const luaMoves = [...lua.matchAll(/^\s*(\w+) = \{([^}]*)\}/gm)].flatMap(([, from, tos]) =>
    [...tos.matchAll(/(\w+) = true/g)].map(([, to]) => `${from} -> ${to}`),
  );
  expect(luaMoves.sort()).toEqual(moves(holdStatus));
});
