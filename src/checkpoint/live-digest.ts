/**
 * Digests of CRIU's page files taken while CRIU writes them. A checkpoint's bulk is its
 * `pages-*.img` (the task's memory), which CRIU writes front to back and never rewrites; bytes below
 * a file's size are final, so hashing each file's new bytes as they land leaves only the tail once
 * the dump has ended, and commit() does not read the memory again (256 MiB: ~250 ms off a move).
 */
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHECKPOINT_LAYOUT } from './layout.js';

/** CRIU's files of page contents: raw memory, front to back (CRIU parses none of their bytes). */
export const PAGE_FILE = /^pages-\d+\.img$/;

/** Whether a checkpoint-relative path ('criu/pages-1.img') is a file of page contents. */
export function isPageFile(rel: string): boolean {
  const dir = `${CHECKPOINT_LAYOUT.images}/`;
  return rel.startsWith(dir) && PAGE_FILE.test(rel.slice(dir.length));
}

/** A file's size and sha256, as a manifest entry holds them. */
export interface FileDigest {
  size: number;
  sha256: string;
}

interface Followed {
  fh: FileHandle;
  hash: Hash;
  offset: number;
}

/** How often the images dir is looked at while nothing new was read. */
const POLL_MS = 5;
const CHUNK = 4 << 20;

/** Follows the page files of one checkpoint directory while CRIU dumps into it. */
export class LivePageDigests {
  private readonly images: string;
  private readonly files = new Map<string, Followed>();
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private stopped = false;
  private readonly loop: Promise<void>;

  /** Starts following `<checkpointDir>/criu/pages-*.img` (the dir may not exist yet). */
  constructor(checkpointDir: string) {
    this.images = path.join(checkpointDir, CHECKPOINT_LAYOUT.images);
    this.loop = this.follow();
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      // A read error only costs the live digest: commit() hashes what has none.
      const read = await this.step().catch(() => 0);
      if (read === 0) await sleep(POLL_MS);
    }
  }

  /** Reads every followed file from where it was to its current end; returns the bytes read. */
  private async step(): Promise<number> {
    let read = 0;
    // The images dir appears only once runc checkpoint has made it.
    const names = await fs.readdir(this.images).catch(() => [] as string[]);
    for (const name of names) {
      if (!PAGE_FILE.test(name)) continue;
      let f = this.files.get(name);
      if (!f) {
        const fh = await fs.open(path.join(this.images, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        if (!(await fh.stat()).isFile()) {
          await fh.close();
          continue;
        }
        f = { fh, hash: createHash('sha256'), offset: 0 };
        this.files.set(name, f);
      }
      for (;;) {
        const { bytesRead } = await f.fh.read(this.buf, 0, CHUNK, f.offset);
        if (bytesRead === 0) break;
        f.hash.update(this.buf.subarray(0, bytesRead));
        f.offset += bytesRead;
        read += bytesRead;
      }
    }
    return read;
  }

  /**
   * Once the writer has exited: reads every file to its end and returns the digests by
   * checkpoint-relative path. A file that changed size under us is left out (commit() hashes it).
   */
  async finish(): Promise<Map<string, FileDigest>> {
    this.stopped = true;
    await this.loop;
    const out = new Map<string, FileDigest>();
    try {
      await this.step();
      for (const [name, f] of this.files) {
        const st = await f.fh.stat();
        if (st.size === f.offset) out.set(`${CHECKPOINT_LAYOUT.images}/${name}`, { size: f.offset, sha256: f.hash.digest('hex') });
      }
    } catch {
      out.clear(); // a failed read: no live digests, commit() hashes every file itself
    } finally {
      await this.close();
    }
    return out;
  }

  /** Stops following and closes the files (a failed dump). */
  async close(): Promise<void> {
    this.stopped = true;
    await this.loop;
    const open = [...this.files.values()];
    this.files.clear();
    // Read-only descriptors: a failed close loses nothing.
    await Promise.all(open.map((f) => f.fh.close().catch(() => undefined)));
  }
}
