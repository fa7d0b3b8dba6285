import { useState, useSyncExternalStore } from 'react';
import { getToken, isAuthRequired, setToken, subscribeAuth } from '../api/token-store.js';
import { usePermissions } from '../state/permissions.js';
import { useConnectionState } from '../state/use-hub.js';
import type { Route } from '../state/use-route.js';

interface Props {
  route: Route;
  navigate: (r: Route) => void;
  lastConstellationId: string | null;
}

const CONNECTION_TEXT = {
  live: 'live',
  connecting: 'connecting…',
  reconnecting: 'reconnecting…',
} as const;

export function TopBar({ route, navigate, lastConstellationId }: Props) {
  const conn = useConnectionState();
  const authRequired = useSyncExternalStore(subscribeAuth, isAuthRequired);
  const perm = usePermissions();
  return (
    <header className="topbar">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          ◎
        </span>
        Orrery
      </div>
      <nav>
        <button
          type="button"
          className={route.view === 'constellation' || route.view === 'home' ? 'nav active' : 'nav'}
          onClick={() =>
            navigate(
              lastConstellationId
                ? {
                    view: 'constellation',
                    id: lastConstellationId,
                    tab: 'graph',
                  }
                : { view: 'home' },
            )
          }
        >
          Constellations
        </button>
        <button
          type="button"
          className={route.view === 'devices' ? 'nav active' : 'nav'}
          onClick={() => navigate({ view: 'devices' })}
          data-testid="nav-devices"
        >
          Devices
        </button>
        <button
          type="button"
          className={route.view === 'submit' ? 'nav active' : 'nav'}
          onClick={() => navigate({ view: 'submit' })}
          data-testid="nav-submit"
        >
          Submit
        </button>
      </nav>
      <div className="topbar-right">
        {perm.role && perm.authRequired && (
          <span
            className={perm.canSteer ? 'role-chip' : 'role-chip read-only'}
            data-testid="role"
            data-role={perm.role}
            title={perm.reason ?? `Your API token has the ${perm.role} role`}
          >
            {perm.role}
            {!perm.canSteer && ' · read-only'}
          </span>
        )}
        {(authRequired || getToken()) && <TokenField authRequired={authRequired} />}
        <span className={`conn conn-${conn}`} data-testid="connection-state" data-state={conn}>
          <span className="conn-dot" />
          {CONNECTION_TEXT[conn]}
        </span>
      </div>
    </header>
  );
}

/** Shown once the server answered 401 (or a token is stored): enter or clear the API token. */
function TokenField({ authRequired }: { authRequired: boolean }) {
  const [value, setValue] = useState('');
  const has = getToken() !== null;
  const save = () => {
    setToken(value);
    setValue('');
    // Everything on screen (and the event stream) was opened without the token; start over cleanly.
    window.location.reload();
  };
  if (has && !authRequired) {
    return (
      <button
        type="button"
        className="link small"
        onClick={() => {
          setToken(null);
          window.location.reload();
        }}
      >
        forget token
      </button>
    );
  }
  return (
    <form
      className={authRequired ? 'token-form needed' : 'token-form'}
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <label htmlFor="api-token" className="small">
        {authRequired ? (has ? 'token rejected:' : 'API token required:') : 'API token:'}
      </label>
      <input
        id="api-token"
        type="password"
        value={value}
        autoComplete="off"
        placeholder="paste token"
        onChange={(e) => setValue(e.target.value)}
        data-testid="token-input"
      />
      <button type="submit" disabled={!value.trim()}>
        Save
      </button>
    </form>
  );
}
