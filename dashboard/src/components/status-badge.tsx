import type { ConstellationStatus, DeviceStatus, TaskStatus } from '../api/types.js';

type AnyStatus = TaskStatus | ConstellationStatus | DeviceStatus | string;

/** A pill coloured by status; the colour rules live in styles.css under .status-*. */
export function StatusBadge({ status, testId }: { status: AnyStatus; testId?: string }) {
  return (
    <span className={`badge status-${status}`} data-testid={testId} data-status={status}>
      {status.replace('_', ' ')}
    </span>
  );
}
