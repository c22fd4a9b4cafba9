/**
 * What a task keeps on disk besides conmon's files: its record (task.json), exec records and
 * markers. JSON is written atomically (temporary file, rename) so a reader in another process never
 * sees half a record, even if the writer is SIGKILLed mid-write. Not fsynced: these files describe
 * live processes, which a machine crash ends too, and recovery cleans up a task dir whose record a
 * crash left missing or torn (recover.ts). A checkpoint's own files are written so too, as CRIU
 * writes its images; what must outlive the machine, the store's manifest with every file's digest,
 * is written with checkpoint/files.ts' writeFileDurably at commit. Like runc's state.json.
 */
import fs from '../os/local-fs.js';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { z } from 'zod';
import { errors } from '../errors.js';
import type { Limits, NetworkMode } from '../sandbox/types.js';
import type { ProcessSpec, TaskInfo } from './task.js';

/** task.json: the task's info plus what it was created with. */
export interface TaskRecord {
  version: 1;
  info: TaskInfo;
  /** The read-only rootfs the task was created from (what checkpoints record and restores ask for). */
  rootfs: string;
  /** The overlay's actual lower dir: `rootfs`, or its id-shifted copy under a user namespace. */
  lower?: string;
  /** The job's own process (argv, env, cwd, user) as its launch script runs it; exec processes inherit env and user. */
  process?: ProcessSpec;
  limits: Limits;
  network: NetworkMode;
  terminal: boolean;
  stdin: boolean;
  timeoutSeconds?: number;
  /** conmon's cap of the task's log file (--log-size-max). */
  logMaxBytes?: number;
  /** Host pid of the task's init once the monitor reported it. */
  pid?: number;
  /** Set once the user process runs (start() or a restore). */
  startedAt?: string;
  /**
   * Set when the task adopted a prepared sandbox (src/warm): its directory, when it was made, and
   * whether the task waited for it (it was being prepared when the task came).
   */
  prepared?: { slot: string; preparedAt: string; waited?: true };
}

/** exec.json: one exec process of a task. */
export interface ExecRecord {
  version: 1;
  id: string;
  taskId: string;
  namespace: string;
  /** The OCI process spec given to runc exec (also written as process.json). */
  spec: Record<string, unknown>;
  terminal: boolean;
  stdin: boolean;
  createdAt: string;
  pid?: number;
  startedAt?: string;
}

/** Markers written before risky operations, read back by any process deriving status. */
export type MarkerName = 'pausing' | 'checkpointing' | 'checkpointed' | 'lost' | 'deleting' | 'verifying';

/** Content of a marker file. */
export interface Marker {
  at: string;
  pid: number;
  /** Checkpoint directory for checkpoint markers, and for 'verifying' (a restored task whose memory was still being checked). */
  path?: string;
  leaveRunning?: boolean;
  /** For 'checkpointing': the container was frozen for the dump (a crash leaves it paused: thaw it). */
  frozen?: boolean;
  /** For 'lost': the exit recorded when the loss was first seen. */
  exitedAt?: string;
}

const TaskRecordShape = z
  .object({
    version: z.literal(1),
    info: z.object({ id: z.string(), namespace: z.string(), containerId: z.string(), bundle: z.string() }).passthrough(),
    rootfs: z.string(),
    terminal: z.boolean(),
    stdin: z.boolean(),
  })
  .passthrough();

const ExecRecordShape = z
  .object({ version: z.literal(1), id: z.string(), taskId: z.string(), spec: z.record(z.unknown()) })
  .passthrough();

/** Writes `value` as JSON to `file` atomically (no fsync: see the top of this file). */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${threadId}-${Math.random().toString(36).slice(2, 8)}`;
  await fs.writeFile(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Reads and parses a JSON file; undefined when it does not exist. */
export async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw errors.internal(`corrupt JSON in ${file}`, { path: file });
  }
}

/** Reads task.json; undefined when the task has no record. */
export async function readTaskRecord(file: string): Promise<TaskRecord | undefined> {
  const raw = await readJson(file);
  if (raw === undefined) return undefined;
  const r = TaskRecordShape.safeParse(raw);
  if (!r.success) throw errors.internal(`corrupt task record ${file}: ${r.error.issues[0]?.message}`, { path: file });
  return raw as TaskRecord;
}

/** Reads exec.json; undefined when the exec has no record. */
export async function readExecRecord(file: string): Promise<ExecRecord | undefined> {
  const raw = await readJson(file);
  if (raw === undefined) return undefined;
  const r = ExecRecordShape.safeParse(raw);
  if (!r.success) throw errors.internal(`corrupt exec record ${file}: ${r.error.issues[0]?.message}`, { path: file });
  return raw as ExecRecord;
}

function markerFile(markersDir: string, name: MarkerName): string {
  return path.join(markersDir, `${name}.json`);
}

/** Writes a marker (atomically) before a risky operation. */
export async function writeMarker(markersDir: string, name: MarkerName, extra: Partial<Marker> = {}): Promise<void> {
  await writeJsonAtomic(markerFile(markersDir, name), { at: new Date().toISOString(), pid: process.pid, ...extra });
}

/** Reads a marker; undefined when absent. */
export async function readMarker(markersDir: string, name: MarkerName): Promise<Marker | undefined> {
  return (await readJson(markerFile(markersDir, name)).catch(() => undefined)) as Marker | undefined;
}

/** The markers present in `markersDir` (one directory read; none when it does not exist). */
export async function markersPresent(markersDir: string): Promise<Set<MarkerName>> {
  // No markers dir yet (most tasks never write one): no markers.
  const names = await fs.readdir(markersDir).catch(() => [] as string[]);
  return new Set(names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length) as MarkerName));
}

/** Removes a marker (no error when absent). */
export async function removeMarker(markersDir: string, name: MarkerName): Promise<void> {
  await fs.rm(markerFile(markersDir, name), { force: true });
}

/** True when `p` exists. */
export async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}
