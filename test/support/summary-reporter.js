// Writes the run's totals to .data/test-summary.json so .ci/run can print one plain totals line.
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const file = path.resolve(__dirname, '../../.data/test-summary.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      JSON.stringify({
        passed: results.numPassedTests,
        failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
        pending: results.numPendingTests,
        total: results.numTotalTests,
        suitesFailed: results.numFailedTestSuites,
      }),
    );
  }
}

module.exports = SummaryReporter;
