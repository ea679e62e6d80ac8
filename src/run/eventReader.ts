// Reads a growing events.jsonl by byte offset, so a reader can stop and resume (or reconnect) without
// re-reading or losing a line. A trailing line without its newline is left for the next read.
import { parseEventLine, type HarnessEvent, type ProtocolProblem } from '../core/protocol';
import { readFileFrom } from './readFrom';

export interface ReadBatch {
  events: HarnessEvent[];
  problems: ProtocolProblem[];
}

/** Splits complete lines off a chunk of bytes; pure so the SSH reader can share it. */
export class EventLineDecoder {
  /** Bytes of the file consumed so far (complete lines only). */
  offset: number;
  private lineNumber: number;
  private pending = Buffer.alloc(0);

  constructor(offset = 0, lineNumber = 0) {
    this.offset = offset;
    this.lineNumber = lineNumber;
  }

  /** Bytes received after the last complete line, waiting for their newline. */
  get pendingLength(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): ReadBatch {
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const batch: ReadBatch = { events: [], problems: [] };
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
      const text = data.subarray(start, nl).toString('utf8').replace(/\r$/, '');
      this.offset += nl + 1 - start;
      start = nl + 1;
      this.lineNumber += 1;
      if (text.trim().length === 0) continue;
      const parsed = parseEventLine(text, this.lineNumber);
      if (parsed.ok) batch.events.push(parsed.event);
      else batch.problems.push(parsed.problem);
    }
    this.pending = Buffer.from(data.subarray(start));
    return batch;
  }
}

export class EventFileReader {
  private readonly decoder: EventLineDecoder;

  constructor(private readonly path: string) {
    this.decoder = new EventLineDecoder();
  }

  get offset(): number {
    return this.decoder.offset;
  }

  /** Reads everything appended since the last call; a missing file reads as nothing yet. */
  async readNew(): Promise<ReadBatch> {
    // Start after what was consumed plus what is pending in the decoder.
    return this.decoder.push(await readFileFrom(this.path, this.decoder.offset + this.decoder.pendingLength));
  }
}
