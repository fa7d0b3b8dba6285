// Public API of the constellation model: pure data plus functions that apply
// transitions and edits in place (single writer) and report what changed.

export * from './types.js';
export { backoffDelay, DEFAULT_RETRY_POLICY } from './backoff.js';
export { evaluateCondition, evaluateConditionNode, truthy } from './condition-eval.js';
export {
  type CompareOp,
  type ConditionNode,
  ConditionSyntaxError,
  conditionReferences,
  parseCondition,
} from './condition-parse.js';
export {
  cancelConstellation,
  type ConstellationMeta,
  createConstellation,
  pauseConstellation,
  resumeConstellation,
} from './constellation.js';
export {
  buildIndex,
  type DependencyIndex,
  dropIndex,
  indexOf,
  isTerminal,
  type TaskLinks,
} from './dependency-index.js';
export { applyEdit, type EditOptions, type EditResult, invertEdit } from './edit-apply.js';
export type { EditError, EditErrorCode } from './edit-errors.js';
export { checkInvariants } from './invariants.js';
export type { VisitCounter } from './mutation.js';
export { type EdgeVerdict, edgeVerdict } from './propagate.js';
export {
  checkReference,
  conditionRefs,
  type FieldReference,
  isAncestor,
  type RefGraph,
  taskTemplateReferences,
  templateFields,
} from './references.js';
export { TASK_ID_PATTERN, taskSpecProblem } from './task-spec-check.js';
export {
  formatReference,
  listReferences,
  lookupReference,
  parseReferencePath,
  type Reference,
  resolveTemplate,
  scanTemplate,
  type TemplateContext,
  TemplateError,
} from './template.js';
export {
  assignTask,
  completeTask,
  countedFailures,
  reportProgress,
  startTask,
  type TaskResult,
  type TransitionErrorCode,
  type TransitionResult,
} from './transitions.js';
export { resolveTaskForDispatch } from './dispatch-view.js';
