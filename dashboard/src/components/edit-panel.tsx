import { useState } from 'react';
import { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import type { Constellation, DependencyKind, EditOperation } from '../api/types.js';
import {
  type AddDependencyForm,
  type AddTaskForm,
  addDependencyOperation,
  addTaskOperation,
  EMPTY_ADD_DEPENDENCY,
  EMPTY_ADD_TASK,
} from '../state/edit-forms.js';
import { ProblemBox } from './problem-box.js';

interface Props {
  constellation: Constellation;
  onChanged: (c: Constellation) => void;
  onClose: () => void;
}

const KINDS: DependencyKind[] = ['success', 'completion', 'failure', 'condition'];

/**
 * Add a task or a dependency to a running constellation through the edit API,
 * with the revision on screen. A refusal (a cycle, an unknown task, a stale
 * revision...) is shown with the server's code, message and operation path.
 */
export function EditPanel({ constellation, onChanged, onClose }: Props) {
  const [task, setTask] = useState<AddTaskForm>(EMPTY_ADD_TASK);
  const [dep, setDep] = useState<AddDependencyForm>(EMPTY_ADD_DEPENDENCY);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [answers, setAnswers] = useState(0);
  const taskIds = Object.keys(constellation.tasks).sort();

  const send = (operation: EditOperation, what: string, reset: () => void) => {
    setBusy(true);
    setError(null);
    setDone(null);
    api
      .edit(constellation.id, { revision: constellation.revision, operations: [operation], comment: what })
      .then((c) => {
        onChanged(c);
        reset();
        setDone(`${what}: accepted as revision ${c.revision}`);
      })
      .catch((err: unknown) =>
        setError(
          err instanceof ApiError ? err : new ApiError(0, { title: err instanceof Error ? err.message : String(err) }),
        ),
      )
      .finally(() => {
        setBusy(false);
        setAnswers((n) => n + 1);
      });
  };

  const setT = (field: keyof AddTaskForm) => (e: { target: { value: string } }) =>
    setTask((f) => ({ ...f, [field]: e.target.value }));
  const setD = (field: keyof AddDependencyForm) => (e: { target: { value: string } }) =>
    setDep((f) => ({ ...f, [field]: e.target.value }));

  return (
    <section className="edit-panel" data-testid="edit-panel">
      <div className="edit-panel-head">
        <h2>Edit the graph</h2>
        <span className="muted small">
          against revision <span className="mono">{constellation.revision}</span>; only tasks that have not started can
          change
        </span>
        <button type="button" className="icon" onClick={onClose} aria-label="Close the edit panel">
          ×
        </button>
      </div>
      <div className="edit-forms">
        <form
          className="edit-form"
          data-testid="add-task-form"
          onSubmit={(e) => {
            e.preventDefault();
            send(addTaskOperation(task), `add task ${task.id.trim()}`, () => setTask(EMPTY_ADD_TASK));
          }}
        >
          <h3>Add a task</h3>
          <label>
            id
            <input value={task.id} onChange={setT('id')} placeholder="e.g. package" data-testid="add-task-id" />
          </label>
          <label>
            name
            <input value={task.name} onChange={setT('name')} placeholder="optional" />
          </label>
          <label className="wide">
            run
            <input
              value={task.command}
              onChange={setT('command')}
              placeholder="shell command, e.g. echo done"
              className="mono"
              data-testid="add-task-command"
            />
          </label>
          <label>
            labels
            <input
              value={task.labels}
              onChange={setT('labels')}
              placeholder="linux, gpu"
              data-testid="add-task-labels"
            />
          </label>
          <label>
            device
            <input value={task.device} onChange={setT('device')} placeholder="any" data-testid="add-task-device" />
          </label>
          <label>
            needs
            <input
              value={task.needs}
              onChange={setT('needs')}
              placeholder="task ids"
              list="edit-task-ids"
              data-testid="add-task-needs"
            />
          </label>
          <label>
            as
            <select value={task.needsKind} onChange={setT('needsKind')} data-testid="add-task-needs-kind">
              {KINDS.filter((k) => k !== 'condition').map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </label>
          <button
            type="submit"
            className="primary"
            disabled={busy || !task.id.trim() || !task.command.trim()}
            data-testid="add-task-submit"
          >
            Add task
          </button>
        </form>

        <form
          className="edit-form"
          data-testid="add-dependency-form"
          onSubmit={(e) => {
            e.preventDefault();
            send(addDependencyOperation(dep), `add dependency ${dep.from} → ${dep.to}`, () =>
              setDep(EMPTY_ADD_DEPENDENCY),
            );
          }}
        >
          <h3>Add a dependency</h3>
          <label>
            from
            <select value={dep.from} onChange={setD('from')} data-testid="add-dep-from">
              <option value="">–</option>
              {taskIds.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </label>
          <label>
            to
            <select value={dep.to} onChange={setD('to')} data-testid="add-dep-to">
              <option value="">–</option>
              {taskIds.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </label>
          <label>
            kind
            <select value={dep.kind} onChange={setD('kind')} data-testid="add-dep-kind">
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </label>
          {dep.kind === 'condition' && (
            <label className="wide">
              if
              <input
                value={dep.condition}
                onChange={setD('condition')}
                placeholder={`tasks.${dep.from || 'a'}.outputs.x == 'yes'`}
                className="mono"
                data-testid="add-dep-condition"
              />
            </label>
          )}
          <button
            type="submit"
            className="primary"
            disabled={busy || !dep.from || !dep.to || (dep.kind === 'condition' && !dep.condition.trim())}
            data-testid="add-dep-submit"
          >
            Add dependency
          </button>
        </form>
      </div>
      <datalist id="edit-task-ids">
        {taskIds.map((id) => (
          <option key={id} value={id} />
        ))}
      </datalist>
      {done && (
        <div className="note" data-testid="edit-accepted">
          {done}
        </div>
      )}
      {error && <ProblemBox key={answers} error={error} seq={answers} />}
    </section>
  );
}
