/**
 * Attack class: a producer choosing the rootfs. Only the node's default rootfs and directories under
 * the operator's allowed roots pass; everything else is refused with ERR_PERMISSION_DENIED naming the
 * rule, before the node looks at the path (as given) and again after every symlink is resolved.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveRootfs, type RootfsContext } from '../../../src/policy/rootfs.js';
import { NodePolicySchema } from '../../../src/policy/schema.js';
import { describeWithHost } from '../../helpers/host.js';

let dir: string;
let ctx: RootfsContext;
const policy = () => NodePolicySchema.parse({ allowedRootfs: [path.join(dir, 'images')] });

async function refusal(requested: string): Promise<{ code: string; rule?: unknown; message: string }> {
  try {
    await resolveRootfs(requested, policy(), ctx);
  } catch (e) {
    const err = e as { code: string; details: { rule?: unknown }; message: string };
    return { code: err.code, rule: err.details.rule, message: err.message };
  }
  throw new Error(`rootfs ${requested} was accepted`);
}

describeWithHost([], 'security: which rootfs a payload may name', () => {
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-rootfs-policy-'));
    const state = path.join(dir, 'state');
    await fs.mkdir(path.join(state, 'rootfs', 'busybox', 'bin'), { recursive: true });
    await fs.mkdir(path.join(state, 'run', 'tasks', 'default', 'victim', 'overlay', 'upper'), { recursive: true });
    await fs.mkdir(path.join(dir, 'store', 'default'), { recursive: true });
    await fs.mkdir(path.join(dir, 'images', 'alpine', 'bin'), { recursive: true });
    await fs.symlink('/', path.join(dir, 'images', 'to-root'));
    await fs.symlink(path.join(state, 'run', 'tasks', 'default', 'victim', 'overlay', 'upper'), path.join(dir, 'images', 'to-upper'));
    await fs.writeFile(path.join(dir, 'images', 'a-file'), '');
    ctx = { defaultRootfs: path.join(state, 'rootfs', 'busybox'), stateDir: state, checkpointDir: path.join(dir, 'store') };
  });

  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('the node default rootfs is allowed when the payload names none or names it', async () => {
    expect(await resolveRootfs(undefined, policy(), ctx)).toBe(await fs.realpath(ctx.defaultRootfs));
    expect(await resolveRootfs(ctx.defaultRootfs, policy(), ctx)).toBe(await fs.realpath(ctx.defaultRootfs));
  });

  it('a directory under an allowed root is allowed, as its real path', async () => {
    expect(await resolveRootfs(path.join(dir, 'images', 'alpine'), policy(), ctx)).toBe(await fs.realpath(path.join(dir, 'images', 'alpine')));
  });

  it("rootfs `/` is refused as outside the allowed roots, naming them", async () => {
    const r = await refusal('/');
    expect(r.code).toBe('ERR_PERMISSION_DENIED');
    expect(r.message).toContain('is outside the allowed roots');
    expect(r.message).toContain(path.join(dir, 'images'));
  });

  it('a relative rootfs is refused', async () => {
    expect(await refusal('../..')).toMatchObject({ code: 'ERR_PERMISSION_DENIED', rule: 'relative' });
  });

  it('a path that climbs out of an allowed root with .. is refused', async () => {
    expect(await refusal(path.join(dir, 'images', '..', '..', '..', 'etc'))).toMatchObject({ code: 'ERR_PERMISSION_DENIED', rule: 'allowed-roots' });
  });

  it('a symlink under an allowed root that leads to / is refused after resolving it', async () => {
    const r = await refusal(path.join(dir, 'images', 'to-root'));
    expect(r).toMatchObject({ code: 'ERR_PERMISSION_DENIED', rule: 'allowed-roots' });
    expect(r.message).toContain('resolves to /');
  });

  it("a symlink to another task's upper dir (inside the state dir) is refused", async () => {
    expect(await refusal(path.join(dir, 'images', 'to-upper'))).toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  });

  it('the state dir, a task dir and the checkpoint store are refused', async () => {
    for (const p of [ctx.stateDir, path.join(ctx.stateDir, 'run', 'tasks', 'default', 'victim', 'overlay', 'upper'), ctx.checkpointDir!]) {
      expect((await refusal(p)).code).toBe('ERR_PERMISSION_DENIED');
    }
  });

  it('an allowed root that contains the state dir does not make the state dir a rootfs', async () => {
    const wide = NodePolicySchema.parse({ allowedRootfs: [dir] });
    await expect(resolveRootfs(dir, wide, ctx)).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED', details: { rule: 'node-dir' } });
    await expect(resolveRootfs(path.join(dir, 'images', 'alpine'), wide, ctx)).resolves.toContain('alpine');
  });

  it('a missing directory under an allowed root is not found; a file is not a directory', async () => {
    await expect(resolveRootfs(path.join(dir, 'images', 'nope'), policy(), ctx)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(resolveRootfs(path.join(dir, 'images', 'a-file'), policy(), ctx)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('a path outside the roots is refused without the node looking at it (no existence oracle)', async () => {
    const missing = await refusal('/definitely/not/here');
    const present = await refusal('/etc');
    expect(missing.code).toBe(present.code);
    expect(missing.rule).toBe(present.rule);
  });
});
