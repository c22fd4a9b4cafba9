/**
 * The external programs of the image store (skopeo, umoci) and how they are run. Everything goes
 * through a ToolRunner, so tests can count or fake calls; the real one is execa with an argv array.
 */
import { execa } from 'execa';

/** One program run: binary, argv, time limit. */
export interface ToolCall {
  file: string;
  args: string[];
  /** Kill the program after this many ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What a program run produced. stdout is raw bytes (a manifest's digest is over its exact bytes). */
export interface ToolResult {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
  /** Whether it was killed for running past timeoutMs. */
  timedOut: boolean;
  /** Whether the binary could not be executed at all (ENOENT, EACCES). */
  notFound: boolean;
}

/** Runs a program and reports how it ended; never rejects for a non-zero exit. */
export type ToolRunner = (call: ToolCall) => Promise<ToolResult>;

/** The binaries and the runner the store uses. */
export interface ImageTools {
  skopeo: string;
  umoci: string;
  run: ToolRunner;
}

/** Runs programs with execa (argv arrays, never a shell). */
export const execaRunner: ToolRunner = async (call) => {
  const r = await execa(call.file, call.args, {
    reject: false,
    encoding: 'buffer',
    stripFinalNewline: false,
    stdin: 'ignore',
    ...(call.timeoutMs !== undefined ? { timeout: call.timeoutMs } : {}),
    ...(call.signal !== undefined ? { cancelSignal: call.signal } : {}),
  });
  const code = (r as { code?: unknown }).code;
  return {
    exitCode: r.exitCode ?? -1,
    stdout: Buffer.from(r.stdout ?? new Uint8Array()),
    stderr: Buffer.from(r.stderr ?? new Uint8Array()).toString('utf8'),
    timedOut: r.timedOut === true,
    notFound: code === 'ENOENT' || code === 'EACCES',
  };
};

/** The tools from the environment: STASIS_SKOPEO and STASIS_UMOCI, else `skopeo` and `umoci` on PATH. */
export function defaultTools(env: NodeJS.ProcessEnv = process.env, run: ToolRunner = execaRunner): ImageTools {
  return { skopeo: env.STASIS_SKOPEO || 'skopeo', umoci: env.STASIS_UMOCI || 'umoci', run };
}
