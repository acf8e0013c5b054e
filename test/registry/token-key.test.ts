/** Token cache keys: one hash over who asks and for what. */
import { describe, expect, it } from 'vitest';
import { tokenKey } from '../../src/registry/token-cache.js';

describe('tokenKey', () => {
  const base = ['https://auth.example/token', 'registry.example', ['repository:a:pull'], 'alice', 's3cret'] as const;
  const key = (...over: Partial<Record<number, unknown>>[]) => {
    const args = [...base] as unknown[];
    for (const o of over) for (const [i, v] of Object.entries(o)) args[Number(i)] = v;
    return tokenKey(...(args as Parameters<typeof tokenKey>));
  };

  it('names what the token is for, and who asks only by a SHA-256, never the secret', () => {
    expect(key()).toMatch(/^\["https:\/\/auth.example\/token","registry.example",\["repository:a:pull"\]\][0-9a-f]{64}$/);
    expect(key()).not.toContain('s3cret');
  });

  it('differs for another user, another secret, realm, service or scope: a token is never shared', () => {
    const keys = [key(), key({ 3: 'bob' }), key({ 4: 's3cret2' }), key({ 0: 'https://other/token' }), key({ 1: null }), key({ 2: ['repository:b:pull'] })];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('does not let a username and secret run into each other', () => {
    expect(key({ 3: 'alice:s' }, { 4: '3cret' })).not.toBe(key({ 3: 'alice' }, { 4: 's:3cret' }));
  });

  it('ignores the order and repetition of scopes', () => {
    expect(key({ 2: ['repository:a:pull', 'repository:b:pull'] })).toBe(key({ 2: ['repository:b:pull', 'repository:a:pull', 'repository:a:pull'] }));
  });
});
