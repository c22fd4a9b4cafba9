import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { criuConfigPath, criuEnv, withoutCriuConfig, writeCriuConfig } from '../../../src/runtime/criu-config.js';

describe('the node’s CRIU configuration', () => {
  it('drops any org.criu.config given (whatever its case) and sets it empty, keeping the other annotations', () => {
    expect(withoutCriuConfig({ 'org.criu.config': '/tmp/evil', 'ORG.CRIU.CONFIG': '/tmp/evil2', a: '1' })).toEqual({ 'org.criu.config': '', a: '1' });
    expect(withoutCriuConfig(undefined)).toEqual({ 'org.criu.config': '' });
  });

  it('writes its own file under the state dir (0644, network lock skipped) and names it in the environment runc gets', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-criuconf-'));
    try {
      const state = path.join(dir, 'state');
      await writeCriuConfig(state);
      const file = criuConfigPath(state);
      expect(await fs.readFile(file, 'utf8')).toMatch(/^network-lock skip$/m);
      expect((await fs.stat(file)).mode & 0o777).toBe(0o644);
      // A changed file is put back.
      await fs.writeFile(file, 'action-script /tmp/x\n');
      await writeCriuConfig(state);
      expect(await fs.readFile(file, 'utf8')).not.toContain('action-script');
      expect(criuEnv(state)).toEqual({ CRIU_CONFIG_FILE: file });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
