// z-base-32 (Zooko's human-oriented base 32, https://philzimmermann.com/docs/human-oriented-base-32-encoding.txt),
// the text form of Lightning message signatures. Bits are taken most significant first, five at a
// time; the last group is padded with zero bits and there is no '=' padding.
const ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';
const VALUES = new Map([...ALPHABET].map((c, i) => [c, i]));

export function zbase32Encode(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

/** Decodes z-base-32 (case-insensitive, like LND and LDK); undefined for any character outside the alphabet. */
export function zbase32Decode(text: string): Uint8Array | undefined {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const c of text.toLowerCase()) {
    const v = VALUES.get(c);
    if (v === undefined) return undefined;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
    acc &= (1 << bits) - 1;
  }
  return Uint8Array.from(out);
}
