// Compiled (not run) by test/unit/types.test.mjs: what a portal written in TypeScript
// writes against the published declarations must type-check, and misuse must not.
import { InkanClient, InkanError, isInkanError, type Card, type InkanEvent, type Signature } from '../../dist/index.js';

export async function portal(pin: string): Promise<void> {
  const inkan = new InkanClient({ port: 24713 });
  const cards: Card[] = await inkan.cards();
  const card = cards[0];
  if (!card) return;
  // A certificate the card shows only after a PIN (readable: false) has no subject yet.
  const first = card.certificates[0];
  const name: string | null | undefined = first?.readable ? first.registry?.corporateName : undefined;
  const lockedUntil: string | undefined = first && !first.readable ? first.readAfterPin : undefined;
  void name; void lockedUntil;
  // null: the token does not tell (a PKCS#11 token outside its final try), never a guess.
  const tries: number | null = card.pin.triesLeft;
  void tries;
  for (const p of await inkan.pins(card.id)) {
    const canUnblock: boolean = p.unblockable;
    const alphabet: 'digits' | 'upper-alphanumeric' | 'any' = p.format.alphabet;
    void canUnblock; void alphabet;
  }
  const signPin = await inkan.pin(card.id, 'sign');
  const max: number | null = signPin.maxTries;
  void max;
  await inkan.verifyPin(card.id, pin, { pinId: 'auth' });
  const signing: string = card.signingCertificate;
  void signing;

  const details = await inkan.certificate(card.id, 'sign');
  const der: Uint8Array = details.derBytes;
  void der;

  try {
    const result: Signature = await inkan.sign(card.id, { data: 'text', digestAlgorithm: 'SHA-384', pin });
    const bytes: Uint8Array = result.signature;
    const base64: string = result.certificateBase64;
    void bytes; void base64;
  } catch (error) {
    if (isInkanError(error, 'PIN_INCORRECT')) {
      const left: number | undefined = error.triesLeft;
      void left;
    }
    if (error instanceof InkanError && error.code === 'ORIGIN_NOT_PAIRED') {
      await inkan.pair({ onCode: ({ code }) => console.log(code) });
    }
  }

  const validation = await inkan.validate(card.id, 'sign', { at: new Date() });
  const verdict: 'valid' | 'invalid' | 'revoked' | 'suspended' | 'unknown' = validation.verdict;
  void verdict;

  for await (const event of inkan.events()) {
    handle(event);
  }
}

function handle(event: InkanEvent): void {
  switch (event.type) {
    case 'card-removed': {
      const reader: string = event.data.reader;
      void reader;
      break;
    }
    case 'pin-status': {
      const left: number = event.data.triesLeft;
      void left;
      break;
    }
    case 'reset':
      break;
    default:
      break;
  }
}

export async function misuse(inkan: InkanClient): Promise<void> {
  // @ts-expect-error: only SHA-256/384/512 exist
  await inkan.sign('c', { data: 'x', digestAlgorithm: 'SHA-1' });
  // @ts-expect-error: a PIN is a string
  await inkan.sign('c', { data: 'x', pin: 1234 });
  // @ts-expect-error: the PIN is named by its id, a string
  await inkan.verifyPin('c', '1234', { pinId: 2 });
  // @ts-expect-error: not a code of inkand's or the SDK's
  isInkanError(null, 'NO_SUCH_CODE');
}
