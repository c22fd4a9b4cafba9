/**
 * The `--http ADDR` value: `HOST:PORT` (`127.0.0.1:9464`), `[IPV6]:PORT` (`[::1]:9464`), `:PORT`
 * (every interface, as Go's net.Listen takes it) or a bare `PORT` (loopback only). Port 0 asks the
 * kernel for a free one (the ready line says which). Pure.
 */

/** Where the HTTP server listens. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses ADDR; null when it is not one of the forms above. */
export function parseListenAddress(value: string): ListenAddress | null {
  const v = value.trim();
  let host: string;
  let port: string;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(v);
  if (v6) {
    host = v6[1]!;
    port = v6[2]!;
  } else if (/^\d+$/.test(v)) {
    host = '127.0.0.1';
    port = v;
  } else {
    const m = /^([A-Za-z0-9.-]*):(\d+)$/.exec(v);
    if (!m) return null;
    host = m[1] === '' ? '0.0.0.0' : m[1]!;
    port = m[2]!;
  }
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) return null;
  return { host, port: n };
}

/** ADDR as printed back (`127.0.0.1:9464`, `[::1]:9464`). */
export function formatListenAddress(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
