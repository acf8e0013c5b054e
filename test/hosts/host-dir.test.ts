import { describe, expect, it } from 'vitest';
import { hostDirectory, hostPaths } from '../../src/hosts/load.js';
import { registryOfDir } from '../../src/hosts/load.js';

describe('host directory candidates (R4–R6)', () => {
  it.each([
    ['myregistry.io:5000', ['/c/myregistry.io_5000_', '/c/myregistry.io:5000', '/c/_default']],
    ['docker.io', ['/c/docker.io', '/c/_default']],
    ['[::1]:5000', ['/c/[::1]_5000_', '/c/[::1]:5000', '/c/_default']],
    ['[::1]', ['/c/[:_1]_', '/c/[::1]', '/c/_default']],
  ])('linux: %s', (host, want) => expect(hostPaths('/c', host)).toEqual(want));

  it('windows drops every colon', () => {
    expect(hostPaths('/c', 'myregistry.io:5000', 'win32')).toEqual(['/c/myregistry.io_5000_', '/c/myregistry.io5000', '/c/_default']);
  });

  it('maps directory names back to registries', () => {
    expect(hostDirectory('r.example:443')).toBe('r.example_443_');
    expect([registryOfDir('r.example_443_'), registryOfDir('r.example:443'), registryOfDir('docker.io'), registryOfDir('_default')]).toEqual([
      'r.example:443',
      'r.example:443',
      'docker.io',
      null,
    ]);
  });
});
