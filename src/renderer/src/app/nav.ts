import { createContext, useContext } from 'react';

export type Route =
  | { screen: 'home' }
  | { screen: 'start'; script: string }
  | { screen: 'ceremony'; id: string }
  | { screen: 'transcript'; id: string }
  | { screen: 'verify'; dir?: string }
  | { screen: 'inventory' }
  | { screen: 'hsm' }
  | { screen: 'settings' };

export const NavContext = createContext<(route: Route) => void>(() => undefined);

export function useNavigate(): (route: Route) => void {
  return useContext(NavContext);
}
