/**
 * conmon's control FIFO BUNDLE/ctl: "1 <rows> <cols>\n" resizes the pty, "2 0 0\n" reopens the log
 * file (after a rotation by rename). The FIFO is opened non-blocking, so a dead monitor (no reader)
 * fails at once with ENXIO instead of blocking a libuv thread forever.
 */
import fs from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { StasisError } from '../errors.js';
import { BUNDLE_FILES } from './conmon-args.js';

/** Resizes the container's pty (conmon -t) to `size` columns × rows. */
export async function resizeConsole(bundle: string, size: { width: number; height: number }): Promise<void> {
  const { width, height } = size;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || width > 65535 || height > 65535) {
    throw new StasisError('ERR_INVALID_ARGUMENT', `Expected a console size of positive integers, got ${width}x${height}`, { field: 'size' });
  }
  await writeCtl(bundle, `1 ${height} ${width}\n`);
}

/** Makes conmon reopen its log file (rename the old one first to rotate). */
export async function reopenLog(bundle: string): Promise<void> {
  await writeCtl(bundle, '2 0 0\n');
}

async function writeCtl(bundle: string, msg: string): Promise<void> {
  const file = path.join(bundle, BUNDLE_FILES.ctl);
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') {
      throw new StasisError('ERR_FAILED_PRECONDITION', `no monitor is listening on ${file} (${code}): the process is not running`, { path: file });
    }
    throw new StasisError('ERR_RUNTIME', `cannot open ${file}: ${(e as Error).message}`, { path: file });
  }
  try {
    await fh.write(msg);
  } finally {
    await fh.close();
  }
}
