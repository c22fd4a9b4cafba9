/**
 * Reading runc's own diagnostics. runc logs through logrus in text form on stderr:
 *   time="2026-11-28T10:05:33Z" level=error msg="container does not exist"
 * where msg is a Go-quoted string (\" \\ \n \t \xNN \uNNNN escapes).
 */

const LEVEL_ERROR = /(?:^|\s)level=(?:error|fatal)\s+msg=("(?:[^"\\]|\\.)*"|\S+)/;

/** runc's last `level=error msg="…"` message, unquoted; else the last non-empty line; else undefined. */
export function lastErrorLine(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = LEVEL_ERROR.exec(lines[i]!);
    if (m) return unquoteGo(m[1]!);
  }
  return lines.length > 0 ? lines[lines.length - 1] : undefined;
}

/** Unquotes a Go `strconv.Quote`d string; an unquoted token is returned unchanged. */
export function unquoteGo(s: string): string {
  if (s.length < 2 || !s.startsWith('"') || !s.endsWith('"')) return s;
  const body = s.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\' || i === body.length - 1) {
      out += c;
      continue;
    }
    const n = body[++i]!;
    switch (n) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case 'x':
      case 'u': {
        const len = n === 'x' ? 2 : 4;
        const h = body.slice(i + 1, i + 1 + len);
        if (h.length === len && /^[0-9a-fA-F]+$/.test(h)) {
          out += String.fromCharCode(parseInt(h, 16));
          i += len;
        } else out += '\\' + n;
        break;
      }
      default: out += '\\' + n;
    }
  }
  return out;
}

/** Collapses a multi-line runtime message to one line for an error message ("a; b"). */
export function oneLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
}
