import { describe, expect, it } from 'vitest';
import { dockerAuthFields as authEntryJson } from '../../src/credentials/credential.js';
import { parseDockerAuthConfigEnv, parseDockerConfig } from '../../src/credentials/docker-config.js';
import { EMPTY_CREDENTIAL } from '../../src/credentials/credential.js';
import { MirrorauthError } from '../../src/errors.js';
import { jsonErrorLine, jsonErrorReason } from '../../src/json-error.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('parseDockerConfig', () => {
  it('reads auths, identity tokens, credsStore and credHelpers', () => {
    const c = parseDockerConfig(
      JSON.stringify({
        auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') }, 'r.example': { auth: b64('u:'), identitytoken: 'rt' }, marker: {} },
        credsStore: 'pass',
        credHelpers: { 'gcr.io': 'gcloud' },
        unknown: { kept: true },
      }),
      '/c/config.json',
      '/c',
    );
    expect(c.auths.get('https://index.docker.io/v1/')?.credential).toMatchObject({ username: 'hub', password: 'pw' });
    expect(c.auths.get('r.example')?.credential).toMatchObject({ username: 'u', identityToken: 'rt' });
    expect(c.auths.get('marker')?.credential).toEqual(EMPTY_CREDENTIAL);
    expect(c.credsStore).toBe('pass');
    expect(c.credHelpers.get('gcr.io')).toBe('gcloud');
    expect(c.raw.unknown).toEqual({ kept: true });
  });

  it.each([
    ['[]', 'top level'],
    ['{"auths": []}', '"auths" must be an object'],
    [`{"auths": {"x": {"auth": "${b64('nocolon')}"}}}`, 'invalid auth configuration file'],
    ['{"auths": {"x": {"username": 5}}}', 'must be a string'],
    ['{"credsStore": 1}', '"credsStore" must be a string'],
    ['{"auths": {\n"x": {}\n,}', ':3:'],
  ])('rejects %j naming the file', (text, message) => {
    let err: unknown;
    try {
      parseDockerConfig(text, '/c/config.json', '/c');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MirrorauthError);
    expect((err as MirrorauthError).code).toBe('CONFIG_INVALID');
    expect((err as MirrorauthError).message).toContain('/c/config.json');
    expect((err as MirrorauthError).message).toContain(message);
  });

  it('encodes entries the way docker writes them', () => {
    expect(authEntryJson({ ...EMPTY_CREDENTIAL, username: 'u', password: 'p' })).toEqual({ auth: b64('u:p') });
    expect(authEntryJson({ ...EMPTY_CREDENTIAL, username: 'u', identityToken: 't' })).toEqual({ auth: b64('u:'), identitytoken: 't' });
  });
});

describe('DOCKER_AUTH_CONFIG', () => {
  it('accepts only {"auths": {KEY: {"auth": …}}}', () => {
    expect(parseDockerAuthConfigEnv(JSON.stringify({ auths: { 'r.example': { auth: b64('u:p') } } })).get('r.example')?.credential.password).toBe('p');
    expect(() => parseDockerAuthConfigEnv(JSON.stringify({ auths: { r: { username: 'u' } } }))).toThrow(/missing key `auth`/);
    expect(() => parseDockerAuthConfigEnv('{"credsStore": "x"}')).toThrow(/nothing else/);
    expect(() => parseDockerAuthConfigEnv('nope')).toThrow(/not valid JSON/);
  });
});

describe('jsonErrorLine', () => {
  it.each([
    ['{"a": 1}', null],
    ['{\n"a": 1,\n}', 3],
    ['{\n  "a": [1, 2\n', 3],
    ['\n\n  nope', 3],
  ])('%j -> %j', (t, want) => expect(jsonErrorLine(t)).toBe(want));
});

// V8 quotes the text around an unexpected token ("Unexpected token 'h', ...\"auth\":hunter2\"... is not valid
// JSON"): in a credentials file, an auth variable or a helper's request, that text is a secret
describe('a JSON error never quotes the text it could not read', () => {
  const broken = [
    '{"auths":{"r.example":{"auth":aHVudGVyMnNlY3JldA}}}',
    '{"auths":{"r.example":{"auth":"aHVudGVy"MnNlY3JldA"}}}',
    'aHVudGVyMnNlY3JldA',
    '{"auths":{"r.example":{"auth":"aHVudGVyMnNlY3JldA"}}} aHVudGVyMnNlY3JldA',
  ];
  const message = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('no error');
  };
  it.each(broken)('config.json: %s', (text) => {
    const m = message(() => parseDockerConfig(text, '/c/config.json', '/c'));
    expect(m).toContain('not valid JSON');
    expect(m).not.toMatch(/aHVud|MnNl|Y3JldA/);
  });
  it.each(broken)('DOCKER_AUTH_CONFIG: %s', (text) => {
    const m = message(() => parseDockerAuthConfigEnv(text));
    expect(m).toContain('not valid JSON');
    expect(m).not.toMatch(/aHVud|MnNl|Y3JldA/);
  });
  it('keeps what V8 says when it quotes nothing', () => {
    expect(jsonErrorReason(new SyntaxError('Unexpected end of JSON input'))).toBe('Unexpected end of JSON input');
    expect(jsonErrorReason(new SyntaxError("Expected ',' or '}' after property value in JSON at position 40"))).toBe(
      "Expected ',' or '}' after property value in JSON at position 40",
    );
    expect(jsonErrorReason(new SyntaxError('Unexpected token \'h\', ..."t":hunter2"... is not valid JSON'))).toBe('unexpected character');
  });
});
