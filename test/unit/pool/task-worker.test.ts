import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../src/pool/pool.js';

const VITE_NODE = path.join(repoRoot(), 'node_modules/.bin/vite-node');

describe('task worker entry', () => {
  // In a process of its own: this file may itself run on a worker thread (vitest's threads pool).
  it('refuses to load on the main thread', async () => {
    const r = await execa(VITE_NODE, [path.join(repoRoot(), 'workers/task-worker.ts')], { reject: false, cwd: repoRoot() });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/must not be loaded on the main thread/);
  });

  it('finds the package root from src/ (so the compiled worker path resolves under vitest too)', () => {
    expect(repoRoot()).toMatch(/\/work\/main$|[^/]+$/);
  });
});
