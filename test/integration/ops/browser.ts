/** Headless Chromium (Debian's `chromium`) for the dashboard test: a page's DOM and a screenshot, offline. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';

/** Flags of every run: headless, as root, no profile left behind, and no name resolved but the loopback (nothing leaves the machine). */
function flags(profile: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    `--user-data-dir=${profile}`,
    '--window-size=1280,900',
    // Lets the page's scripts fetch and render before the DOM is taken.
    '--virtual-time-budget=10000',
  ];
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('chromium', args, { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 }, (e, stdout, stderr) => {
      if (e) reject(new Error(`chromium failed: ${e.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The rendered DOM of `url`, and a screenshot of it at `png`. */
export async function renderPage(url: string, png: string): Promise<string> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'stasis-chromium-'));
  try {
    fs.mkdirSync(path.dirname(png), { recursive: true });
    await run([...flags(profile), `--screenshot=${png}`, url]);
    return await run([...flags(profile), '--dump-dom', url]);
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** Where the tests put their artifacts (under the OS temp dir; never in the repository). */
export function artifactPath(name: string): string {
  return path.join(os.tmpdir(), 'stasis-test-artifacts', name);
}

/**
 * Keeps artifact `file` for a look (and says where) when its test failed or STASIS_KEEP_TEST_ARTIFACTS
 * is set; otherwise removes it, and its directory once empty, so a passing run leaves nothing behind.
 */
export function keepArtifact(file: string, passed: boolean): void {
  if (!passed || process.env.STASIS_KEEP_TEST_ARTIFACTS) {
    if (fs.existsSync(file)) console.log(`kept test artifact: ${file}`);
    return;
  }
  fs.rmSync(file, { force: true });
  try {
    fs.rmdirSync(path.dirname(file));
  } catch {
    // other artifacts are kept there
  }
}
