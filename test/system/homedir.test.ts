/** The System's home directory answers what os.homedir() answers, without loading node:os when $HOME is set. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { homedirOf } from '../../src/system/node.js';

describe('homedirOf', () => {
  it('is $HOME when set, even empty, and asks the OS only without it', () => {
    const os = () => '/from/passwd';
    expect(homedirOf({ HOME: '/home/u' }, os)).toBe('/home/u');
    expect(homedirOf({ HOME: '' }, os)).toBe('');
    expect(homedirOf({}, os)).toBe('/from/passwd');
  });

  // what homedirOf relies on: libuv answers $HOME whenever it is set, even when it is empty
  it.each(['/x/y', ''])('os.homedir() is $HOME=%j in a real process', (home) => {
    const r = spawnSync(process.execPath, ['-p', 'JSON.stringify(require("node:os").homedir())'], {
      env: { PATH: process.env.PATH, HOME: home },
      encoding: 'utf8',
    });
    expect(JSON.parse(r.stdout)).toBe(home);
  });
});
