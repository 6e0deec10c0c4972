import { useCallback, useState } from 'react';
import { call, keyrite } from './api';
import { useLoad } from './hooks';
import { NavContext, type Route } from './nav';
import { usePresentationMode } from './presentation';
import { Ceremony } from '../screens/Ceremony';
import { Home } from '../screens/Home';
import { HsmInfo } from '../screens/HsmInfo';
import { Inventory } from '../screens/Inventory';
import { Settings } from '../screens/Settings';
import { StartCeremony } from '../screens/StartCeremony';
import { Transcript } from '../screens/Transcript';
import { Verify } from '../screens/Verify';

const NAV: Array<{ label: string; route: Route }> = [
  { label: 'Ceremonies', route: { screen: 'home' } },
  { label: 'Verify a bundle', route: { screen: 'verify' } },
  { label: 'Key inventory', route: { screen: 'inventory' } },
  { label: 'HSM', route: { screen: 'hsm' } },
  { label: 'Settings', route: { screen: 'settings' } },
];

export function App(): React.JSX.Element {
  // Every navigation mounts the screen afresh (even to the same screen): no stale form or error.
  const [{ route, visit }, setNav] = useState<{ route: Route; visit: number }>({ route: { screen: 'home' }, visit: 0 });
  const [presentation, togglePresentation, privateScreen] = usePresentationMode();
  const info = useLoad(() => call(keyrite().app.info()));
  const navigate = useCallback((r: Route) => setNav((n) => ({ route: r, visit: n.visit + 1 })), []);
  const section = route.screen === 'start' || route.screen === 'ceremony' || route.screen === 'transcript' ? 'home' : route.screen;

  return (
    <NavContext.Provider value={navigate}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <p className="brand">Keyrite</p>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.route.screen}>
                <button type="button" className="nav-button" aria-current={section === n.route.screen ? 'page' : undefined} onClick={() => navigate(n.route)}>
                  {n.label}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <div className="header-status">
          {info.data?.hsm && (
            <span className={`badge ${info.data.hsm.demo ? 'demo' : 'token'}`} title={info.data.hsm.modulePath}>
              {info.data.hsm.demo ? 'Demo token' : `Token ${info.data.hsm.tokenLabel}`}
            </span>
          )}
          {info.data?.hsmProblem && <span className="badge aborted">HSM not configured</span>}
          <button
            type="button"
            className="secondary small"
            aria-pressed={presentation}
            disabled={privateScreen}
            title={privateScreen ? 'Off while a share is on screen' : undefined}
            onClick={togglePresentation}
          >
            {privateScreen ? 'Presentation off' : 'Presentation (P)'}
          </button>
        </div>
      </header>
      {info.data?.hsm?.demo && (
        <p className="demo-banner app-demo-banner" role="note">
          DEMO TOKEN — keys, certificates and shares made here are for rehearsal only
        </p>
      )}
      <main id="main" className={`screen screen-${route.screen}`}>
        <Screen key={visit} route={route} />
      </main>
      <footer className="app-footer">
        Keyrite {info.data?.version ?? ''} · data in {info.data?.home ?? '…'} · keyboard: Tab moves, Enter confirms, P or F5 toggles presentation mode
      </footer>
    </NavContext.Provider>
  );
}

function Screen({ route }: { route: Route }): React.JSX.Element {
  switch (route.screen) {
    case 'home':
      return <Home />;
    case 'start':
      return <StartCeremony script={route.script} />;
    case 'ceremony':
      return <Ceremony id={route.id} />;
    case 'transcript':
      return <Transcript id={route.id} />;
    case 'verify':
      return <Verify initialDir={route.dir} />;
    case 'inventory':
      return <Inventory />;
    case 'hsm':
      return <HsmInfo />;
    case 'settings':
      return <Settings />;
  }
}
