/**
 * A fast path of `runc start` (Runc.start, for runc versions that start this way; see version.ts):
 * no spawn (~15 ms a call here). For a created container, runc 1.1's start
 * is only this (libcontainer linuxContainer.exec): the container's `runc init` is blocked opening
 * <runc root>/<id>/exec.fifo for writing; start opens it for reading, reads the byte init writes,
 * and removes the FIFO (which is how `runc state` then says running). The process then execs.
 * Anything unexpected (no FIFO, no byte within the deadline) falls back to the real `runc start`,
 * which also produces runc's own error messages.
 */
import fs from 'node:fs';
import local from '../os/local-fs.js';

/** How long to wait for init's byte before handing over to `runc start`. */
const FIFO_WAIT_MS = 2_000;

/**
 * Opens the FIFO without blocking and reads init's byte, then removes the FIFO. False: not done,
 * use runc. init increments the FIFO's writer count before it blocks in open(), so a read finds
 * either data, EAGAIN (not written yet: retry shortly) or EOF (no init left: runc explains).
 */
export async function readExecFifo(fifo: string, waitMs = FIFO_WAIT_MS): Promise<boolean> {
  let fd: number; // libuv opens with O_CLOEXEC
  try {
    const st = await local.lstat(fifo);
    if (!st.isFIFO()) return false;
    fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return false;
  }
  const deadline = Date.now() + waitMs;
  const buf = Buffer.alloc(16);
  let got = false;
  try {
    for (let delay = 0; ; delay = Math.min(delay + 1, 10)) {
      const n = readOnce(fd, buf);
      if (n !== null) {
        got = n > 0;
        break;
      }
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, delay));
    }
  } finally {
    fs.closeSync(fd);
  }
  if (!got) return false;
  await local.rm(fifo, { force: true });
  return true;
}

/** Bytes read, or null for EAGAIN (the FIFO is non-blocking: a read returns at once). */
function readOnce(fd: number, buf: Buffer): number | null {
  try {
    return fs.readSync(fd, buf, 0, buf.length, null);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EAGAIN' ? null : 0;
  }
}
