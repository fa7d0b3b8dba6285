import { useEffect, useRef } from 'react';
import { hub } from './api/event-hub.js';
import { ConstellationView } from './components/constellation-view.js';
import { DevicesView } from './components/devices-view.js';
import { Sidebar } from './components/sidebar.js';
import { SubmitView } from './components/submit-view.js';
import { TopBar } from './components/top-bar.js';
import { useConstellation } from './state/use-constellation.js';
import { useConstellationList } from './state/use-constellation-list.js';
import { useDevices } from './state/use-devices.js';
import { PermissionsContext, useWhoAmI } from './state/permissions.js';
import { useRoute } from './state/use-route.js';
import { summaryOf } from './state/summary.js';

export function App() {
  const [route, navigate] = useRoute();
  const list = useConstellationList();
  const devices = useDevices();
  const selectedId = route.view === 'constellation' ? route.id : null;
  const handle = useConstellation(selectedId);
  const permissions = useWhoAmI();
  const lastId = useRef<string | null>(null);
  if (selectedId) lastId.current = selectedId;

  useEffect(() => {
    hub.start();
    return () => hub.stop();
  }, []);

  // Land on the newest constellation instead of an empty page.
  const newest = list.items[0]?.id;
  useEffect(() => {
    if (route.view === 'home' && newest) navigate({ view: 'constellation', id: newest, tab: 'graph' });
  }, [route.view, newest, navigate]);

  return (
    <PermissionsContext.Provider value={permissions}>
      <div className="app">
        <TopBar route={route} navigate={navigate} lastConstellationId={lastId.current ?? newest ?? null} />
        <div className="body">
          <Sidebar
            items={list.items}
            error={list.error}
            selectedId={selectedId}
            onSelect={(id) =>
              navigate({
                view: 'constellation',
                id,
                tab: route.view === 'constellation' ? route.tab : 'graph',
              })
            }
          />
          {route.view === 'constellation' && (
            <ConstellationView
              handle={handle}
              devices={devices.byId}
              tab={route.tab}
              selectedTaskId={route.taskId ?? null}
              onTab={(tab) => navigate({ ...route, tab })}
              onSelectTask={(taskId) => {
                const { taskId: _old, ...rest } = route;
                navigate(taskId ? { ...rest, taskId } : rest);
              }}
            />
          )}
          {route.view === 'devices' && <DevicesView devices={devices} />}
          {route.view === 'submit' && (
            <SubmitView
              onSubmitted={(c) => {
                list.upsert(summaryOf(c));
                navigate({ view: 'constellation', id: c.id, tab: 'graph' });
              }}
            />
          )}
          {route.view === 'home' && (
            <main className="main center">
              <div className="empty">
                No constellation yet.{' '}
                <button type="button" className="link" onClick={() => navigate({ view: 'submit' })}>
                  Submit one
                </button>
              </div>
            </main>
          )}
        </div>
      </div>
    </PermissionsContext.Provider>
  );
}
