'use strict';
// string-width for cli-table3 inside the bundles (scripts/build-fast.mjs): cli-table3 measures every cell, and
// string-width's emoji regex costs ~4 ms to compile on first use. A cell of printable ASCII and the few narrow
// symbols mirrorauth prints (· — … →) is as wide as it is long; anything else is measured by string-width.
// test/cli/width.test.ts checks both give the same answers.
const full = require('string-width');

const SGR = /\u001b\[[0-9;]*m/g;
const NARROW = /^[\u0020-\u007e\u00b7\u2014\u2026\u2192]*$/;

function stringWidth(s) {
  if (typeof s !== 'string') return full(s);
  const plain = s.includes('\u001b') ? s.replace(SGR, '') : s;
  return NARROW.test(plain) ? plain.length : full(s);
}

module.exports = stringWidth;
module.exports.default = stringWidth;
