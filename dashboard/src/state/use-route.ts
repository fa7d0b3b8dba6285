import { useCallback, useSyncExternalStore } from 'react';

// Hash routes keep deep links working under any static server with no
// rewrite rules: #/c/<id>[/t/<task>], #/devices, #/submit.

export type ConstellationTab = 'graph' | 'timeline' | 'history';

export type Route =
  | { view: 'home' }
  | {
      view: 'constellation';
      id: string;
      taskId?: string;
      tab: ConstellationTab;
    }
  | { view: 'devices' }
  | { view: 'submit' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'devices') return { view: 'devices' };
  if (parts[0] === 'submit') return { view: 'submit' };
  if (parts[0] === 'c' && parts[1]) {
    const tab: ConstellationTab = parts[2] === 'timeline' || parts[2] === 'history' ? parts[2] : 'graph';
    const ti = parts.indexOf('t');
    const taskId = ti >= 2 ? parts[ti + 1] : undefined;
    return {
      view: 'constellation',
      id: parts[1],
      tab,
      ...(taskId ? { taskId } : {}),
    };
  }
  return { view: 'home' };
}

export function routeHash(route: Route): string {
  const e = encodeURIComponent;
  switch (route.view) {
    case 'devices':
      return '#/devices';
    case 'submit':
      return '#/submit';
    case 'constellation': {
      let h = `#/c/${e(route.id)}`;
      if (route.tab !== 'graph') h += `/${route.tab}`;
      if (route.taskId) h += `/t/${e(route.taskId)}`;
      return h;
    }
    default:
      return '#/';
  }
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

export function useRoute(): [Route, (r: Route) => void] {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  const navigate = useCallback((r: Route) => {
    const h = routeHash(r);
    if (window.location.hash !== h) window.location.hash = h;
  }, []);
  return [parseRoute(hash), navigate];
}
