/**
 * A checkpoint store in a plain directory, local or shared between nodes (e.g. NFS):
 *
 *   <root>/<namespace>/<jobId>/<seq, 8 digits>/   criu/ work/ config.json rootfs-diff.tar checkpoint.json manifest.json
 *   <root>/<namespace>/<jobId>/.tmp-<node>-<pid>-<rand>/   a checkpoint being written (never read)
 *
 * Concurrency contract: writers only ever create uniquely named temporary directories and publish
 * them with one rename(2) onto the next free sequence number; rename onto an existing (non-empty)
 * checkpoint fails, so the writer takes the next number. Removal renames out of sight first, then
 * deletes. Readers therefore see either a complete checkpoint with its manifest or nothing.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errors, hasCode } from '../errors.js';
import { digestTree, rootfsIdentity } from './digest.js';
import { readHostInfo } from './host-info.js';
import { MANIFEST_FILE, MANIFEST_VERSION, parseManifest, type HostInfo, type RootfsIdentity } from './manifest.js';
import type {
  CheckpointRef,
  CheckpointStore,
  CommitOptions,
  NamespaceOption,
  PendingCheckpoint,
  StoredCheckpoint,
  VerifyOptions,
} from './store.js';
import { verifyEntries } from './verify.js';
import { isErrno, readMeta, writeFileDurably } from './files.js';

/** Options of a directory checkpoint store. */
export interface FsStoreOptions {
  root: string;
  /** Recorded in manifests; default: the host name. */
  nodeId?: string;
  /** Binaries whose versions go into manifests. */
  criu?: string;
  runc?: string;
  /** Use this host info instead of reading the host (tests). */
  host?: HostInfo;
  /** Temporary directories older than this are removed by prune() (default 6 hours). */
  staleTempMs?: number;
}

const DEFAULT_NAMESPACE = 'default';
const SEQ_DIGITS = 8;
/** A checkpoint directory's name: its sequence number, zero-padded. */
export const SEQ_RE = /^\d{8,}$/;
const ID_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:@+-]{0,199}$/;

function checkId(v: string, field: string): string {
  if (typeof v !== 'string' || !ID_RE.test(v)) {
    throw errors.invalidArgument(
      `Expected \`${field}\` to be 1-200 characters of letters, digits and _ . : @ + - (not starting with . or -), got \`${String(v)}\``,
      { field },
    );
  }
  return v;
}

/** Opens (creating its root) a directory checkpoint store. */
export async function openFsCheckpointStore(o: FsStoreOptions): Promise<FsCheckpointStore> {
  await fs.mkdir(o.root, { recursive: true });
  return new FsCheckpointStore(o);
}

/** A CheckpointStore over a (possibly shared) directory. */
export class FsCheckpointStore implements CheckpointStore {
  readonly root: string;
  readonly nodeId: string;

  constructor(private readonly o: FsStoreOptions) {
    this.root = path.resolve(o.root);
    this.nodeId = o.nodeId ?? os.hostname();
  }

  /** The directory of a job's checkpoints. */
  jobDir(jobId: string, o: NamespaceOption = {}): string {
    return path.join(this.root, checkId(o.namespace ?? DEFAULT_NAMESPACE, 'namespace'), checkId(jobId, 'jobId'));
  }

  /** The directory of one checkpoint (whether or not it exists). */
  checkpointDir(ref: CheckpointRef): string {
    if (!Number.isSafeInteger(ref.seq) || ref.seq < 1) {
      throw errors.invalidArgument(`Expected \`seq\` to be a positive integer, got \`${String(ref.seq)}\``, { field: 'seq' });
    }
    return path.join(this.jobDir(ref.jobId, ref), String(ref.seq).padStart(SEQ_DIGITS, '0'));
  }

  async allocate(jobId: string, o: NamespaceOption = {}): Promise<PendingCheckpoint> {
    const dir = this.jobDir(jobId, o);
    await fs.mkdir(dir, { recursive: true });
    const node = this.nodeId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
    const p = path.join(dir, `.tmp-${node}-${process.pid}-${randomUUID().slice(0, 12)}`);
    await fs.mkdir(p);
    return { namespace: o.namespace ?? DEFAULT_NAMESPACE, jobId, path: p };
  }

  async commit(p: PendingCheckpoint, o: CommitOptions = {}): Promise<StoredCheckpoint> {
    const dir = this.jobDir(p.jobId, p);
    if (path.dirname(path.resolve(p.path)) !== dir || !path.basename(p.path).startsWith('.tmp-')) {
      throw errors.invalidArgument(`${p.path} is not a pending checkpoint of ${p.namespace}/${p.jobId} in this store`);
    }
    if (!(await fs.stat(p.path).catch(() => undefined))?.isDirectory()) {
      throw errors.notFound(`pending checkpoint ${p.path} does not exist (aborted or already committed?)`);
    }
    const meta = await readMeta(p.path);
    // The rootfs listing (lstat-bound) and the file digests (hash-bound) overlap.
    const [files, rootfs, host] = await Promise.all([
      digestTree(p.path, new Set([MANIFEST_FILE]), o.digests ? { known: o.digests } : {}),
      this.identity(o, meta),
      this.o.host ?? readHostInfo({ criu: this.o.criu, runc: this.o.runc }),
    ]);
    const base = {
      format: 'stasis-checkpoint' as const,
      version: MANIFEST_VERSION,
      namespace: p.namespace,
      jobId: p.jobId,
      taskId: o.taskId ?? (typeof meta?.taskId === 'string' ? meta.taskId : ''),
      createdAt: o.createdAt ?? new Date().toISOString(),
      nodeId: this.nodeId,
      host,
      rootfs,
      files,
      totalBytes: files.reduce((n, f) => n + (f.type === 'file' ? f.size : 0), 0),
      labels: { ...(o.labels ?? {}) },
      ...(meta ? { checkpoint: meta } : {}),
    };
    let seq = 0;
    for (let attempt = 0; attempt < 1000; attempt++) {
      seq = Math.max((await this.maxSeq(dir)) + 1, seq + 1);
      const manifest = parseManifest({ ...base, seq }, `manifest of ${p.path}`);
      await writeFileDurably(path.join(p.path, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
      const target = this.checkpointDir({ ...p, seq });
      try {
        await fs.rename(p.path, target);
        return { namespace: p.namespace, jobId: p.jobId, seq, path: target, manifest };
      } catch (e) {
        if (!isErrno(e, 'ENOTEMPTY', 'EEXIST')) throw e;
        // Another writer took this number first; try the next one.
      }
    }
    throw errors.unavailable(`could not find a free sequence number for ${p.namespace}/${p.jobId}`);
  }

  async abort(p: PendingCheckpoint): Promise<void> {
    if (!path.basename(p.path).startsWith('.tmp-')) throw errors.invalidArgument(`${p.path} is not a pending checkpoint`);
    await fs.rm(p.path, { recursive: true, force: true });
  }

  async list(jobId: string, o: NamespaceOption = {}): Promise<StoredCheckpoint[]> {
    const out: StoredCheckpoint[] = [];
    for (const seq of await this.seqs(this.jobDir(jobId, o))) {
      try {
        out.push(await this.get(jobId, seq, o));
      } catch (e) {
        // Removed meanwhile by a concurrent prune, or unreadable: not listed (verify() reports the latter).
        if (!hasCode(e, 'ERR_NOT_FOUND') && !hasCode(e, 'ERR_CHECKPOINT')) throw e;
      }
    }
    return out;
  }

  async latest(jobId: string, o: NamespaceOption = {}): Promise<StoredCheckpoint | undefined> {
    const all = await this.list(jobId, o);
    return all[all.length - 1];
  }

  async get(jobId: string, seq: number, o: NamespaceOption = {}): Promise<StoredCheckpoint> {
    const ns = o.namespace ?? DEFAULT_NAMESPACE;
    const dir = this.checkpointDir({ jobId, seq, namespace: ns });
    const name = `${ns}/${jobId}#${seq}`;
    let text: string;
    try {
      text = await fs.readFile(path.join(dir, MANIFEST_FILE), 'utf8');
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
      if (await fs.stat(dir).catch(() => undefined)) {
        throw errors.checkpoint(`checkpoint ${name} has no ${MANIFEST_FILE}`, { file: MANIFEST_FILE, path: dir });
      }
      throw errors.notFound(`checkpoint ${name} does not exist`, { path: dir });
    }
    const manifest = parseManifest(text, `${MANIFEST_FILE} of checkpoint ${name}`);
    if (manifest.jobId !== jobId || manifest.seq !== seq || manifest.namespace !== ns) {
      throw errors.checkpoint(
        `${MANIFEST_FILE} of checkpoint ${name} describes ${manifest.namespace}/${manifest.jobId}#${manifest.seq}`,
        { file: MANIFEST_FILE, path: dir },
      );
    }
    return { namespace: ns, jobId, seq, path: dir, manifest };
  }

  async verify(ref: CheckpointRef, o: VerifyOptions = {}): Promise<StoredCheckpoint> {
    const given = o.checkpoint;
    const c = given && given.jobId === ref.jobId && given.seq === ref.seq && given.namespace === (ref.namespace ?? DEFAULT_NAMESPACE) ? given : await this.get(ref.jobId, ref.seq, ref);
    const only = o.only;
    const actual = await digestTree(c.path, new Set([MANIFEST_FILE]), only ? { only } : {}).catch((e: unknown) => {
      throw hasCode(e) ? e : errors.checkpoint(`cannot read checkpoint ${c.path}: ${(e as Error).message}`);
    });
    const expected = only ? c.manifest.files.filter((f) => only(f.path)) : c.manifest.files;
    verifyEntries(expected, actual, `${c.namespace}/${c.jobId}#${c.seq}`, c.path);
    return c;
  }

  async prune(jobId: string, keep: number, o: NamespaceOption = {}): Promise<number[]> {
    if (!Number.isSafeInteger(keep) || keep < 1) {
      throw errors.invalidArgument(`Expected \`keep\` to be an integer >= 1 (use remove() to delete all), got \`${keep}\``, {
        field: 'keep',
      });
    }
    const dir = this.jobDir(jobId, o);
    const seqs = await this.seqs(dir);
    const removed = seqs.slice(0, Math.max(0, seqs.length - keep));
    for (const seq of removed) await this.discard(this.checkpointDir({ jobId, seq, ...o }));
    await this.sweep(dir);
    return removed;
  }

  async remove(jobId: string, o: NamespaceOption = {}): Promise<void> {
    await this.discard(this.jobDir(jobId, o));
  }

  /** Renames `dir` out of sight, then deletes it. No error when it does not exist. */
  private async discard(dir: string): Promise<void> {
    const trash = path.join(path.dirname(dir), `.trash-${path.basename(dir)}-${randomUUID().slice(0, 12)}`);
    try {
      await fs.rename(dir, trash);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return;
      throw e;
    }
    await fs.rm(trash, { recursive: true, force: true });
  }

  /** Removes leftover trash and temporary directories older than staleTempMs (crashed writers). */
  private async sweep(dir: string): Promise<void> {
    const maxAge = this.o.staleTempMs ?? 6 * 3600_000;
    for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
      const abs = path.join(dir, name);
      if (name.startsWith('.trash-')) await fs.rm(abs, { recursive: true, force: true });
      else if (name.startsWith('.tmp-')) {
        const st = await fs.stat(abs).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > maxAge) await fs.rm(abs, { recursive: true, force: true });
      }
    }
  }

  private async seqs(dir: string): Promise<number[]> {
    const names = await fs.readdir(dir).catch((e: unknown) => {
      if (isErrno(e, 'ENOENT')) return [] as string[];
      throw e;
    });
    return names.filter((n) => SEQ_RE.test(n)).map(Number).sort((a, b) => a - b);
  }

  private async maxSeq(dir: string): Promise<number> {
    const s = await this.seqs(dir);
    return s.length ? s[s.length - 1]! : 0;
  }

  private async identity(o: CommitOptions, meta: Record<string, unknown> | undefined): Promise<RootfsIdentity | null> {
    if (o.rootfs) return rootfsIdentity(o.rootfs.path, o.rootfs.digest);
    if (typeof meta?.rootfs !== 'string') return null;
    return rootfsIdentity(meta.rootfs).catch(() => null);
  }
}
