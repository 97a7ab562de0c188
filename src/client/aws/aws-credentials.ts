/**
 * Where AWS credentials come from when signing: given outright, from a provider function
 * (temporary credentials that rotate: the provider is asked before every request and caches
 * as it sees fit), or, by default, the AWS SDKs' environment variables `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, read when a request is signed.
 */
import { AwsSigV4Error } from './aws-sigv4-error.js';
import type { AwsCredentials } from './sigv4-signer.js';

/** Credentials, or a function giving them (possibly async). */
export type AwsCredentialsSource = AwsCredentials | (() => AwsCredentials | Promise<AwsCredentials>);

/** The credentials of `env` (default `process.env`); throws `AVX_SIGV4_NO_CREDENTIALS` without them. */
export function awsCredentialsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new AwsSigV4Error(
      'AVX_SIGV4_NO_CREDENTIALS',
      'no AWS credentials: pass `credentials`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    );
  }
  const sessionToken = env.AWS_SESSION_TOKEN;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

/** The credentials `source` gives (the environment's when undefined), checked. */
export async function resolveAwsCredentials(
  source: AwsCredentialsSource | undefined,
): Promise<AwsCredentials> {
  let credentials: AwsCredentials;
  if (source === undefined) return awsCredentialsFromEnv();
  if (typeof source === 'function') {
    try {
      credentials = await source();
    } catch (err) {
      throw new AwsSigV4Error('AVX_SIGV4_BAD_CREDENTIALS', 'the AWS credentials provider failed', {
        cause: err,
      });
    }
  } else {
    credentials = source;
  }
  if (
    credentials === null ||
    typeof credentials !== 'object' ||
    typeof credentials.accessKeyId !== 'string' ||
    credentials.accessKeyId === '' ||
    typeof credentials.secretAccessKey !== 'string' ||
    credentials.secretAccessKey === ''
  ) {
    throw new AwsSigV4Error(
      'AVX_SIGV4_BAD_CREDENTIALS',
      'AWS credentials need a non-empty accessKeyId and secretAccessKey',
    );
  }
  return credentials;
}
