// @inkan/client: the browser (and Node.js) SDK of inkand, the local signing agent
// for Japanese corporate IC cards. No dependencies; an ES module.
//
//   import { InkanClient, InkanError } from '@inkan/client';
//   const inkan = new InkanClient();
//   const [card] = await inkan.cards();
//   const { signature, certificate } = await inkan.sign(card.id, { data: 'text', pin });

export {
  InkanClient,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DIGEST_LENGTHS,
  type CallOptions,
  type CertificateDetails,
  type DigestAlgorithm,
  type DocumentFormat,
  type DocumentSignature,
  type InkanClientOptions,
  type PairOptions,
  type SignDocumentOptions,
  type PinOptions,
  type RequestMethod,
  type RequestOptions,
  type SignOptions,
  type Signature,
  type ValidateOptions,
} from './client.js';
export {
  InkanError,
  isInkanError,
  isProblemCode,
  CLIENT_ERROR_CODES,
  type ClientErrorCode,
  type InkanErrorCode,
  type ProblemDetails,
} from './errors.js';
export type { EventsOptions, EventStreamState, InkanEvent, InkanEventMap, InkanEventType } from './events.js';
export { toBase64, fromBase64, toHex, type Bytes } from './bytes.js';
export { SseParser, type ServerSentEvent } from './sse.js';
export * from './generated/openapi.js';
