import { describe, expect, it } from 'vitest';
import { MirrorauthError } from '../../src/errors.js';
import { parseReference } from '../../src/reference/reference.js';

describe('parseReference', () => {
  it.each([
    ['alpine', 'docker.io/library/alpine:latest', 'docker.io', 'library/alpine', 'latest', null],
    ['alpine:3.19', 'docker.io/library/alpine:3.19', 'docker.io', 'library/alpine', '3.19', null],
    ['library/alpine', 'docker.io/library/alpine:latest', 'docker.io', 'library/alpine', 'latest', null],
    ['index.docker.io/x', 'docker.io/library/x:latest', 'docker.io', 'library/x', 'latest', null],
    ['index.docker.io/org/x:1', 'docker.io/org/x:1', 'docker.io', 'org/x', '1', null],
    ['registry-1.docker.io/library/alpine', 'registry-1.docker.io/library/alpine:latest', 'registry-1.docker.io', 'library/alpine', 'latest', null],
    ['ghcr.io/org/app:1.0', 'ghcr.io/org/app:1.0', 'ghcr.io', 'org/app', '1.0', null],
    ['myregistry.io:5000/team/app:v1', 'myregistry.io:5000/team/app:v1', 'myregistry.io:5000', 'team/app', 'v1', null],
    ['localhost/foo', 'localhost/foo:latest', 'localhost', 'foo', 'latest', null],
    ['localhost:5000/foo:dev', 'localhost:5000/foo:dev', 'localhost:5000', 'foo', 'dev', null],
    ['[::1]:5000/foo:dev', '[::1]:5000/foo:dev', '[::1]:5000', 'foo', 'dev', null],
    ['Registry.Example.com/app', 'Registry.Example.com/app:latest', 'Registry.Example.com', 'app', 'latest', null],
    [`alpine@sha256:${'a'.repeat(64)}`, `docker.io/library/alpine@sha256:${'a'.repeat(64)}`, 'docker.io', 'library/alpine', null, `sha256:${'a'.repeat(64)}`],
    [`r.io/a:1@sha256:${'b'.repeat(64)}`, `r.io/a@sha256:${'b'.repeat(64)}`, 'r.io', 'a', null, `sha256:${'b'.repeat(64)}`],
  ])('%s -> %s', (input, normalized, registry, repository, tag, digest) => {
    const r = parseReference(input);
    expect(r).toMatchObject({ normalized, registry, repository, tag, digest });
  });

  it('remembers a tag dropped because of a digest', () => {
    expect(parseReference(`r.io/a:1@sha256:${'b'.repeat(64)}`).droppedTag).toBe('1');
  });

  it.each([
    ['', 'empty'],
    ['Alpine', 'lowercase'],
    ['docker.io/Library/alpine', 'lowercase'],
    ['https://registry.example.com/app', 'scheme'],
    ['a'.repeat(64).replace(/a/g, 'f'), 'image ID'],
    ['registry.example.com/app:bad tag', 'grammar'],
    ['registry.example.com/', 'missing'],
    [`app@sha256:${'a'.repeat(10)}`, 'grammar'],
    [`app@sha256:${'a'.repeat(40)}`, '64'],
  ])('rejects %j (%s)', (input, why) => {
    let err: unknown;
    try {
      parseReference(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MirrorauthError);
    expect((err as MirrorauthError).code).toBe('INVALID_REFERENCE');
    expect((err as MirrorauthError).message.toLowerCase()).toContain(why.toLowerCase());
    expect((err as MirrorauthError).hint).toBeTruthy();
  });
});
