// Evaluation of parsed conditions. Values are strings (outputs, statuses,
// inputs), numbers, booleans or null (a reference with no value yet).
// Comparisons are numeric when both sides read as finite numbers, otherwise
// string comparisons; ordering against null is false.

import { type ConditionNode, parseCondition } from './condition-parse.js';
import { lookupReference, type TemplateContext } from './template.js';

type Value = string | number | boolean | null;

function evalValue(node: ConditionNode, ctx: TemplateContext): Value {
  switch (node.type) {
    case 'literal':
      return node.value;
    case 'ref':
      return lookupReference(node.ref, ctx) ?? null;
    case 'not':
      return !truthy(evalValue(node.operand, ctx));
    case 'and':
      return truthy(evalValue(node.left, ctx)) && truthy(evalValue(node.right, ctx));
    case 'or':
      return truthy(evalValue(node.left, ctx)) || truthy(evalValue(node.right, ctx));
    case 'compare':
      return compare(node.op, evalValue(node.left, ctx), evalValue(node.right, ctx));
  }
}

/** false, null, 0, NaN, "", "false" and "0" are false; everything else true. */
export function truthy(v: Value): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  const s = v.trim();
  return s !== '' && s !== 'false' && s !== '0';
}

function asNumber(v: Value): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function asString(v: Exclude<Value, null>): string {
  return typeof v === 'string' ? v : String(v);
}

function compare(op: string, a: Value, b: Value): boolean {
  if (a === null || b === null) {
    if (op === '==') return a === b;
    if (op === '!=') return a !== b;
    return false;
  }
  const na = asNumber(a);
  const nb = asNumber(b);
  let cmp: number;
  if (na !== null && nb !== null) cmp = na === nb ? 0 : na < nb ? -1 : 1;
  else {
    const sa = asString(a);
    const sb = asString(b);
    cmp = sa === sb ? 0 : sa < sb ? -1 : 1;
  }
  switch (op) {
    case '==':
      return cmp === 0;
    case '!=':
      return cmp !== 0;
    case '<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    default:
      return cmp >= 0;
  }
}

/** Evaluate a parsed condition to a boolean. */
export function evaluateConditionNode(node: ConditionNode, ctx: TemplateContext): boolean {
  return truthy(evalValue(node, ctx));
}

const cache = new Map<string, ConditionNode>();
const CACHE_LIMIT = 1000;

/** Parse (cached) and evaluate a condition; throws ConditionSyntaxError. */
export function evaluateCondition(src: string, ctx: TemplateContext): boolean {
  let node = cache.get(src);
  if (!node) {
    node = parseCondition(src);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(src, node);
  }
  return evaluateConditionNode(node, ctx);
}
