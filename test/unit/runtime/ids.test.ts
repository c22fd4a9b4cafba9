import { describe, expect, it } from 'vitest';
import { cgroupsPathFor, containerIdFor, hostnameFor, stateDirTag, validateId } from '../../../src/runtime/ids.js';

describe('ids', () => {
  it('accepts letters, digits, _ . - up to 64 characters', () => {
    for (const id of ['a', 'job-1', 'A_b.c-9', 'x'.repeat(64)]) expect(validateId(id, 'id')).toBe(id);
  });

  it('rejects empty, long, leading punctuation, slashes and non-strings with ERR_INVALID_ARGUMENT naming the field', () => {
    for (const id of ['', 'x'.repeat(65), '-a', '.a', 'a/b', '../x', 'a b', 'a+b', 7, undefined]) {
      expect(() => validateId(id, 'namespace')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', details: { field: 'namespace' } }));
    }
  });

  it('derives distinct container ids for namespace/id pairs that would collide with a dash', () => {
    expect(containerIdFor('a-b', 'c')).not.toBe(containerIdFor('a', 'b-c'));
    expect(containerIdFor('default', 'job-1')).toBe('default+job-1');
  });

  it('gives each task an explicit cgroup path under a tag of its state dir', () => {
    const tag = stateDirTag('/var/lib/stasis');
    expect(tag).toMatch(/^[0-9a-f]{8}$/);
    expect(cgroupsPathFor('/var/lib/stasis', 'tenant', 'job.1')).toBe(`/stasis/${tag}+tenant+job.1`);
  });

  it('keeps the cgroups of two state dirs apart for the same namespace and id', () => {
    expect(cgroupsPathFor('/srv/a', 'default', '1')).not.toBe(cgroupsPathFor('/srv/b', 'default', '1'));
    expect(stateDirTag('/srv/a/')).toBe(stateDirTag('/srv/a'));
  });

  it('derives a valid hostname from ids with _ and .', () => {
    expect(hostnameFor('my_job.1')).toBe('my-job-1');
    expect(hostnameFor('_.')).toBe('task');
  });
});
