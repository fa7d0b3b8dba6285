// What one attempt's output may cost: bytes forwarded to the orchestrator as
// log chunks (one note at the first byte dropped) and stdout kept in memory
// for `stdout` outputs. Shared by the shell executor and the runner of the
// other kinds, so both cut output at the same limits the same way.

export type OutputStream = 'STDOUT' | 'STDERR';

export interface OutputBudgetHooks {
  onOutput?(stream: OutputStream, data: Buffer, offset: number): void;
  note(text: string): void;
}

export class OutputBudget {
  /** Bytes produced per stream, forwarded or not (reported in the Result). */
  readonly bytes = { STDOUT: 0, STDERR: 0 };
  private forwarded = 0;
  private truncatedNoted = false;
  private captured: Buffer[] = [];
  private capturedBytes = 0;
  private overflow = false;

  constructor(
    readonly maxForwardBytes: number,
    readonly maxCaptureBytes: number,
    private readonly hooks: OutputBudgetHooks,
  ) {}

  /** Counts a chunk and forwards what still fits under the forward cap. */
  forward(stream: OutputStream, data: Buffer): void {
    const offset = this.bytes[stream];
    this.bytes[stream] += data.length;
    const room = this.maxForwardBytes - this.forwarded;
    const slice = data.length <= room ? data : data.subarray(0, Math.max(0, room));
    if (slice.length > 0) {
      this.forwarded += slice.length;
      this.hooks.onOutput?.(stream, slice, offset);
    }
    // Noted on the first byte dropped, whether or not a chunk filled the cap exactly.
    if (slice.length < data.length && !this.truncatedNoted) {
      this.truncatedNoted = true;
      this.hooks.note(
        `output truncated: ${this.maxForwardBytes} bytes forwarded, the rest of this attempt's output is dropped`,
      );
    }
  }

  /** Keeps stdout for outputs; past the capture cap nothing more is kept and the capture is marked truncated. */
  capture(data: Buffer): void {
    if (this.overflow) return;
    if (data.length > this.maxCaptureBytes - this.capturedBytes) {
      this.overflow = true;
      return;
    }
    this.captured.push(data);
    this.capturedBytes += data.length;
  }

  /** The captured stdout, once; the buffers are released. */
  takeStdout(): { text: string; truncated: boolean } {
    const text = Buffer.concat(this.captured).toString('utf8');
    this.captured = [];
    return { text, truncated: this.overflow };
  }
}
