/**
 * skopeo: argv from typed options (pure), the one place that runs it, and the one place that reads
 * its error messages (which registry failures are "not found", "denied", "down").
 */
import { assertNever, errors, type StasisError } from '../errors.js';
import type { ImageTools, ToolResult } from './tools.js';

/** Registry options of one skopeo call, from the image policy. */
export interface RegistryOptions {
  /** `--tls-verify=false` (docker sources only). */
  insecure: boolean;
  /** Credentials file (`--authfile` / `--src-authfile`). */
  authFile?: string;
  timeoutMs: number;
}

function timeoutArgs(timeoutMs: number): string[] {
  return ['--command-timeout', `${Math.max(1, Math.ceil(timeoutMs / 1000))}s`];
}

/** argv of `skopeo inspect --raw SOURCE` (the manifest's exact bytes). */
export function inspectArgs(source: string, o: RegistryOptions): string[] {
  const docker = source.startsWith('docker://');
  return [
    ...timeoutArgs(o.timeoutMs),
    'inspect',
    '--raw',
    ...(docker && o.insecure ? ['--tls-verify=false'] : []),
    ...(docker && o.authFile ? ['--authfile', o.authFile] : []),
    source,
  ];
}

/** argv of `skopeo copy SOURCE oci:STAGING:NAME` writing blobs into the store's shared blob dir. */
export function copyArgs(source: string, dest: string, o: RegistryOptions & { sharedBlobDir: string }): string[] {
  const docker = source.startsWith('docker://');
  return [
    ...timeoutArgs(o.timeoutMs),
    'copy',
    '--remove-signatures',
    '--dest-shared-blob-dir',
    o.sharedBlobDir,
    ...(docker && o.insecure ? ['--src-tls-verify=false'] : []),
    ...(docker && o.authFile ? ['--src-authfile', o.authFile] : []),
    source,
    dest,
  ];
}

/** The message of skopeo's last `level=fatal msg="…"` line (or its last stderr line). */
export function skopeoMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(lines[i]!);
    if (m) return m[1]!.replace(/\\(["\\])/g, '$1');
  }
  return lines[lines.length - 1] ?? 'no output';
}

/** What a failed skopeo call means for the caller. */
export type SkopeoFailure = 'not-found' | 'denied' | 'unavailable' | 'tls' | 'invalid';

/** Classifies a skopeo failure by its message (pure; table-tested). */
export function classifySkopeo(message: string, timedOut = false): SkopeoFailure {
  const m = message.toLowerCase();
  if (timedOut || /deadline exceeded|i\/o timeout|timed? ?out/.test(m)) return 'unavailable';
  if (/server gave http response to https client|x509:|certificate|tls: /.test(m)) return 'tls';
  if (/manifest unknown|name unknown|no descriptor found|not found|no such file or directory|does not exist/.test(m)) return 'not-found';
  if (/unauthorized|authentication required|access to the resource is denied|denied:|status 401|status 403|invalid username\/password/.test(m)) return 'denied';
  if (/invalid reference format|invalid image name|error parsing reference/.test(m)) return 'invalid';
  return 'unavailable';
}

/** Turns a failed skopeo call on `what` (an image reference) into a StasisError with skopeo's message. */
export function skopeoError(what: string, argv: string[], r: ToolResult): StasisError {
  const msg = r.notFound ? `cannot execute ${argv[0]}` : skopeoMessage(r.stderr);
  const d = { argv, exitCode: r.exitCode, runtimeError: msg, field: 'image' };
  if (r.notFound) return errors.unavailable(`skopeo is not installed at ${argv[0]} (install package skopeo: npm run setup)`, d);
  const kind = classifySkopeo(msg, r.timedOut);
  switch (kind) {
    case 'not-found':
      return errors.notFound(`image ${what} was not found: ${msg}`, d);
    case 'denied':
      return errors.permissionDenied(`the registry refused access to image ${what} (check the node's image policy authFile): ${msg}`, d);
    case 'tls':
      return errors.failedPrecondition(`cannot reach image ${what} over verified TLS (list the registry in insecureRegistries if it is plain HTTP or self-signed): ${msg}`, d);
    case 'invalid':
      return errors.invalidArgument(`skopeo rejected image reference ${what}: ${msg}`, d);
    case 'unavailable':
      return errors.unavailable(`the registry of image ${what} is unavailable${r.timedOut ? ' (timed out)' : ''}: ${msg}`, d);
    default:
      return assertNever(kind);
  }
}

/** Runs skopeo with `args`; resolves to stdout, or throws skopeoError about `what`. */
export async function runSkopeo(tools: ImageTools, what: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
  // skopeo's own --command-timeout fires first; this one catches a wedged process.
  const r = await tools.run({ file: tools.skopeo, args, timeoutMs: timeoutMs + 15_000, ...(signal ? { signal } : {}) });
  if (r.exitCode === 0 && !r.timedOut) return r.stdout;
  throw skopeoError(what, [tools.skopeo, ...args], r);
}
