// Typed scheduler errors with stable codes (callers switch on `code`).

export type SchedulerErrorCode =
  | 'SCHED_ALREADY_PLACED'
  | 'SCHED_UNKNOWN_DEVICE'
  | 'SCHED_BAD_DEVICE'
  | 'SCHED_BAD_TASK';

export class SchedulerError extends Error {
  readonly code: SchedulerErrorCode;
  constructor(code: SchedulerErrorCode, message: string) {
    super(message);
    this.name = 'SchedulerError';
    this.code = code;
  }
}
