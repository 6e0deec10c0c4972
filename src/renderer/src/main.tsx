import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { Witness } from './screens/Witness';
import './styles/app.css';

// The witness window loads the same page with #witness: a read-only view for the room.
const witness = window.location.hash === '#witness';
if (witness) document.documentElement.classList.add('presentation', 'witness-mode');

createRoot(document.getElementById('root')!).render(<StrictMode>{witness ? <Witness /> : <App />}</StrictMode>);
