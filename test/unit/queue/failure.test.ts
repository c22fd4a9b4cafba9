import { describe, expect, it } from 'vitest';
import { UnrecoverableError } from 'bullmq';
import { errors } from '../../../src/errors.js';
import { toJobError } from '../../../src/queue/failure.js';

describe('toJobError', () => {
  it('makes invalid-argument and failed-precondition errors unrecoverable', () => {
    expect(toJobError(errors.invalidArgument('bad'))).toBeInstanceOf(UnrecoverableError);
    expect(toJobError(errors.failedPrecondition('no'))).toBeInstanceOf(UnrecoverableError);
  });

  it('leaves runtime errors retryable and keeps runc’s error line in the message', () => {
    const e = toJobError(errors.runtime('runc create failed', { runtimeError: 'level=error msg="boom"' }));
    expect(e).not.toBeInstanceOf(UnrecoverableError);
    expect(e.message).toBe('ERR_RUNTIME: runc create failed (runtime: level=error msg="boom")');
  });

  it('treats unknown errors as internal and retryable', () => {
    const e = toJobError(new TypeError('oops'));
    expect(e).not.toBeInstanceOf(UnrecoverableError);
    expect(e.message).toBe('ERR_INTERNAL: oops');
  });
});
