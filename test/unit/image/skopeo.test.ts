import { describe, expect, it } from 'vitest';
import { classifySkopeo, copyArgs, inspectArgs, skopeoError, skopeoMessage } from '../../../src/image/skopeo.js';

const reg = { insecure: false, timeoutMs: 90_000 };

describe('skopeo argv', () => {
  it('inspects the raw manifest with a command timeout', () => {
    expect(inspectArgs('docker://r.example/a:1', reg)).toEqual(['--command-timeout', '90s', 'inspect', '--raw', 'docker://r.example/a:1']);
  });

  it('adds TLS and credentials flags for registries only', () => {
    const o = { insecure: true, authFile: '/etc/stasis/auth.json', timeoutMs: 1000 };
    expect(inspectArgs('docker://r/a:1', o)).toEqual(['--command-timeout', '1s', 'inspect', '--raw', '--tls-verify=false', '--authfile', '/etc/stasis/auth.json', 'docker://r/a:1']);
    expect(inspectArgs('oci:/srv/l:1', o)).toEqual(['--command-timeout', '1s', 'inspect', '--raw', 'oci:/srv/l:1']);
  });

  it('copies into the shared blob dir without signatures', () => {
    expect(copyArgs('docker://r/a@sha256:x', 'oci:/s/tmp/p:n', { insecure: true, timeoutMs: 600_000, sharedBlobDir: '/s/oci/blobs', authFile: '/a.json' })).toEqual([
      '--command-timeout', '600s', 'copy', '--remove-signatures', '--dest-shared-blob-dir', '/s/oci/blobs',
      '--src-tls-verify=false', '--src-authfile', '/a.json', 'docker://r/a@sha256:x', 'oci:/s/tmp/p:n',
    ]);
  });
});

describe('skopeo failures', () => {
  const fatal = (msg: string) => `time="2026-01-01T00:00:00Z" level=fatal msg="${msg.replace(/"/g, '\\"')}"\n`;

  it('takes the message of the fatal line', () => {
    expect(skopeoMessage(fatal('Error parsing image name "docker://x": manifest unknown'))).toBe('Error parsing image name "docker://x": manifest unknown');
    expect(skopeoMessage('plain last line\n')).toBe('plain last line');
  });

  it.each([
    ['reading manifest 1 in 127.0.0.1:5000/a: manifest unknown: manifest unknown', 'not-found'],
    ['no descriptor found for reference "nope"', 'not-found'],
    ['pinging container registry 127.0.0.1:1: Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', 'unavailable'],
    ['Get "https://r/v2/": dial tcp: lookup r on 10.0.0.1:53: no such host', 'unavailable'],
    ['received unexpected HTTP status: 503 Service Unavailable', 'unavailable'],
    ['http: server gave HTTP response to HTTPS client', 'tls'],
    ['x509: certificate signed by unknown authority', 'tls'],
    ['reading manifest 1 in r/a: unauthorized: authentication required', 'denied'],
    ['requested access to the resource is denied', 'denied'],
    ['invalid reference format', 'invalid'],
  ])('%s is %s', (msg, kind) => {
    expect(classifySkopeo(msg)).toBe(kind);
  });

  it('maps a timeout to ERR_UNAVAILABLE and keeps argv and message as details', () => {
    const e = skopeoError('r/a:1', ['skopeo', 'inspect'], { exitCode: -1, stdout: Buffer.alloc(0), stderr: '', timedOut: true, notFound: false });
    expect(e).toMatchObject({ code: 'ERR_UNAVAILABLE', details: { argv: ['skopeo', 'inspect'], field: 'image' } });
    expect(e.message).toContain('timed out');
  });

  it('maps categories to error codes', () => {
    const err = (msg: string) => skopeoError('r/a:1', ['skopeo'], { exitCode: 1, stdout: Buffer.alloc(0), stderr: fatal(msg), timedOut: false, notFound: false });
    expect(err('manifest unknown').code).toBe('ERR_NOT_FOUND');
    expect(err('connection refused').code).toBe('ERR_UNAVAILABLE');
    expect(err('unauthorized: authentication required').code).toBe('ERR_PERMISSION_DENIED');
    expect(err('http: server gave HTTP response to HTTPS client')).toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringContaining('insecureRegistries') });
  });

  it('says how to install skopeo when it is missing', () => {
    const e = skopeoError('r/a:1', ['/nope/skopeo'], { exitCode: -1, stdout: Buffer.alloc(0), stderr: '', timedOut: false, notFound: true });
    expect(e).toMatchObject({ code: 'ERR_UNAVAILABLE', message: expect.stringContaining('install package skopeo') });
  });
});
