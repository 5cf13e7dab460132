/**
 * HS256 JSON Web Tokens (RFC 7519) through `jose`, wrapped so the rest of the code sees one small surface and one
 * error type with a reason code.
 *
 * Verification is strict on purpose: only HS256 (never `none`, never an algorithm the token names), `exp` required,
 * `iss` and `aud` required to match.
 */
import { errors, jwtVerify, SignJWT } from 'jose';

export interface JwtPayload {
  iss?: string;
  aud?: string | string[];
  sub?: string;
  iat?: number;
  nbf?: number;
  exp?: number;
  jti?: string;
  [claim: string]: unknown;
}

export const JWT_FAILURE_CODES = ['malformed', 'unsupported_algorithm', 'bad_signature', 'expired', 'not_yet_valid', 'claim_mismatch'] as const;
export type JwtFailureCode = (typeof JWT_FAILURE_CODES)[number];

export class JwtInvalid extends Error {
  constructor(readonly code: JwtFailureCode, message: string) {
    super(message);
    this.name = 'JwtInvalid';
  }
}

export const MIN_SECRET_BYTES = 32;
const MAX_TOKEN_LENGTH = 8192;

export interface SignOptions {
  secret: Uint8Array;
  issuer: string;
  audience: string;
  expiresInSeconds: number;
  now: Date;
}

export interface VerifyOptions {
  secret: Uint8Array;
  issuer: string;
  audience: string;
  now: Date;
  clockToleranceSeconds?: number;
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

function assertSecret(secret: Uint8Array): void {
  if (secret.byteLength < MIN_SECRET_BYTES) throw new Error(`an HS256 secret needs at least ${MIN_SECRET_BYTES} bytes`);
}

export async function signJwt(claims: Omit<JwtPayload, 'iss' | 'aud' | 'iat' | 'exp'>, options: SignOptions): Promise<string> {
  assertSecret(options.secret);
  const issuedAt = seconds(options.now);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + options.expiresInSeconds)
    .sign(options.secret);
}

/** jose's error classes, turned into the reason codes callers and logs use. */
function failureCode(error: unknown): JwtFailureCode {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'unsupported_algorithm';
  if (error instanceof errors.JWTClaimValidationFailed) return error.claim === 'nbf' || error.claim === 'iat' ? 'not_yet_valid' : error.claim === 'exp' ? 'malformed' : 'claim_mismatch';
  return 'malformed';
}

export async function verifyJwt(token: string, options: VerifyOptions): Promise<JwtPayload> {
  assertSecret(options.secret);
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new JwtInvalid('malformed', 'token is not a compact JWT');
  try {
    const { payload } = await jwtVerify(token, options.secret, {
      // The algorithm is ours, never the token's: `none` or RS/HS confusion is refused here.
      algorithms: ['HS256'],
      issuer: options.issuer,
      audience: options.audience,
      requiredClaims: ['exp'],
      currentDate: options.now,
      clockTolerance: options.clockToleranceSeconds ?? 0,
      typ: undefined,
    });
    if (payload.iat !== undefined && payload.iat > seconds(options.now) + (options.clockToleranceSeconds ?? 0)) {
      throw new JwtInvalid('not_yet_valid', 'token was issued in the future');
    }
    return payload as JwtPayload;
  } catch (error) {
    if (error instanceof JwtInvalid) throw error;
    throw new JwtInvalid(failureCode(error), error instanceof Error ? error.message : 'invalid token');
  }
}
