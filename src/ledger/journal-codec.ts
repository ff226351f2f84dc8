/**
 * Canonical binary encoding of ledger commands: the body of a journal batch. The field order is
 * fixed and every field has a fixed width or an explicit length, so the same commands always give
 * the same bytes; the journal's hash chain is computed over these bytes (STYLE 16).
 *
 * Layout (big-endian): tag u8, then per tag
 *   1 create_asset       str code, u8 scale, u8 flags(2=linked)
 *   2 create_account     str id, str asset, u8 flags(1=allowNegative, 2=linked, 4=hasMaxBalance), [i64 maxBalance]
 *   3 create_transfer    str id, str debit, str credit, i64 amount, u8 flags(1=pending, 2=linked),
 *                        u32 timeoutSeconds, u16 code, str reference
 *   4 post_pending       str pendingId, u8 flags(2=linked, 4=hasAmount), [i64 amount]
 *   5 void_pending       str pendingId, u8 flags(2=linked)
 *   6 set_account_status str id, u8 status(0 active, 1 frozen, 2 closed), u8 flags(2=linked)
 * where str is u16 byte length followed by UTF-8 bytes. Tags 16 to 255 belong to the ledger's
 * extension (the platform), which writes its own fields with the same primitives.
 *
 * Hand-written because no library gives a fixed-layout, allocation-light encoding of exactly
 * these records; general serialisers (JSON, CBOR, protobuf) either are not canonical or would
 * need a schema toolchain for six record types.
 */
import type { AccountStatus, AnyCommand, Command, JournalReader, JournalWriter, LedgerExtension } from './types.ts';

export class JournalCodecError extends Error {
  override readonly name = 'JournalCodecError';
}

const flagPending = 1;
const flagAllowNegative = 1;
const flagLinked = 2;
const flagHasValue = 4;
const statuses: readonly AccountStatus[] = ['active', 'frozen', 'closed'];
const safeIntegerMax = BigInt(Number.MAX_SAFE_INTEGER);

export const extensionTagMin = 16;

export class JournalEncoder implements JournalWriter {
  private buffer: Buffer;
  private offset = 0;

  constructor(
    private readonly extension: LedgerExtension | null = null,
    initialBytes = 64 * 1024,
  ) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.offset;
  }

  /** Forget everything written after `length` (used to drop a failed linked chain). */
  truncate(length: number): void {
    this.offset = length;
  }

  reset(): void {
    this.offset = 0;
  }

  /** A copy of the bytes written so far. */
  bytes(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buffer, 0, this.offset);
  }

  write(command: AnyCommand): void {
    const linked = command.linked === true ? flagLinked : 0;
    switch (command.kind) {
      case 'create_asset':
        this.u8(1);
        this.str(command.code);
        this.u8(command.scale);
        this.u8(linked);
        return;
      case 'create_account':
        this.u8(2);
        this.str(command.id);
        this.str(command.asset);
        this.u8((command.allowNegative ? flagAllowNegative : 0) | linked | (command.maxBalance === null ? 0 : flagHasValue));
        if (command.maxBalance !== null) this.i64(command.maxBalance);
        return;
      case 'create_transfer':
        this.u8(3);
        this.str(command.id);
        this.str(command.debit);
        this.str(command.credit);
        this.i64(command.amount);
        this.u8((command.pending ? flagPending : 0) | linked);
        this.u32(command.timeoutSeconds);
        this.u16(command.code);
        this.str(command.reference);
        return;
      case 'post_pending':
        this.u8(4);
        this.str(command.pendingId);
        this.u8(linked | (command.amount === null ? 0 : flagHasValue));
        if (command.amount !== null) this.i64(command.amount);
        return;
      case 'void_pending':
        this.u8(5);
        this.str(command.pendingId);
        this.u8(linked);
        return;
      case 'set_account_status':
        this.u8(6);
        this.str(command.id);
        this.u8(statuses.indexOf(command.status));
        this.u8(linked);
        return;
      default:
        if (this.extension === null) throw new JournalCodecError(`no extension to encode ${command.kind}`);
        this.extension.encode(command, this);
    }
  }

  private reserve(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.offset + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buffer.copy(next, 0, 0, this.offset);
    this.buffer = next;
  }

  u8(value: number): void {
    if (!(value >= 0 && value <= 0xff && Number.isInteger(value))) throw new JournalCodecError(`not a byte: ${value}`);
    this.reserve(1);
    this.buffer[this.offset++] = value;
  }

  // The writers below set bytes directly instead of calling Buffer's write methods: the encoder
  // runs for every command on the sequencer thread, and this measured about a quarter faster.
  u16(value: number): void {
    this.reserve(2);
    const buffer = this.buffer;
    const offset = this.offset;
    buffer[offset] = value >>> 8;
    buffer[offset + 1] = value & 0xff;
    this.offset = offset + 2;
  }

  u32(value: number): void {
    if (value >>> 0 !== value) throw new JournalCodecError(`not a 32-bit unsigned integer: ${value}`);
    this.reserve(4);
    const buffer = this.buffer;
    const offset = this.offset;
    buffer[offset] = value >>> 24;
    buffer[offset + 1] = (value >>> 16) & 0xff;
    buffer[offset + 2] = (value >>> 8) & 0xff;
    buffer[offset + 3] = value & 0xff;
    this.offset = offset + 4;
  }

  uint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new JournalCodecError(`not a non-negative safe integer: ${value}`);
    this.u32(Math.floor(value / 4294967296));
    this.u32(value >>> 0);
  }

  i64(value: bigint): void {
    if (value >= 0n && value <= safeIntegerMax) {
      // Non-negative safe integers (nearly every amount) as two 32-bit halves, without BigInt
      // arithmetic; the bytes are the same as writeBigInt64BE's.
      const number = Number(value);
      this.u32(Math.floor(number / 4294967296));
      this.u32(number >>> 0);
      return;
    }
    this.reserve(8);
    this.buffer.writeBigInt64BE(value, this.offset);
    this.offset += 8;
  }

  str(value: string): void {
    const length = value.length;
    if (length <= 255) {
      // ASCII fast path: one byte per character, copied directly.
      this.reserve(2 + length);
      const buffer = this.buffer;
      const start = this.offset + 2;
      let i = 0;
      for (; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buffer[start + i] = c;
      }
      if (i === length) {
        buffer[start - 2] = length >>> 8;
        buffer[start - 1] = length & 0xff;
        this.offset = start + length;
        return;
      }
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > 0xffff) throw new JournalCodecError('string longer than 65535 bytes');
    this.reserve(2 + bytes);
    this.buffer.writeUInt16BE(bytes, this.offset);
    this.buffer.write(value, this.offset + 2, bytes, 'utf8');
    this.offset += 2 + bytes;
  }
}

export function encodeCommands(commands: readonly AnyCommand[], extension: LedgerExtension | null = null): Uint8Array {
  const encoder = new JournalEncoder(extension);
  for (const command of commands) encoder.write(command);
  return encoder.bytes();
}

/** Decodes a journal body. Throws `JournalCodecError` on any malformed input, never anything else. */
export function decodeCommands(bytes: Uint8Array): Command[];
export function decodeCommands(bytes: Uint8Array, extension: LedgerExtension | null): AnyCommand[];
export function decodeCommands(bytes: Uint8Array, extension: LedgerExtension | null = null): AnyCommand[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  const need = (count: number): void => {
    if (offset + count > buffer.length) throw new JournalCodecError(`truncated at byte ${offset}`);
  };
  const u8 = (): number => {
    need(1);
    return buffer[offset++]!;
  };
  const u16 = (): number => {
    need(2);
    const value = buffer.readUInt16BE(offset);
    offset += 2;
    return value;
  };
  const u32 = (): number => {
    need(4);
    const value = buffer.readUInt32BE(offset);
    offset += 4;
    return value;
  };
  const i64 = (): bigint => {
    need(8);
    const value = buffer.readBigInt64BE(offset);
    offset += 8;
    return value;
  };
  const str = (): string => {
    const length = u16();
    need(length);
    const value = buffer.toString('utf8', offset, offset + length);
    offset += length;
    return value;
  };
  const uint = (): number => {
    const high = u32();
    const low = u32();
    if (high > 0x1fffff) throw new JournalCodecError(`integer beyond 2^53 at byte ${offset - 8}`);
    return high * 4294967296 + low;
  };
  const reader: JournalReader = { u8, u32, i64, uint, str };
  const flags = (allowed: number): number => {
    const value = u8();
    if ((value & ~allowed) !== 0) throw new JournalCodecError(`unknown flags ${value} at byte ${offset - 1}`);
    return value;
  };

  const commands: AnyCommand[] = [];
  while (offset < buffer.length) {
    const tag = u8();
    switch (tag) {
      case 1: {
        const code = str();
        const scale = u8();
        const f = flags(flagLinked);
        commands.push({ kind: 'create_asset', code, scale, linked: (f & flagLinked) !== 0 });
        break;
      }
      case 2: {
        const id = str();
        const asset = str();
        const f = flags(flagAllowNegative | flagLinked | flagHasValue);
        const maxBalance = (f & flagHasValue) !== 0 ? i64() : null;
        commands.push({
          kind: 'create_account',
          id,
          asset,
          allowNegative: (f & flagAllowNegative) !== 0,
          maxBalance,
          linked: (f & flagLinked) !== 0,
        });
        break;
      }
      case 3: {
        const id = str();
        const debit = str();
        const credit = str();
        const amount = i64();
        const f = flags(flagPending | flagLinked);
        const timeoutSeconds = u32();
        const code = u16();
        const reference = str();
        commands.push({
          kind: 'create_transfer',
          id,
          debit,
          credit,
          amount,
          pending: (f & flagPending) !== 0,
          timeoutSeconds,
          code,
          reference,
          linked: (f & flagLinked) !== 0,
        });
        break;
      }
      case 4: {
        const pendingId = str();
        const f = flags(flagLinked | flagHasValue);
        const amount = (f & flagHasValue) !== 0 ? i64() : null;
        commands.push({ kind: 'post_pending', pendingId, amount, linked: (f & flagLinked) !== 0 });
        break;
      }
      case 5: {
        const pendingId = str();
        const f = flags(flagLinked);
        commands.push({ kind: 'void_pending', pendingId, linked: (f & flagLinked) !== 0 });
        break;
      }
      case 6: {
        const id = str();
        const status = statuses[u8()];
        if (status === undefined) throw new JournalCodecError(`unknown account status at byte ${offset - 1}`);
        const f = flags(flagLinked);
        commands.push({ kind: 'set_account_status', id, status, linked: (f & flagLinked) !== 0 });
        break;
      }
      default:
        if (tag < extensionTagMin || extension === null) throw new JournalCodecError(`unknown record tag ${tag} at byte ${offset - 1}`);
        commands.push(extension.decode(tag, reader));
    }
  }
  return commands;
}
