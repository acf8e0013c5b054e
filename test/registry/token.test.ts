/** The token exchange's fallbacks, against a loopback token server that misbehaves on purpose. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_CREDENTIAL } from '../../src/credentials/credential.js';
import { fetchToken } from '../../src/registry/token.js';
import { nodeSystem } from '../../src/system/node.js';

const seen: Array<{ method: string; path: string; auth: string | null }> = [];
let base = '';
const server = http.createServer((req, res) => {
  seen.push({ method: req.method ?? '', path: req.url ?? '', auth: req.headers.authorization ?? null });
  const url = new URL(req.url ?? '/', 'http://x');
  const postStatus = Number(url.pathname.split('/')[2]);
  if (req.method === 'POST') {
    res.writeHead(postStatus).end();
    return;
  }
  if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
    res.writeHead(401).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'tok', expires_in: 10 }));
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

describe('fetchToken', () => {
  it.each([400, 401, 404, 405])('falls back from POST %d to GET with Basic credentials', async (status) => {
    seen.length = 0;
    const t = await fetchToken(nodeSystem(), {
      realm: `${base}/token/${status}`,
      service: 'svc',
      scopes: ['repository:a/b:pull'],
      credential: { ...EMPTY_CREDENTIAL, username: 'u', password: 'p' },
      registry: new URL(`${base}/v2/`),
    });
    expect(t.token).toBe('tok');
    expect(t.expiresInS).toBe(60);
    expect(seen.map((s) => s.method)).toEqual(['POST', 'GET']);
    expect(seen[1]?.path).toContain('scope=repository%3Aa%2Fb%3Apull');
  });

  it('does not fall back on a 500', async () => {
    await expect(
      fetchToken(nodeSystem(), {
        realm: `${base}/token/500`,
        service: 's',
        scopes: [],
        credential: { ...EMPTY_CREDENTIAL, username: 'u', password: 'p' },
        registry: new URL(`${base}/v2/`),
      }),
    ).rejects.toThrow(/HTTP 500/);
  });

  it('reports refused credentials as AUTH_FAILED', async () => {
    await expect(
      fetchToken(nodeSystem(), {
        realm: `${base}/token/404`,
        service: 's',
        scopes: [],
        credential: { ...EMPTY_CREDENTIAL, username: 'u', password: 'wrong' },
        registry: new URL(`${base}/v2/`),
      }),
    ).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });
});
