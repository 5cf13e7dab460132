const Sequencer = require('@jest/test-sequencer').default;

/** Tests that need the production shape's tools run last: `npm test` builds those tools while the others run. */
const NEEDS_FLEET_TOOLS = [/[\\/]test[\\/]topology[\\/]/, /[\\/]test[\\/]ops[\\/]/];

class FleetToolsLastSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const last = (test) => NEEDS_FLEET_TOOLS.some((pattern) => pattern.test(test.path));
    return [...sorted.filter((test) => !last(test)), ...sorted.filter(last)];
  }
}

module.exports = FleetToolsLastSequencer;
