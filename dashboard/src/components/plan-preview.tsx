import { useDeferredValue, useMemo } from 'react';
import { parse } from 'yaml';
import type { DeviceView } from '../api/types.js';
import { DagView } from '../graph/dag-view.js';
import { previewConstellation } from '../graph/document-preview.js';

const NO_DEVICES: ReadonlyMap<string, DeviceView> = new Map();

/**
 * The graph in the editor drawn as a DAG, before it is submitted. It follows
 * the text as it is edited (YAML or JSON; the `yaml` parser reads both).
 */
export function PlanPreview({ source }: { source: string }) {
  // Typing stays responsive: the preview re-parses and re-lays out after the keystrokes.
  const text = useDeferredValue(source);
  const preview = useMemo(() => {
    try {
      return previewConstellation(parse(text));
    } catch (err) {
      return { error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
    }
  }, [text]);
  if ('error' in preview) {
    return (
      <div className="plan-preview empty" data-testid="plan-preview" data-state="error">
        Cannot draw this yet: {preview.error}
      </div>
    );
  }
  const count = Object.keys(preview.tasks).length;
  return (
    <div className="plan-preview" data-testid="plan-preview" data-state="ok" data-tasks={count}>
      <div className="plan-preview-head muted small">
        {preview.name}: {count} task{count === 1 ? '' : 's'}, {preview.dependencies.length} dependenc
        {preview.dependencies.length === 1 ? 'y' : 'ies'} (preview, not submitted)
      </div>
      <DagView constellation={preview} devices={NO_DEVICES} selectedTaskId={null} onSelectTask={() => {}} />
    </div>
  );
}
