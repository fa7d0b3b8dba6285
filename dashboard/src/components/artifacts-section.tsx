import { useEffect, useState } from 'react';
import type { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import type { ArtifactRecord, TaskState } from '../api/types.js';
import { formatBytes, shortDigest } from '../format/bytes.js';

interface Props {
  constellationId: string;
  taskId: string;
  task: TaskState;
}

/** The files a task produced (downloadable) and the ones it receives from its producers. */
export function ArtifactsSection({ constellationId, taskId, task }: Props) {
  const declared = task.spec.artifacts ?? {};
  const inputs = Object.entries(task.spec.artifactInputs ?? {});
  const fetched = useListedArtifacts(constellationId, taskId, task);
  // Live task events carry the artifacts; the listing covers a constellation loaded without them.
  const produced = Object.entries(task.artifacts ?? fetched ?? {});
  if (Object.keys(declared).length === 0 && inputs.length === 0 && produced.length === 0) return null;
  return (
    <section data-testid="task-artifacts">
      <h3>Artifacts</h3>
      {produced.length === 0 ? (
        Object.keys(declared).length > 0 && (
          <div className="muted" data-testid="artifacts-none">
            {task.status === 'succeeded' ? 'none stored' : `none yet (declares ${Object.keys(declared).join(', ')})`}
          </div>
        )
      ) : (
        <table className="table artifacts">
          <tbody>
            {produced.map(([name, a]) => (
              <ProducedRow key={name} name={name} record={a} fileName={downloadName(name, declared[name])} />
            ))}
          </tbody>
        </table>
      )}
      {inputs.length > 0 && (
        <dl className="kv" data-testid="artifact-inputs">
          {inputs.map(([dest, src]) => (
            <div key={dest} className="kv-row" data-testid={`artifact-input-${dest}`}>
              <dt>
                <code>{dest}</code>
              </dt>
              <dd>
                ← <code>{`tasks.${src.task}.artifacts.${src.artifact}`}</code>
              </dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

function ProducedRow({ name, record, fileName }: { name: string; record: ArtifactRecord; fileName: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The download route needs the bearer token, which a plain link cannot send:
  // fetch with it, then hand the bytes to the browser through a blob URL.
  const download = () => {
    setBusy(true);
    setError(null);
    api
      .artifactBlob(record.digest)
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        const a = document.createElement('a');
        a.href = url;
        a.download = fileName;
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
      })
      .catch((err: ApiError) => setError(`${err.code ?? 'ERROR'}: ${err.message}`))
      .finally(() => setBusy(false));
  };
  return (
    <tr data-testid={`artifact-${name}`}>
      <td>{name}</td>
      <td className="mono" data-testid="artifact-size" title={`${record.size} bytes`}>
        {formatBytes(record.size)}
      </td>
      <td className="mono" data-testid="artifact-digest" title={record.digest}>
        {shortDigest(record.digest)}
      </td>
      <td>
        <button type="button" className="link" data-testid="artifact-download" disabled={busy} onClick={download}>
          {busy ? 'downloading…' : 'download'}
        </button>
        {error && (
          <div className="inline-error" data-testid="artifact-download-error">
            {error}
          </div>
        )}
      </td>
    </tr>
  );
}

/** The declared file's own name when it is a plain path, else the artifact's name. */
export function downloadName(name: string, pattern: string | undefined): string {
  if (!pattern || /[*?[\]{}]/.test(pattern)) return name;
  return pattern.split(/[\\/]/).pop() || name;
}

/**
 * GET .../artifacts?task= for a succeeded task that declares artifacts, again
 * after each new attempt (a retry produces new blobs).
 */
function useListedArtifacts(
  constellationId: string,
  taskId: string,
  task: TaskState,
): Record<string, ArtifactRecord> | null {
  const [listed, setListed] = useState<Record<string, ArtifactRecord> | null>(null);
  const wanted = task.status === 'succeeded' && Object.keys(task.spec.artifacts ?? {}).length > 0;
  const attempts = task.attempts.length;
  // biome-ignore lint/correctness/useExhaustiveDependencies: attempts is a trigger (a retry stores new blobs)
  useEffect(() => {
    setListed(null);
    if (!wanted) return;
    let cancelled = false;
    api
      .artifacts(constellationId, taskId)
      .then(({ items }) => {
        if (!cancelled) setListed(Object.fromEntries(items.map((i) => [i.name, { digest: i.digest, size: i.size }])));
      })
      .catch(() => {
        // Older servers have no artifact routes: the section shows what live events carried.
      });
    return () => {
      cancelled = true;
    };
  }, [constellationId, taskId, wanted, attempts]);
  return listed;
}
