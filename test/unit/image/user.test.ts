import { describe, expect, it } from 'vitest';
import { parseGroup, parsePasswd, resolveUserIn } from '../../../src/image/user.js';

const passwd = parsePasswd(`root:x:0:0:root:/root:/bin/sh
# a comment
broken line
app:x:1000:1001::/home/app:/bin/sh
svc:x:2000:2000::/:/bin/false
`);
const groups = parseGroup(`root:x:0:
staff:x:50:app,svc
app:x:1001:
extra:x:60: app
bad:x:notanumber:
`);

describe('account files', () => {
  it('skip comments and malformed lines', () => {
    expect(passwd.map((p) => p.name)).toEqual(['root', 'app', 'svc']);
    expect(groups.map((g) => g.name)).toEqual(['root', 'staff', 'app', 'extra']);
  });
});

describe('resolveUserIn', () => {
  it('resolves a name to its uid, primary gid, home and supplementary groups', () => {
    expect(resolveUserIn('app', passwd, groups)).toEqual({ uid: 1000, gid: 1001, additionalGids: [50, 60], home: '/home/app' });
  });

  it('resolves name:group with the group from /etc/group and no supplementary groups', () => {
    expect(resolveUserIn('app:staff', passwd, groups)).toEqual({ uid: 1000, gid: 50, additionalGids: [], home: '/home/app' });
  });

  it('takes numeric parts as they are', () => {
    expect(resolveUserIn('app:7', passwd, groups)).toMatchObject({ uid: 1000, gid: 7 });
    expect(resolveUserIn('2000', passwd, groups)).toMatchObject({ uid: 2000, gid: 2000, additionalGids: [50] });
    expect(resolveUserIn('4242', passwd, groups)).toEqual({ uid: 4242, gid: 0, additionalGids: [] });
  });

  it('fails naming `user` for an unknown user or group', () => {
    expect(() => resolveUserIn('ghost', passwd, groups, 'image x')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: 'user `ghost` is not in /etc/passwd of image x', details: { field: 'user' } }),
    );
    expect(() => resolveUserIn('app:ghosts', passwd, groups)).toThrow(/group `ghosts` is not in \/etc\/group/);
  });
});
