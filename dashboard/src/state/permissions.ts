// What the signed-in caller may do, from GET /v1/whoami. The server enforces
// roles either way; the page uses this to disable steering controls for a
// viewer and to say why, instead of letting every click end in a 403.

import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import type { Role, WhoAmI } from '../api/types.js';
import { useHubEvent } from './use-hub.js';

export interface Permissions {
  /** null until known (or when the server is too old to say). */
  role: Role | null;
  authRequired: boolean;
  /** Whether steering controls (submit, edit, cancel, retry, skip, drain...) are enabled. */
  canSteer: boolean;
  /** Why steering is off, shown beside or on the disabled controls. */
  reason: string | null;
}

export const VIEWER_REASON = 'Read-only: your API token has the viewer role. Steering needs an operator token.';
const NO_TOKEN_REASON = 'Enter an API token to steer.';

/** Full rights: the default outside a provider, and for servers without /v1/whoami (they still enforce roles). */
export const STEER_ALLOWED: Permissions = { role: null, authRequired: false, canSteer: true, reason: null };

/** Until the server answers, nothing is enabled that a viewer could not use (no flash of live buttons). */
export const PERMISSIONS_LOADING: Permissions = { role: null, authRequired: false, canSteer: false, reason: null };

export function permissionsFor(who: WhoAmI): Permissions {
  const canSteer = who.role === 'operator' || who.role === 'admin';
  return { role: who.role, authRequired: who.authRequired, canSteer, reason: canSteer ? null : VIEWER_REASON };
}

/** What to assume when /v1/whoami failed. */
export function permissionsAfterError(err: unknown): Permissions {
  if (err instanceof ApiError && err.status === 401) {
    return { role: null, authRequired: true, canSteer: false, reason: NO_TOKEN_REASON };
  }
  return STEER_ALLOWED;
}

export const PermissionsContext = createContext<Permissions>(STEER_ALLOWED);

export function usePermissions(): Permissions {
  return useContext(PermissionsContext);
}

/** Asks the server once, and again after a reconnect (the orchestrator may have restarted with other settings). */
export function useWhoAmI(): Permissions {
  const [perm, setPerm] = useState<Permissions>(PERMISSIONS_LOADING);
  const refresh = useCallback(() => {
    api
      .whoami()
      .then((who) => setPerm(permissionsFor(who)))
      .catch((err: unknown) => setPerm(permissionsAfterError(err)));
  }, []);
  useEffect(refresh, [refresh]);
  useHubEvent('resync', refresh);
  return perm;
}
