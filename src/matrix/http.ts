/**
 * matrix-js-sdk's HTTP layer on its own: `MatrixHttpApi` (auth, prefixes, JSON, `MatrixError` mapping) without
 * `createClient`, whose import pulls in the whole client (stores, crypto glue, models) for about 34 MB more
 * resident memory than we use. Both the appservice API and the sync reader stand on this, with our keep-alive
 * node:http `fetchFn` (src/matrix/fetch.ts).
 */
import {
  ClientPrefix,
  ConnectionError,
  MatrixError,
  MatrixHttpApi,
  Method,
  type HttpApiEvent,
  type HttpApiEventHandlerMap,
} from 'matrix-js-sdk/lib/http-api/index.js';
import type { IRequestOpts } from 'matrix-js-sdk/lib/http-api/interface.js';
import { logger as sdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { TypedEventEmitter } from 'matrix-js-sdk/lib/models/typed-event-emitter.js';
import { sdkFetch } from './fetch.ts';

export { ClientPrefix, ConnectionError, MatrixError, Method, type IRequestOpts };

let sdkQuiet = false;

export type SdkHttp = MatrixHttpApi<{
  baseUrl: string;
  prefix: string;
  onlyData: true;
  accessToken: string;
  fetchFn: typeof globalThis.fetch;
}>;

/** An authenticated C-S HTTP client (`/_matrix/client/v3` by default; `authedRequest` takes a `prefix`). */
export function createHttp(baseUrl: string, accessToken: string): SdkHttp {
  if (!sdkQuiet) {
    // The SDK logs every request at debug/info through loglevel; our own logs say what matters.
    (sdkLogger as unknown as { setLevel(level: string): void }).setLevel('warn');
    sdkQuiet = true;
  }
  return new MatrixHttpApi(new TypedEventEmitter<HttpApiEvent, HttpApiEventHandlerMap>(), {
    baseUrl: baseUrl.replace(/\/$/, ''),
    prefix: ClientPrefix.V3,
    onlyData: true,
    accessToken,
    fetchFn: sdkFetch,
  });
}
