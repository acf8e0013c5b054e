/**
 * Prints one closing line `tests: N passed, N failed, N skipped` so that any
 * CI log reader sees the counts, plus the reasons of skipped tests.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const skippedNames: string[] = [];
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else {
          skipped++;
          skippedNames.push(`${m.moduleId.replace(process.cwd() + '/', '')} > ${t.fullName}`);
        }
      }
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) failed++;
    }
    if (skippedNames.length > 0) {
      process.stdout.write(`\nskipped tests (${skippedNames.length}):\n${skippedNames.map((n) => `  - ${n}`).join('\n')}\n`);
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
