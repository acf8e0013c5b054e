/**
 * A read-only Secret Service client speaking D-Bus itself, for the one call
 * on the credential helpers' hot path: the secret of (service, account).
 *
 * Why: the keychain binding (keychain.ts) opens a new bus connection and an encrypted
 * (Diffie-Hellman) session for every entry it creates, ~20 ms before the
 * first byte of the secret, plus ~5 ms to load the binding; a `get` from the
 * keychain cost 1.75x a bare `node -e 0` against 1.2x from a file. This
 * client sends its authentication, Hello, OpenSession and SearchItems in one
 * write and GetSecrets in a second, over a "plain" session.
 *
 * Plain means the secret crosses the user's own session bus unencrypted, as
 * libsecret does whenever it cannot negotiate encryption: only processes of
 * the same user reach that bus, and any of them may ask the Secret Service
 * for the same secret anyway.
 *
 * Anything but the plain case (a locked item, two matches, an error reply, a
 * bus address that is not a unix socket, a slow answer) gives 'fallback', and
 * the caller asks the binding, which can prompt to unlock and classify errors.
 * Writes and deletes always go through the binding.
 */
import type { Socket } from 'node:net';
import { nodeRequire } from '../system/node-require.js';

export type SecretLookup = { found: true; secret: string } | { found: false } | 'fallback';

const SECRETS = 'org.freedesktop.secrets';
const SECRETS_PATH = '/org/freedesktop/secrets';
const SERVICE_IFACE = 'org.freedesktop.Secret.Service';

/** busSocketPath: the unix socket of a D-Bus address ("unix:path=/run/user/1000/bus,guid=…"), abstract ones with a leading NUL. */
export function busSocketPath(address: string | undefined): string | null {
  for (const one of (address ?? '').split(';')) {
    const m = /^unix:(.*)$/.exec(one.trim());
    if (!m) continue;
    const kv = Object.fromEntries((m[1] ?? '').split(',').map((p) => [p.slice(0, p.indexOf('=')), decodeURIComponent(p.slice(p.indexOf('=') + 1))]));
    if (kv.path) return kv.path;
    if (kv.abstract) return `\0${kv.abstract}`;
  }
  return null;
}

/** Little-endian D-Bus marshalling of the few types these calls use. */
class Writer {
  private bytes: number[] = [];
  get length(): number {
    return this.bytes.length;
  }
  pad(n: number): this {
    while (this.bytes.length % n !== 0) this.bytes.push(0);
    return this;
  }
  byte(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u32(v: number): this {
    this.pad(4);
    this.bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    return this;
  }
  setU32(at: number, v: number): void {
    this.bytes.splice(at, 4, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  string(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.u32(b.length);
    for (const x of b) this.bytes.push(x);
    this.bytes.push(0);
    return this;
  }
  signature(s: string): this {
    this.bytes.push(s.length);
    for (const ch of s) this.bytes.push(ch.charCodeAt(0));
    this.bytes.push(0);
    return this;
  }
  /** An array: `elementAlign` is where the first element starts; the length excludes that padding. */
  array(elementAlign: number, body: () => void): this {
    this.u32(0);
    const at = this.bytes.length - 4;
    this.pad(elementAlign);
    const start = this.bytes.length;
    body();
    this.setU32(at, this.bytes.length - start);
    return this;
  }
  buffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}

interface Call {
  serial: number;
  destination: string;
  path: string;
  iface: string;
  member: string;
  signature?: string;
  body?: (w: Writer) => void;
}

/** message encodes a method call; the body is marshalled at its offset from the message start, which is 8-aligned. */
function message(c: Call): Buffer {
  const body = new Writer();
  c.body?.(body);
  const w = new Writer();
  w.byte(0x6c).byte(1).byte(0).byte(1).u32(body.length).u32(c.serial);
  const field = (code: number, sig: string, write: () => void) => {
    w.pad(8).byte(code).signature(sig);
    write();
  };
  w.array(8, () => {
    field(1, 'o', () => w.string(c.path));
    field(2, 's', () => w.string(c.iface));
    field(3, 's', () => w.string(c.member));
    field(6, 's', () => w.string(c.destination));
    if (c.signature) field(8, 'g', () => w.signature(c.signature as string));
  });
  w.pad(8);
  return Buffer.concat([w.buffer(), body.buffer()]);
}

/** Reading side: a cursor over one message body (little-endian only, as every bus daemon on Linux answers). */
class Reader {
  constructor(
    private readonly b: Buffer,
    public pos: number,
    private readonly base: number,
  ) {}
  pad(n: number): void {
    const rel = this.pos - this.base;
    this.pos += (n - (rel % n)) % n;
  }
  byte(): number {
    return this.b.readUInt8(this.pos++);
  }
  u32(): number {
    this.pad(4);
    const v = this.b.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  string(): string {
    const n = this.u32();
    const s = this.b.toString('utf8', this.pos, this.pos + n);
    this.pos += n + 1;
    return s;
  }
  signature(): string {
    const n = this.byte();
    const s = this.b.toString('latin1', this.pos, this.pos + n);
    this.pos += n + 1;
    return s;
  }
  bytes(): Buffer {
    const n = this.u32();
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  /** Reads an array whose elements start at `align`, calling `each` until its end. */
  array(align: number, each: () => void): void {
    const n = this.u32();
    this.pad(align);
    const end = this.pos + n;
    while (this.pos < end) each();
  }
}

interface Reply {
  type: number;
  replySerial: number;
  body: Reader;
}

/** parseMessages takes the complete messages off the front of `buf`. */
function parseMessages(buf: Buffer): { messages: Reply[]; rest: Buffer } {
  const messages: Reply[] = [];
  let off = 0;
  while (buf.length - off >= 16) {
    if (buf[off] !== 0x6c) throw new Error('big-endian D-Bus message');
    const bodyLen = buf.readUInt32LE(off + 4);
    const fieldsLen = buf.readUInt32LE(off + 12);
    const headerEnd = off + 16 + fieldsLen;
    const bodyStart = off + Math.ceil((16 + fieldsLen) / 8) * 8;
    if (buf.length < bodyStart + bodyLen) break;
    const r = new Reader(buf, off + 16, off);
    let replySerial = 0;
    while (r.pos < headerEnd) {
      r.pad(8);
      const code = r.byte();
      const sig = r.signature();
      if (sig === 'u') {
        const v = r.u32();
        if (code === 5) replySerial = v;
      } else if (sig === 's' || sig === 'o') r.string();
      else if (sig === 'g') r.signature();
      else throw new Error(`unexpected header field type ${sig}`);
    }
    messages.push({ type: buf[off + 1] as number, replySerial, body: new Reader(buf, bodyStart, bodyStart) });
    off = bodyStart + bodyLen;
  }
  return { messages, rest: buf.subarray(off) };
}

/**
 * lookupSecret reads the secret stored for (service, account) with the
 * attributes the keychain binding writes ({service, username}).
 */
export function lookupSecret(opts: { address: string | undefined; uid: number; service: string; account: string; timeoutMs: number }): Promise<SecretLookup> {
  const path = busSocketPath(opts.address);
  if (path === null) return Promise.resolve('fallback');
  const net = nodeRequire('node:net') as typeof import('node:net');
  return new Promise((resolve) => {
    let settled = false;
    let socket: Socket;
    const done = (v: SecretLookup) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done('fallback'), opts.timeoutMs);
    const call = (c: Omit<Call, 'destination' | 'path' | 'iface'> & Partial<Call>) =>
      message({ destination: SECRETS, path: SECRETS_PATH, iface: SERVICE_IFACE, ...c });
    const auth = Buffer.from(`\0AUTH EXTERNAL ${Buffer.from(String(opts.uid)).toString('hex')}\r\nBEGIN\r\n`, 'latin1');
    const first = Buffer.concat([
      auth,
      message({ serial: 1, destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', iface: 'org.freedesktop.DBus', member: 'Hello' }),
      call({
        serial: 2,
        member: 'OpenSession',
        signature: 'sv',
        body: (w) => {
          w.string('plain').signature('s').string('');
        },
      }),
      call({
        serial: 3,
        member: 'SearchItems',
        signature: 'a{ss}',
        body: (w) => {
          w.array(8, () => {
            for (const [k, v] of [
              ['service', opts.service],
              ['username', opts.account],
            ] as const)
              w.pad(8).string(k).string(v);
          });
        },
      }),
    ]);
    let authed = false;
    let pending: Buffer = Buffer.alloc(0);
    let session: string | null = null;
    let items: { unlocked: string[]; locked: string[] } | null = null;
    let asked = false;
    const onReply = (m: Reply) => {
      if (m.type === 3) return done('fallback'); // an error reply: the binding classifies it
      if (m.type !== 2) return; // signals
      if (m.replySerial === 2) {
        m.body.signature(); // the variant's signature ("s", empty for plain)
        m.body.string();
        session = m.body.string();
      } else if (m.replySerial === 3) {
        const unlocked: string[] = [];
        const locked: string[] = [];
        m.body.array(4, () => unlocked.push(m.body.string()));
        m.body.array(4, () => locked.push(m.body.string()));
        items = { unlocked, locked };
        if (unlocked.length === 0 && locked.length === 0) return done({ found: false });
        if (unlocked.length !== 1 || locked.length !== 0) return done('fallback');
      } else if (m.replySerial === 4) {
        let secret: Buffer | null = null;
        m.body.array(8, () => {
          m.body.pad(8);
          m.body.string(); // item path
          m.body.pad(8);
          m.body.string(); // session
          m.body.bytes(); // parameters (empty for plain)
          secret = m.body.bytes();
          m.body.string(); // content type
        });
        if (secret === null) return done('fallback');
        return done({ found: true, secret: (secret as Buffer).toString('utf8') });
      }
      if (!asked && session !== null && items !== null) {
        asked = true;
        const item = items.unlocked[0] as string;
        const s = session;
        socket.write(
          call({
            serial: 4,
            member: 'GetSecrets',
            signature: 'aoo',
            body: (w) => {
              w.array(4, () => w.string(item)).string(s);
            },
          }),
        );
      }
    };
    socket = net.connect(path, () => socket.write(first));
    socket.on('error', () => done('fallback'));
    socket.on('close', () => done('fallback'));
    socket.on('data', (chunk: Buffer) => {
      try {
        pending = Buffer.concat([pending, chunk]);
        if (!authed) {
          const text = pending.toString('latin1');
          const eol = text.indexOf('\r\n');
          if (eol < 0) return;
          if (!text.startsWith('OK ')) return done('fallback');
          authed = true;
          pending = pending.subarray(eol + 2);
        }
        const { messages, rest } = parseMessages(pending);
        pending = rest;
        for (const m of messages) onReply(m);
      } catch {
        done('fallback');
      }
    });
  });
}
