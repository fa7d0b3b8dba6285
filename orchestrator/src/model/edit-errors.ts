// Stable codes for rejected edit batches.

export type EditErrorCode =
  | 'EDIT_REVISION_CONFLICT'
  | 'EDIT_UNKNOWN_TASK'
  | 'EDIT_DUPLICATE_TASK'
  | 'EDIT_TASK_STARTED'
  | 'EDIT_CYCLE'
  | 'EDIT_UNKNOWN_REFERENCE'
  | 'EDIT_INVALID'
  | 'EDIT_TERMINAL';

export interface EditError {
  code: EditErrorCode;
  message: string;
  /** Index of the offending operation; -1 for the batch as a whole. */
  operationIndex: number;
  /** EDIT_CYCLE: the cycle, first task repeated at the end. */
  cycle?: string[];
}

/** Thrown inside an operation, caught by applyEdit. */
export class EditRejection extends Error {
  constructor(
    readonly code: EditErrorCode,
    message: string,
    readonly cycle?: string[],
  ) {
    super(message);
    this.name = 'EditRejection';
  }
}
