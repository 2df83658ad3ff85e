import { CaptureError } from './errors.ts';

// lz-string's compressToBase64 alphabet; '=' is padding and carries six zero bits, as in the library.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';
const SIX_BITS = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SIX_BITS[ALPHABET.charCodeAt(i)] = i === 64 ? 0 : i;

/** Reads the 6-bit groups of a base64 string most-significant bit first, as lz-string packs them. */
class BitReader {
  private index = 0;
  private value = 0;
  private mask = 0;

  constructor(private readonly input: string) {}

  /** True once every bit of the input has been consumed. */
  get exhausted(): boolean {
    return this.mask === 0 && this.index >= this.input.length;
  }

  /** Reads `count` bits, least significant first; reading past the end yields zero bits like the library. */
  read(count: number): number {
    let bits = 0;
    for (let power = 1, n = 0; n < count; n++, power *= 2) {
      if (this.mask === 0) this.load();
      if (this.value & this.mask) bits += power;
      this.mask >>= 1;
    }
    return bits;
  }

  private load(): void {
    if (this.index >= this.input.length) {
      this.value = 0;
    } else {
      const code = this.input.charCodeAt(this.index);
      const six = code < 128 ? SIX_BITS[code]! : -1;
      if (six < 0) throw new CaptureError('invalid_payload', `lz64 payload has a character outside base64 at ${this.index}`);
      this.value = six;
    }
    this.index++;
    this.mask = 32;
  }
}

function malformed(why: string): CaptureError {
  return new CaptureError('invalid_payload', `malformed lz64 payload: ${why}`);
}

/**
 * Decodes lz-string's `compressToBase64` output, refusing as soon as the output would pass `maxChars`
 * UTF-16 code units. Each code can emit one character more than the previous longest phrase, so a few
 * kilobytes of input can describe gigabytes of output; the library's own decoder would build all of it.
 */
export function decompressLzBase64(input: string, maxChars: number): string {
  if (input.length === 0) throw malformed('empty input');
  const reader = new BitReader(input);
  // Entries 0..2 are the literal-8, literal-16 and end markers; phrases start at 3.
  const dictionary: string[] = [];
  // First code unit of each phrase, kept apart so extending a phrase never flattens a long string.
  const firstUnits: number[] = [];
  let dictSize = 4;
  let numBits = 3;
  let enlargeIn = 4;

  const literal = (width: number): string => String.fromCharCode(reader.read(width));
  const head = reader.read(2);
  if (head === 2) return '';
  if (head > 2) throw malformed('unknown first code');
  const first = literal(head === 0 ? 8 : 16);
  if (maxChars < 1) throw tooLarge(maxChars);
  dictionary[3] = first;
  firstUnits[3] = first.charCodeAt(0);

  const output: string[] = [first];
  let outputLength = 1;
  let previous = first;
  let previousFirst = first.charCodeAt(0);

  for (;;) {
    if (reader.exhausted) throw malformed('input ended without an end marker');
    let code = reader.read(numBits);
    if (code === 2) return output.join('');
    if (code < 2) {
      const unit = literal(code === 0 ? 8 : 16);
      code = dictSize++;
      dictionary[code] = unit;
      firstUnits[code] = unit.charCodeAt(0);
      enlargeIn--;
    }
    if (enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }

    let entry: string;
    let entryFirst: number;
    if (code < dictSize && dictionary[code] !== undefined) {
      entry = dictionary[code]!;
      entryFirst = firstUnits[code]!;
    } else if (code === dictSize) {
      // The phrase being defined by this very code: previous phrase plus its own first unit.
      entry = previous + String.fromCharCode(previousFirst);
      entryFirst = previousFirst;
    } else {
      throw malformed(`reference to unknown phrase ${code}`);
    }

    outputLength += entry.length;
    if (outputLength > maxChars) throw tooLarge(maxChars);
    output.push(entry);

    dictionary[dictSize] = previous + String.fromCharCode(entryFirst);
    firstUnits[dictSize] = previousFirst;
    dictSize++;
    enlargeIn--;
    previous = entry;
    previousFirst = entryFirst;

    if (enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
  }
}

function tooLarge(maxChars: number): CaptureError {
  return new CaptureError('payload_too_large', `decompressed lz64 payload exceeds ${maxChars} characters`);
}
