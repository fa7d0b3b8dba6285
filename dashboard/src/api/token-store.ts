// The API token lives in localStorage so a reload keeps it. Listeners learn
// when a request was refused (401) so the header can ask for a token.

const STORAGE_KEY = 'orrery.apiToken';

type Listener = () => void;
const listeners = new Set<Listener>();
let authRequired = false;

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // storage disabled (privacy mode): keep the token in memory only
  }
}

let memoryToken: string | null = storage()?.getItem(STORAGE_KEY) ?? null;

export function getToken(): string | null {
  return memoryToken;
}

export function setToken(token: string | null): void {
  memoryToken = token && token.trim() !== '' ? token.trim() : null;
  const s = storage();
  if (memoryToken) s?.setItem(STORAGE_KEY, memoryToken);
  else s?.removeItem(STORAGE_KEY);
  authRequired = false;
  notify();
}

export function isAuthRequired(): boolean {
  return authRequired;
}

export function markAuthRequired(): void {
  if (authRequired) return;
  authRequired = true;
  notify();
}

export function subscribeAuth(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const l of listeners) l();
}
