// Decoder of axon 1.0 frames, the wire format of Thalassa's event socket.
// Hand-written because the axon package is unmaintained (last release 2014)
// and we need only its subscriber side. A frame is 4 bytes, the first the
// codec/meta byte, the next 24 bits the big-endian body length, then the
// body. Meta 0 marks a multipart message whose body is itself a sequence of
// frames; meta 1 is a UTF-8 string, 2 JSON; anything else stays bytes.

const HEADER = 4;
/** Refuse frames larger than this (a registration is ~300 bytes): a garbage length must not make us buffer megabytes. */
export const MAX_FRAME = 8 * 1024 * 1024;

export class AxonDecoder {
  private buffer: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns every complete message (the parts of each). Throws on a frame over MAX_FRAME. */
  push(chunk: Buffer): unknown[][] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const messages: unknown[][] = [];
    for (;;) {
      if (this.buffer.length < HEADER) break;
      const meta = this.buffer[0] as number;
      const length = this.buffer.readUIntBE(1, 3);
      if (length > MAX_FRAME) throw new Error(`axon frame of ${length} bytes is over the limit`);
      if (this.buffer.length < HEADER + length) break;
      const body = this.buffer.subarray(HEADER, HEADER + length);
      this.buffer = this.buffer.subarray(HEADER + length);
      messages.push(meta === 0 ? decodeParts(body) : [decodeBody(meta, body)]);
    }
    return messages;
  }
}

function decodeBody(meta: number, body: Buffer): unknown {
  if (meta === 1) return body.toString('utf8');
  if (meta === 2) {
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      return body.toString('utf8');
    }
  }
  return Buffer.from(body);
}

function decodeParts(body: Buffer): unknown[] {
  const parts: unknown[] = [];
  let offset = 0;
  while (offset + HEADER <= body.length) {
    const meta = body[offset] as number;
    const length = body.readUIntBE(offset + 1, 3);
    const start = offset + HEADER;
    parts.push(decodeBody(meta, body.subarray(start, Math.min(start + length, body.length))));
    offset = start + length;
  }
  return parts;
}

/** Encodes a message as axon does (used by tests and the embedded registry's checks). */
export function encodeAxon(parts: readonly (string | Buffer)[]): Buffer {
  const frame = (meta: number, body: Buffer) => {
    const head = Buffer.alloc(HEADER);
    head[0] = meta;
    head.writeUIntBE(body.length, 1, 3);
    return Buffer.concat([head, body]);
  };
  const inner = parts.map((p) => (typeof p === 'string' ? frame(1, Buffer.from(p, 'utf8')) : frame(3, p)));
  return frame(0, Buffer.concat(inner));
}
