// Electron main process: see the desktop issue. Kept thin; the core does the work.
export {};
