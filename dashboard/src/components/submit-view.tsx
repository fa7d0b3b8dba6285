import { useRef, useState } from 'react';
import { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import type { Constellation, PlanResult } from '../api/types.js';
import { toYaml } from '../format/to-yaml.js';
import { usePermissions } from '../state/permissions.js';
import { PlanPreview } from './plan-preview.js';
import { ProblemBox } from './problem-box.js';
import { SourceEditor } from './source-editor.js';

type Format = 'yaml' | 'json';

export const EXAMPLE_GRAPH = `# A graph: tasks, their shell commands and what they need. Edit, then Submit.
name: hello-orrery
tasks:
  fetch:
    run: echo "fetching" && sleep 1 && echo done
  build:
    run: echo "building"
    needs: [fetch]
  test:
    run: echo "testing"
    needs: [build]
  report:
    run: echo "report, whatever happened to test"
    needs: { test: completion }
`;

export function detectFormat(source: string): Format {
  const first = source.trimStart()[0];
  return first === '{' || first === '[' ? 'json' : 'yaml';
}

/** Character offset of the start of a 1-based line. */
function lineOffset(text: string, line: number): [number, number] {
  let start = 0;
  for (let i = 1; i < line; i++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  return [start, end < 0 ? text.length : end];
}

export function SubmitView({ onSubmitted }: { onSubmitted: (c: Constellation) => void }) {
  const [source, setSource] = useState(EXAMPLE_GRAPH);
  const [formatChoice, setFormatChoice] = useState<'auto' | Format>('auto');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  // Counts answers, so the error box of a new attempt is told apart from the previous one.
  const [answers, setAnswers] = useState(0);
  // The text the shown error is about: its line markers stay only while the text is unchanged.
  const [errorSource, setErrorSource] = useState<string | null>(null);
  const [prompt, setPrompt] = useState('');
  const [planNote, setPlanNote] = useState<string | null>(null);
  const [planFormat, setPlanFormat] = useState<Format>('yaml');
  const [showPreview, setShowPreview] = useState(false);
  const [planWarnings, setPlanWarnings] = useState<string[]>([]);
  const textRef = useRef<HTMLTextAreaElement>(null);
  const perm = usePermissions();
  const format = formatChoice === 'auto' ? detectFormat(source) : formatChoice;

  const toError = (err: unknown) =>
    err instanceof ApiError
      ? err
      : new ApiError(0, {
          title: 'Error',
          detail: err instanceof Error ? err.message : String(err),
        });

  const submit = () => {
    if (!perm.canSteer) return;
    setBusy(true);
    setError(null);
    api
      .submit(source, format)
      .then(onSubmitted)
      .catch((err) => {
        setError(toError(err));
        setErrorSource(source);
      })
      .finally(() => {
        setBusy(false);
        setAnswers((n) => n + 1);
      });
  };

  const plan = () => {
    if (!prompt.trim() || !perm.canSteer) return;
    setBusy(true);
    setError(null);
    setPlanNote(null);
    setPlanWarnings([]);
    api
      .plan(prompt.trim())
      .then((res) => {
        setSource(planFormat === 'yaml' ? toYaml(res.graph) : `${JSON.stringify(res.graph, null, 2)}\n`);
        setFormatChoice('auto');
        setShowPreview(true);
        setPlanWarnings([...new Set(res.warnings ?? [])]);
        setPlanNote(`${describePlanner(res)} Review the graph and its preview, then submit.`);
      })
      .catch((err) => setError(toError(err)))
      .finally(() => setBusy(false));
  };

  const goToLine = (line: number) => {
    const el = textRef.current;
    if (!el) return;
    const [start, end] = lineOffset(source, line);
    el.focus();
    el.setSelectionRange(start, end);
    // Scroll the selected line into view (approximate: line height from computed style).
    const lh = Number.parseFloat(getComputedStyle(el).lineHeight) || 18;
    el.scrollTop = Math.max(0, (line - 3) * lh);
  };

  return (
    <main className="main page submit-page">
      <h1>Submit a constellation</h1>
      {perm.reason && (
        <div className="read-only-note muted" data-testid="submit-read-only">
          {perm.reason}
        </div>
      )}
      <div className="plan-row">
        <input
          type="text"
          value={prompt}
          placeholder="Plan from a sentence, e.g. “build the repo on linux, run tests on two devices, then package”"
          onChange={(e) => setPrompt(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') plan();
          }}
          data-testid="plan-input"
        />
        <select value={planFormat} onChange={(e) => setPlanFormat(e.target.value as Format)} title="Show the plan as">
          <option value="yaml">as YAML</option>
          <option value="json">as JSON</option>
        </select>
        <button
          type="button"
          disabled={busy || !perm.canSteer || !prompt.trim()}
          onClick={plan}
          data-testid="plan-button"
        >
          Plan
        </button>
      </div>
      {planNote && (
        <div className="note" data-testid="plan-note">
          {planNote}
        </div>
      )}
      {planWarnings.length > 0 && (
        <ul className="plan-warnings note" data-testid="plan-warnings">
          {planWarnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <div className={showPreview ? 'submit-split' : 'submit-single'}>
        <SourceEditor
          ref={textRef}
          value={source}
          onChange={setSource}
          onSubmitShortcut={submit}
          problems={error && errorSource === source ? error.items : []}
        />
        {showPreview && <PlanPreview source={source} />}
      </div>
      <div className="submit-row">
        <label>
          format{' '}
          <select
            value={formatChoice}
            onChange={(e) => setFormatChoice(e.target.value as 'auto' | Format)}
            data-testid="submit-format"
          >
            <option value="auto">auto ({detectFormat(source)})</option>
            <option value="yaml">YAML</option>
            <option value="json">JSON</option>
          </select>
        </label>
        <label className="small">
          <input
            type="checkbox"
            checked={showPreview}
            onChange={(e) => setShowPreview(e.target.checked)}
            data-testid="preview-toggle"
          />{' '}
          preview the DAG
        </label>
        <label className="small upload" title="Read a .yaml, .yml or .json file into the editor">
          open a file…{' '}
          <input
            type="file"
            accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml,text/plain"
            data-testid="submit-file"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (!file) return;
              file.text().then((text) => {
                setSource(text);
                setFormatChoice(/\.json$/i.test(file.name) ? 'json' : 'auto');
                setError(null);
              });
              e.target.value = '';
            }}
          />
        </label>
        <span className="muted small">Ctrl+Enter submits</span>
        <button
          type="button"
          className="primary"
          disabled={busy || !perm.canSteer || !source.trim()}
          title={perm.reason ?? undefined}
          onClick={submit}
          data-testid="submit-button"
        >
          Submit
        </button>
      </div>
      {error && <ProblemBox key={answers} error={error} onGoToLine={goToLine} seq={answers} />}
    </main>
  );
}

/** "Planned by …": the planner the server names (newer servers), else the older `source` field. */
export function describePlanner(res: PlanResult): string {
  const p = res.planner;
  if (p) {
    if (p.kind === 'llm') return `Planned by the language model${p.model ? ` ${p.model}` : ''}.`;
    return `Planned by the ${p.kind} planner${p.model ? ` (${p.model})` : ''}.`;
  }
  return `Planned by ${res.source === 'llm' ? 'the language model' : `the ${res.source} planner`}.`;
}
