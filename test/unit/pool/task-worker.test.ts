import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../src/pool/pool.js';

describe('task worker entry', () => {
  it('refuses to load on the main thread', async () => {
    await expect(import('../../../workers/task-worker.js')).rejects.toThrow(/must not be loaded on the main thread/);
  });

  it('finds the package root from src/ (so the compiled worker path resolves under vitest too)', () => {
    expect(repoRoot()).toMatch(/\/work\/main$|[^/]+$/);
  });
});
