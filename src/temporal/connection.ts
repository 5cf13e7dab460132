import { readFile } from 'node:fs/promises';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { temporalAddress, type Config } from '../config';
import { defaultDeadlineInterceptor } from './call-deadline';
import { deadlineBoundedRetryInterceptor } from './deadline-retry';

/** Address, TLS and API key from config: the same code reaches the dev server, a cluster or Temporal Cloud. */
async function connectionSettings(config: Config) {
  const { TEMPORAL_TLS_CERT_PATH: certPath, TEMPORAL_TLS_KEY_PATH: keyPath, TEMPORAL_TLS_CA_PATH: caPath } = config;
  const tlsWanted = config.TEMPORAL_TLS || Boolean(certPath) || Boolean(config.TEMPORAL_API_KEY);
  const tls = tlsWanted
    ? {
        serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME,
        serverRootCACertificate: caPath ? await readFile(caPath) : undefined,
        clientCertPair: certPath && keyPath ? { crt: await readFile(certPath), key: await readFile(keyPath) } : undefined,
      }
    : undefined;
  return { address: temporalAddress(config), tls, apiKey: config.TEMPORAL_API_KEY };
}

/**
 * The process's one client. Every call has a deadline: the request's own when an HTTP request makes it, the request
 * budget otherwise (long polls excepted); the SDK's retries of UNAVAILABLE stop before it instead of going on for ~20 s.
 */
export async function connectClient(config: Config): Promise<Client> {
  const settings = await connectionSettings(config);
  const interceptors = [defaultDeadlineInterceptor(config.REQUEST_DEADLINE_SECONDS * 1000), deadlineBoundedRetryInterceptor()];
  const connection = await Connection.connect({ ...settings, interceptors } satisfies ConnectionOptions);
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  const settings = await connectionSettings(config);
  return NativeConnection.connect(settings satisfies NativeConnectionOptions);
}
