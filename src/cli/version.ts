declare const __KEYRITE_VERSION__: string | undefined;

/** package.json's version, put in by the bundler; KEYRITE_VERSION overrides it (release builds, tests). */
export const KEYRITE_VERSION: string = process.env.KEYRITE_VERSION ?? (typeof __KEYRITE_VERSION__ === 'string' ? __KEYRITE_VERSION__ : '0.0.0-dev');
