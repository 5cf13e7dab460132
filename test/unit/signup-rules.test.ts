import { passwordProblems } from '../../src/domain/password-policy';
import { slugify, slugProblem } from '../../src/domain/slug';

describe('slugify', () => {
  it.each([
    ['Acme Widgets', 'acme-widgets'],
    ['  Crème   Brûlée & Co. ', 'creme-brulee-co'],
    ['--Hello--World--', 'hello-world'],
    ['ÅNGSTRÖM_42', 'angstrom-42'],
  ])('%s → %s', (name, slug) => expect(slugify(name)).toBe(slug));

  it('yields only path-safe characters without edge dashes', () => {
    for (const name of ['a/b\\c', '../etc/passwd', 'x\u0000y', '😀 party 😀', 'Ünïcödé Ñame']) {
      const slug = slugify(name);
      expect(slug).toMatch(/^([a-z0-9]+(-[a-z0-9]+)*)?$/);
    }
  });
});

describe('slugProblem', () => {
  it('accepts 3 to 63 characters that are not reserved', () => {
    expect(slugProblem('abc')).toBeUndefined();
    expect(slugProblem('a'.repeat(63))).toBeUndefined();
  });
  it.each(['ab', 'a'.repeat(64), 'admin', 'api', 'www', 'system'])('refuses %s', (slug) => expect(slugProblem(slug)).toBeDefined());
});

describe('passwordProblems', () => {
  it('accepts a long password mixing classes', () => expect(passwordProblems('Tr0ub4dor&3-long', 'ann@example.com')).toEqual([]));
  it('refuses fewer than 12 characters', () => expect(passwordProblems('Short-1aB', 'ann@example.com')).toContain('must be at least 12 characters'));
  it('refuses a single character class', () => {
    for (const password of ['abcdefghijklm', 'ABCDEFGHIJKLM', '1234567890123', '!@#$%^&*()_+-']) {
      expect(passwordProblems(password, 'ann@example.com')).toContain('must mix at least two of: lower case, upper case, digits, symbols');
    }
  });
  it('refuses a password containing the email local part, in any case', () =>
    expect(passwordProblems('my-JOHNDOE-password', 'johndoe@example.com')).toContain('must not contain the email address'));
});
