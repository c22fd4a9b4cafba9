import { describe, expect, it } from 'vitest';
import { planGc, type GcCandidate } from '../../../src/image/gc-plan.js';

const img = (digest: string, lastUsedMs: number, blobs: string[], rootfsBytes: number, keep = false): GcCandidate => ({ digest, lastUsedMs, blobs, rootfsBytes, keep });

describe('planGc', () => {
  const blobSizes = new Map([
    ['shared', 100],
    ['a1', 10],
    ['b1', 20],
    ['c1', 30],
    ['orphan', 1000],
  ]);

  it('removes least recently used images first until the target is met', () => {
    const plan = planGc({
      images: [img('A', 3, ['shared', 'a1'], 5), img('B', 1, ['shared', 'b1'], 5), img('C', 2, ['c1'], 5)],
      blobSizes,
      targetBytes: 150,
    });
    // 1160 blobs + 15 rootfs; the orphan goes anyway (175 left); B (oldest) frees 25 → 150.
    expect(plan).toEqual({ remove: ['B'], beforeBytes: 1175, afterBytes: 150 });
  });

  it('never removes an image marked keep, even when the target is not met', () => {
    const plan = planGc({ images: [img('A', 1, ['a1'], 5, true), img('B', 2, ['b1'], 5)], blobSizes, targetBytes: 0 });
    expect(plan.remove).toEqual(['B']);
    expect(plan.afterBytes).toBe(10 + 5); // A's blob and rootfs; unreferenced blobs are swept
  });

  it('does not count a blob shared with a kept image as freed', () => {
    const plan = planGc({ images: [img('A', 1, ['shared', 'a1'], 0), img('B', 2, ['shared'], 0, true)], blobSizes: new Map([['shared', 100], ['a1', 10]]), targetBytes: 0 });
    expect(plan).toEqual({ remove: ['A'], beforeBytes: 110, afterBytes: 100 });
  });

  it('spares blobs of pulls in progress', () => {
    const plan = planGc({ images: [], blobSizes: new Map([['new', 50], ['old', 5]]), targetBytes: 0, protectedBlobs: new Set(['new']) });
    expect(plan.afterBytes).toBe(50);
  });
});
