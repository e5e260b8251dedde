import { describe, expect, it } from 'vitest';
import { type MemberHealth, judgeQuorum } from './quorum.js';

const m = (name: string, healthy: boolean): MemberHealth => ({ name, clientURLs: [`https://127.0.0.1:${name.length}`], healthy, ...(healthy ? {} : { why: 'ECONNREFUSED' }) });

describe('judgeQuorum', () => {
  it.each([
    { members: [m('a', true)], ok: true, why: /single-member/ },
    { members: [m('a', true), m('b', true), m('c', true)], ok: true, why: /2 of the other 2/ },
    { members: [m('a', true), m('b', true), m('c', false)], ok: false, why: /leave 1 of 3 members healthy, below the quorum of 2; unhealthy: c / },
    { members: [m('a', true), m('b', false), m('c', false)], ok: false, why: /unhealthy: b .*, c / },
    { members: [m('a', false), m('b', true), m('c', true)], ok: true, why: /a is not healthy already/ },
    { members: [m('a', false), m('b', true), m('c', false)], ok: true, why: /a is not healthy already/ },
    { members: [m('a', true), m('b', true)], ok: false, why: /leave 1 of 2 members healthy, below the quorum of 2/ },
    { members: [m('a', true), m('b', true), m('c', true), m('d', true), m('e', false)], ok: true, why: /3 of the other 4 .* quorum is 3 of 5/ },
    { members: [m('a', true), m('b', true), m('c', true), m('d', false), m('e', false)], ok: false, why: /leave 2 of 5/ },
    { members: [m('x', true), m('b', true), m('c', true)], ok: false, why: /no member named a/ },
  ])('$members.length members, ok=$ok ($why)', ({ members, ok, why }) => {
    const v = judgeQuorum(members, 'a');
    expect(v.ok).toBe(ok);
    expect(v.why).toMatch(why);
  });

  it('names exactly the unhealthy other members', () => {
    const v = judgeQuorum([m('a', true), m('b', false), m('c', true)], 'a');
    expect(v.ok).toBe(false);
    expect(v.why).toMatch(/unhealthy: b \(https:\/\/127\.0\.0\.1:1: ECONNREFUSED\)$/);
    expect(v.unhealthy.map((u) => u.name)).toEqual(['b']);
  });
});
