import { describe, expect, it } from 'vitest';
import { hasFeature, parseContainerdVersion, type Feature } from '../../src/hosts/version.js';

describe('parseContainerdVersion', () => {
  it.each([
    ['1.6.20', [1, 6, 20, '']],
    ['v2.1.0', [2, 1, 0, '']],
    ['2.1', [2, 1, 0, '']],
    ['2.4.0-beta.0', [2, 4, 0, 'beta.0']],
  ])('%s', (text, [major, minor, patch, pre]) => {
    expect(parseContainerdVersion(text)).toMatchObject({ major, minor, patch, pre });
  });
  it.each(['', 'two', '1', '1.x.0'])('rejects %j', (t) => {
    expect(() => parseContainerdVersion(t)).toThrow(/invalid containerd version/);
  });
});

describe('hasFeature follows the "since" versions per release line', () => {
  it.each([
    ['localhostHttpsDefault', '1.6.20', false],
    ['localhostHttpsDefault', '1.6.25', true],
    ['localhostHttpsDefault', '1.7.7', false],
    ['localhostHttpsDefault', '1.7.8', true],
    ['localhostHttpsDefault', '2.0.0', true],
    ['serverOnlyFile', '1.6.39', false],
    ['serverOnlyFile', '1.7.31', false],
    ['serverOnlyFile', '1.7.32', true],
    ['serverOnlyFile', '2.0.0-rc.1', false],
    ['serverOnlyFile', '2.0.0', true],
    ['httpsFirstWithoutPort', '1.6.39', false],
    ['httpsFirstWithoutPort', '1.7.23', false],
    ['httpsFirstWithoutPort', '1.7.24', true],
    ['nsOnPush', '2.2.9', false],
    ['nsOnPush', '2.3.0', true],
    ['nsOnPush', '3.0.0', true],
    ['tomlV2', '1.7.32', false],
    ['tomlV2', '2.1.0', true],
  ])('%s on %s = %s', (feature, version, want) => {
    expect(hasFeature(parseContainerdVersion(version), feature as Feature)).toBe(want);
  });
});
