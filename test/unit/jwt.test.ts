import { createHmac } from 'node:crypto';
import { createAccessTokens, looksLikeJwt } from '../../src/auth/access-token';
import { JwtInvalid, signJwt, verifyJwt, type JwtFailureCode } from '../../src/auth/jwt';

const secret = Buffer.from('a-secret-of-at-least-thirty-two-bytes!!');
const now = new Date('2030-06-01T12:00:00Z');
const options = { secret, issuer: 'control-plane', audience: 'api', now };
const sign = (claims: Record<string, unknown> = { sub: 'u1' }, overrides: Partial<Parameters<typeof signJwt>[1]> = {}) =>
  signJwt(claims, { ...options, expiresInSeconds: 60, ...overrides });

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A token signed with our secret over any header and payload: only the checks after the signature can refuse it. */
const forge = (header: unknown, payload: unknown, key: Uint8Array = secret) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
};

async function failure(token: string, verifyOptions: Partial<Parameters<typeof verifyJwt>[1]> = {}): Promise<JwtFailureCode | 'accepted'> {
  try {
    await verifyJwt(token, { ...options, ...verifyOptions });
    return 'accepted';
  } catch (error) {
    if (error instanceof JwtInvalid) return error.code;
    throw error;
  }
}

const validPayload = { sub: 'u1', iss: 'control-plane', aud: 'api', iat: now.getTime() / 1000, exp: now.getTime() / 1000 + 60 };

describe('HS256 JWT', () => {
  it('round-trips claims with iss, aud, iat and exp set', async () => {
    const payload = await verifyJwt(await sign({ sub: 'u1', tid: 't1' }), options);
    expect(payload).toMatchObject({ sub: 'u1', tid: 't1', iss: 'control-plane', aud: 'api', iat: validPayload.iat, exp: validPayload.exp });
  });

  it('matches the RFC 7515 HS256 signature for the same input (interoperable with jose)', async () => {
    const token = await sign();
    const [header, payload, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(signature).toBe(createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url'));
  });

  it.each([
    ['expired at exp', async () => sign(), { now: new Date(now.getTime() + 60_000) }, 'expired'],
    ['accepted just before exp', async () => sign(), { now: new Date(now.getTime() + 59_000) }, 'accepted'],
    ['accepted within clock tolerance', async () => sign(), { now: new Date(now.getTime() + 62_000), clockToleranceSeconds: 5 }, 'accepted'],
    ['another secret', async () => sign({ sub: 'u1' }, { secret: Buffer.from('another-secret-of-at-least-32-bytes!!') }), {}, 'bad_signature'],
    ['a changed payload', async (): Promise<string> => { const [h, , s] = (await sign()).split('.'); return `${h}.${b64({ ...validPayload, sub: 'admin' })}.${s}`; }, {}, 'bad_signature'],
    ['an empty signature', async (): Promise<string> => `${(await sign()).split('.').slice(0, 2).join('.')}.`, {}, 'bad_signature'],
    ['alg none', async () => `${b64({ alg: 'none' })}.${b64(validPayload)}.AAAA`, {}, 'unsupported_algorithm'],
    ['alg HS512', async () => forge({ alg: 'HS512' }, validPayload), {}, 'unsupported_algorithm'],
    ['alg RS256 (key confusion)', async () => forge({ alg: 'RS256' }, validPayload), {}, 'unsupported_algorithm'],
    ['a crit header', async () => forge({ alg: 'HS256', crit: ['x'] }, validPayload), {}, 'unsupported_algorithm'],
    ['no exp', async () => forge({ alg: 'HS256' }, { ...validPayload, exp: undefined }), {}, 'malformed'],
    ['exp as a string', async () => forge({ alg: 'HS256' }, { ...validPayload, exp: '9999999999' }), {}, 'malformed'],
    ['nbf in the future', async () => forge({ alg: 'HS256' }, { ...validPayload, nbf: validPayload.iat + 30 }), {}, 'not_yet_valid'],
    ['iat in the future', async () => forge({ alg: 'HS256' }, { ...validPayload, iat: validPayload.iat + 30 }), {}, 'not_yet_valid'],
    ['another issuer', async () => forge({ alg: 'HS256' }, { ...validPayload, iss: 'evil' }), {}, 'claim_mismatch'],
    ['another audience', async () => forge({ alg: 'HS256' }, { ...validPayload, aud: 'other' }), {}, 'claim_mismatch'],
    ['an audience list that includes ours', async () => forge({ alg: 'HS256' }, { ...validPayload, aud: ['other', 'api'] }), {}, 'accepted'],
    ['a payload that is an array', async () => forge({ alg: 'HS256' }, [1, 2]), {}, 'malformed'],
    ['two parts', async () => 'abc.def', {}, 'malformed'],
    ['four parts', async (): Promise<string> => `${await sign()}.x`, {}, 'malformed'],
    ['non-base64url characters', async () => 'a+b.c/d.e=f', {}, 'malformed'],
    ['a header that is not JSON', async () => `${Buffer.from('{not json').toString('base64url')}.${b64(validPayload)}.AAAA`, {}, 'malformed'],
    ['an 8 KiB blob', async () => 'a'.repeat(9000), {}, 'malformed'],
  ] as Array<[string, () => Promise<string>, Partial<Parameters<typeof verifyJwt>[1]>, JwtFailureCode | 'accepted']>)('refuses or accepts %s as expected', async (_name, token, verifyOptions, expected) => {
    expect(await failure(await token(), verifyOptions)).toBe(expected);
  });

  it('refuses to sign or verify with a secret shorter than 32 bytes', async () => {
    await expect(sign({}, { secret: Buffer.from('short') })).rejects.toThrow(/32 bytes/);
    await expect(verifyJwt(await sign(), { ...options, secret: Buffer.from('short') })).rejects.toThrow(/32 bytes/);
  });
});

describe('access tokens', () => {
  const tokens = createAccessTokens({ secret: secret.toString(), ttlSeconds: 900, now: () => now });

  const claims = { userId: 'u1', tenantId: 't1', generation: 3, sessionId: '6f1d3c1e-8a4b-4c2d-9e0f-1a2b3c4d5e6f' };

  it('carry the user, tenant, session generation and login, and nothing that grants a role', async () => {
    const issued = await tokens.issue(claims);
    expect(issued.expiresInSeconds).toBe(900);
    expect(looksLikeJwt(issued.token)).toBe(true);
    expect(await tokens.verify(issued.token)).toEqual(claims);
    expect(JSON.parse(Buffer.from(issued.token.split('.')[1]!, 'base64url').toString())).not.toHaveProperty('role');
  });

  it('refuse an access token of ours without its session binding, which nothing could end', async () => {
    const unbound = await signJwt({ sub: 'u1', tid: 't1', token_use: 'access' }, { secret, issuer: 'control-plane', audience: 'control-plane-api', expiresInSeconds: 60, now });
    await expect(tokens.verify(unbound)).rejects.toThrow(/session binding/);
  });

  it('refuse a valid JWT of ours that is not an access token', async () => {
    const other = await signJwt({ sub: 'u1', tid: 't1', token_use: 'id' }, { secret, issuer: 'control-plane', audience: 'control-plane-api', expiresInSeconds: 60, now });
    await expect(tokens.verify(other)).rejects.toThrow(/not an access token/);
  });
});
